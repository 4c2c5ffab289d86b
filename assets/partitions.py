"""The daily partitions of 2013 and how an asset reads its range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition, TimeWindow

DAILY_2013 = DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")
# A range run (a backfill, or `lakehouse run`) is one Spark job per asset, not one per day.
SINGLE_RUN = BackfillPolicy.single_run()
# The run tags that make one run cover a partition range (what a single-run backfill from
# the UI sets), and the tag of a run of one partition (a backfill's or automation's run).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def window_dates(window: TimeWindow) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a daily time window (its end is exclusive)."""
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def partition_dates(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the partitions this run materializes."""
    return window_dates(context.partition_time_window)


def run_dates(tags: Mapping[str, str]) -> tuple[dt.date, dt.date] | None:
    """First and last day of the daily partitions a run with ``tags`` covers (``None``: the
    run is not for days, e.g. training)."""
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if not (first and last):
        first = last = tags.get(PARTITION_TAG)
    if not (first and last):
        return None
    try:
        return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:  # a partition of another kind
        return None
