"""The accounting identity: every bronze row of a day is in silver or in quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class DayAccount:
    day: dt.date
    bronze: int
    silver: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.bronze == self.silver + self.quarantined


def daily_accounts(
    bronze: DataFrame, silver: DataFrame, quarantined: DataFrame, date_column: str
) -> list[DayAccount]:
    """Rows per day in each of the three frames, computed in one Spark job."""

    def per_day(df: DataFrame, name: str) -> DataFrame:
        return df.groupBy(date_column).agg(F.count(F.lit(1)).alias(name))

    joined = (
        per_day(bronze, "bronze")
        .join(per_day(silver, "silver"), date_column, "full_outer")
        .join(per_day(quarantined, "quarantined"), date_column, "full_outer")
        .fillna(0)
        .orderBy(date_column)
    )
    return [
        DayAccount(r[date_column], int(r["bronze"]), int(r["silver"]), int(r["quarantined"]))
        for r in joined.collect()
    ]


def unbalanced(accounts: list[DayAccount]) -> list[DayAccount]:
    """The days where rows went missing or appeared."""
    return [a for a in accounts if not a.balanced]
