"""Audits run before a range is published: a suite's gate, and the accounting identity.

Both Dagster assets and the spark-submit entry points audit through these functions; each
audit is a plain record that says whether it blocks publishing and why.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame

from expectations import gate
from expectations.accounting import DayAccount, daily_accounts, unbalanced
from expectations.report import publish
from jobs.settings import Settings


@dataclass(frozen=True)
class SuiteAudit:
    """A suite's report on one table's range, with its HTML page."""

    table: str
    report: gate.GateReport
    page: Path
    seconds: float

    def blocking_failures(self) -> list[str]:
        return [f"{self.table}: {o.describe()}" for o in self.report.failed(blocking=True)]


@dataclass(frozen=True)
class AccountingAudit:
    """Rows per day in bronze, silver and quarantine for one range."""

    table: str
    accounts: list[DayAccount]
    seconds: float

    def broken(self) -> list[DayAccount]:
        return unbalanced(self.accounts)

    def blocking_failures(self) -> list[str]:
        return [
            f"{self.table}: {a.day}: bronze {a.bronze:,} != silver {a.silver:,} "
            f"+ quarantined {a.quarantined:,}"
            for a in self.broken()[:20]
        ]


def audit_suite(
    table: str,
    suite: str,
    df: DataFrame,
    settings: Settings,
    run_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> SuiteAudit:
    """Validate ``df`` (cached by the caller) and save the report as JSON and an HTML page."""
    df.count()  # fill the cache now: the write reuses it, so only the audit is timed below
    began = time.monotonic()
    report = gate.validate(df, suite, run_id, start, end)
    results_dir = Path(settings.storage.quality) / "results"
    gate.save(report, results_dir)
    page = publish(report, Path(settings.storage.quality) / "docs", results_dir)
    return SuiteAudit(table, report, page, round(time.monotonic() - began, 2))


def audit_accounts(
    table: str, bronze: DataFrame, good: DataFrame, bad: DataFrame, date_column: str
) -> AccountingAudit:
    """Bronze rows = silver rows + quarantined rows, for every day of the range."""
    began = time.monotonic()
    accounts = daily_accounts(bronze, good, bad, date_column)
    return AccountingAudit(table, accounts, round(time.monotonic() - began, 2))
