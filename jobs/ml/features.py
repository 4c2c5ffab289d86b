"""Which columns of ``gold/flight_features`` the model may use, and the time-ordered split.

Only what is known before departure is a feature: the schedule, the route, the carrier, the
plane and the origin weather at the scheduled hour. Outcome columns (delays, actual times,
cancellation, air time) never are; :data:`OUTCOME_COLUMNS` names them so a test can prove
the fitted pipeline does not read them.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.transforms.gold import CARRIED_FEATURES

LABEL = "is_delayed_15"
DATE = "flight_date"
CATEGORICAL = ("carrier", "origin", "dest")
NUMERIC = (
    "month",
    "day_of_week",
    "sched_dep_hour_local",
    "sched_block_min",
    "distance_mi",
    "plane_age_years",
    *CARRIED_FEATURES,
)
FEATURES = (*CATEGORICAL, *NUMERIC)
# Known only after departure (or the label itself): never a feature.
OUTCOME_COLUMNS = (
    LABEL,
    "dep_delay_min",
    "arr_delay_min",
    "cancelled",
    "air_time_min",
    "dep_utc",
    "arr_utc",
)
# What identifies a scored flight in ml/delay_predictions.
IDENTITY = ("flight_date", "carrier", "flight", "origin", "dest", "sched_dep_utc")


def is_labelled() -> Column:
    """A flight with an outcome: it departed (cancelled flights have no departure delay)."""
    return F.col(LABEL).isNotNull()


def model_inputs(features: DataFrame) -> DataFrame:
    """The identity, the features as the pipeline expects them (numbers as doubles) and the
    label when present; every other column is dropped."""
    label = [F.col(LABEL).cast("double").alias(LABEL)] if LABEL in features.columns else []
    keys = [c for c in (*IDENTITY, *CATEGORICAL) if c not in NUMERIC]
    return features.select(
        *dict.fromkeys(keys),  # carrier, origin and dest are both identity and feature
        *(F.col(c).cast("double").alias(c) for c in NUMERIC),
        *label,
    )


def training_window(
    cutoff: dt.date, holdout_days: int
) -> tuple[tuple[None, dt.date], tuple[dt.date, dt.date]]:
    """Train on every day up to ``cutoff``; hold out the ``holdout_days`` after it."""
    first = cutoff + dt.timedelta(days=1)
    return (None, cutoff), (first, cutoff + dt.timedelta(days=holdout_days))


def split_by_date(
    features: DataFrame, cutoff: dt.date, holdout_days: int
) -> tuple[DataFrame, DataFrame]:
    """Labelled training rows (days up to ``cutoff``) and holdout rows (the days after)."""
    (_, train_end), (hold_start, hold_end) = training_window(cutoff, holdout_days)
    labelled = features.where(is_labelled())
    day = F.col(DATE)
    return (
        labelled.where(day <= F.lit(train_end)),
        labelled.where(day.between(F.lit(hold_start), F.lit(hold_end))),
    )
