"""Which days a run covers, read from its tags as Dagster sets them."""

import datetime as dt

import pytest

from assets.partitions import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, run_dates

DAY = dt.date(2013, 6, 15)


@pytest.mark.parametrize(
    ("tags", "days"),
    [
        ({RANGE_START_TAG: "2013-06-01", RANGE_END_TAG: "2013-06-15"}, (dt.date(2013, 6, 1), DAY)),
        ({PARTITION_TAG: "2013-06-15"}, (DAY, DAY)),  # a backfill's or the automation's run
        ({}, None),  # training, maintenance
        ({PARTITION_TAG: "carrier=UA"}, None),  # a partition of another kind
    ],
)
def test_a_run_covers_the_days_its_tags_name(tags, days):
    assert run_dates(tags) == days
