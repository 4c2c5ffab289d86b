"""The daily partitions of 2013 and how an asset reads its range."""

from __future__ import annotations

import datetime as dt

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition, TimeWindow

DAILY_2013 = DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")
# A range run (a backfill, or `lakehouse run`) is one Spark job per asset, not one per day.
SINGLE_RUN = BackfillPolicy.single_run()


def window_dates(window: TimeWindow) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a daily time window (its end is exclusive)."""
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def partition_dates(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the partitions this run materializes."""
    return window_dates(context.partition_time_window)
