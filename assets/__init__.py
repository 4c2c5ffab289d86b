"""Dagster definitions of the flights lakehouse: assets, resources, the CLI."""

import warnings

from dagster import BetaWarning

# BackfillPolicy is marked beta; it is the documented way to make a range one run.
warnings.filterwarnings("ignore", category=BetaWarning)
