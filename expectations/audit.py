"""Audits run before a range is published: a suite's gate, and the accounting identity.

Both Dagster assets and the spark-submit entry points audit through these functions; each
audit is a plain record that says whether it blocks publishing and why.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyspark.sql import DataFrame

from expectations import gate
from expectations.accounting import DayAccount, daily_accounts, unbalanced
from expectations.context import engine_of, quality_context
from jobs.io import export
from jobs.settings import Settings

ACCOUNTING_CHECK = "accounts_for_every_bronze_row"


def suite_check_names(suite: str) -> tuple[str, str]:
    """The blocking and the warning check of a suite, as Dagster shows them."""
    return f"passes_{suite}_suite", f"passes_{suite}_warnings"


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check's result, free of Dagster so any process can report it.

    ``markdown`` and ``urls`` name the metadata keys to show as Markdown and as links.
    """

    table: str
    check_name: str
    passed: bool
    blocking: bool
    description: str | None
    metadata: dict[str, Any]
    markdown: tuple[str, ...] = ()
    urls: tuple[str, ...] = field(default_factory=tuple)

    def plain_metadata(self) -> dict[str, dict[str, Any]]:
        """The metadata as ``{key: {"raw_value", "type"}}`` (Dagster Pipes' plain form)."""
        kinds = {**dict.fromkeys(self.markdown, "md"), **dict.fromkeys(self.urls, "url")}
        return {
            key: {"raw_value": str(value) if key in kinds else value,
                  "type": kinds.get(key, "__infer__")}
            for key, value in self.metadata.items()
        }  # fmt: skip


class Audit(Protocol):
    """Anything that judges a build before it is published."""

    def blocking_failures(self) -> list[str]:
        """Why the build must not be published (empty when it may)."""
        ...

    def outcomes(self) -> list[CheckOutcome]:
        """Its asset-check outcomes."""
        ...


@dataclass(frozen=True)
class SuiteAudit:
    """A suite's result on one table's range, with its Data Docs page."""

    table: str
    report: gate.GateReport
    seconds: float
    rows: int
    engine: str  # what validated the rows: "spark", or "pandas" for a copy on the driver

    def blocking_failures(self) -> list[str]:
        return [f"{self.table}: {o.describe()}" for o in self.report.failed(blocking=True)]

    def outcomes(self) -> list[CheckOutcome]:
        """The suite's blocking check and its warning check."""
        report = self.report
        results = []
        for blocking, name in zip((True, False), suite_check_names(report.suite), strict=True):
            mine = [o for o in report.outcomes if o.blocking == blocking]
            failed = [o for o in mine if not o.success]
            results.append(
                CheckOutcome(
                    table=self.table,
                    check_name=name,
                    passed=not failed,
                    blocking=blocking,
                    description="; ".join(o.describe() for o in failed) or None,
                    metadata={
                        "expectations": len(mine),
                        "failed": len(failed),
                        "results": "\n".join(f"- {o.describe()}" for o in mine) or "none",
                        "data_docs": report.page or "",
                        "audit_seconds": self.seconds if blocking else 0.0,  # counted once
                        "rows_validated": self.rows,
                        "validated_with": self.engine,
                        **({"range": f"{report.start}..{report.end}"} if report.start else {}),
                    },
                    markdown=("results",),
                    urls=("data_docs",),
                )
            )
        return results


@dataclass(frozen=True)
class SnapshotUnchanged:
    """A dimension whose landed snapshot is the one its table's newest commit merged: that
    snapshot passed its suite then, and nothing new is published now."""

    table: str
    suite: str
    fingerprint: str

    def blocking_failures(self) -> list[str]:
        return []

    def outcomes(self) -> list[CheckOutcome]:
        """Both checks of the suite, passed, saying why nothing was validated."""
        note = (
            "not validated again: the table's newest commit merged this snapshot "
            f"({self.fingerprint})"
        )
        return [
            CheckOutcome(
                table=self.table,
                check_name=name,
                passed=True,
                blocking=blocking,
                description=note,
                metadata={"unchanged_snapshot": self.fingerprint, "audit_seconds": 0.0},
            )
            for blocking, name in zip((True, False), suite_check_names(self.suite), strict=True)
        ]


@dataclass(frozen=True)
class AccountingAudit:
    """Rows per day in bronze, silver and quarantine for one range."""

    table: str
    accounts: list[DayAccount]
    seconds: float  # what it added to the build's time (it runs beside the suite)
    elapsed: float | None = None  # its own time, when it ran beside another audit

    def broken(self) -> list[DayAccount]:
        return unbalanced(self.accounts)

    def blocking_failures(self) -> list[str]:
        return [
            f"{self.table}: {a.day}: bronze {a.bronze:,} != silver {a.silver:,} "
            f"+ quarantined {a.quarantined:,}"
            for a in self.broken()[:20]
        ]

    def outcomes(self) -> list[CheckOutcome]:
        """The accounting check (blocking)."""
        rows = self.blocking_failures()
        accounts = self.accounts
        return [
            CheckOutcome(
                table=self.table,
                check_name=ACCOUNTING_CHECK,
                passed=not rows,
                blocking=True,
                description="; ".join(rows) if rows else None,
                metadata={
                    "days": len(accounts),
                    "days_unbalanced": len(self.broken()),
                    "bronze_rows": sum(a.bronze for a in accounts),
                    "silver_rows": sum(a.silver for a in accounts),
                    "quarantined_rows": sum(a.quarantined for a in accounts),
                    "unbalanced_days": "\n".join(f"- {r}" for r in rows) or "none",
                    "audit_seconds": self.seconds,
                    **({"elapsed_beside_suite_seconds": self.elapsed} if self.elapsed else {}),
                },
                markdown=("unbalanced_days",),
            )
        ]


def audit_suite(
    table: str,
    suite: str,
    df: DataFrame,
    settings: Settings,
    run_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rows: int | None = None,
) -> SuiteAudit:
    """Validate ``df`` (cached by the caller) through the suite's checkpoint: the result is
    stored and its Data Docs page built in the profile's GX project. ``rows``: the frame's
    count, when the caller counted it (and so filled its cache) already.

    A frame of at most ``[quality] pandas_max_rows`` rows (a day, a month, a dimension) is
    validated as a pandas copy on the driver, where the same suite takes hundredths of a
    second instead of some twenty Spark queries; larger ones by Spark. Both engines give
    the same outcomes (``tests/expectations/test_gate.py`` compares them on every suite)."""
    if rows is None:
        rows = df.count()  # fill the cache now: the write reuses it; only the audit is timed
    began = time.monotonic()
    data = export.to_pandas(df) if validated_on_driver(rows, settings) else df
    report = gate.validate(quality_context(settings), data, suite, run_id, start, end)
    seconds = round(time.monotonic() - began, 2)
    return SuiteAudit(table, report, seconds, rows, engine_of(data))


def validated_on_driver(rows: int, settings: Settings) -> bool:
    """Whether a gate validates a frame of ``rows`` rows as a pandas copy on the driver."""
    return rows <= settings.quality.pandas_max_rows


def audit_accounts_beside(
    suite: Callable[[], SuiteAudit],
    table: str,
    bronze: DataFrame,
    good: DataFrame,
    bad: DataFrame,
    date_column: str,
    beside: bool = True,
) -> tuple[AccountingAudit, SuiteAudit]:
    """Bronze rows = silver rows + quarantined rows, for every day of the range, and
    ``suite``'s audit.

    ``beside``: the identity is counted on a thread of its own while the suite runs, for a
    suite that Spark validates: most of its queries are small and leave a core idle, and the
    identity is a few scans (bronze's above all). The identity's ``seconds`` are then those
    it added to the suite's, ``elapsed`` its own. A suite validated on the driver (a pandas
    copy) holds the interpreter, and the two run one after the other."""
    began = time.monotonic()
    if not beside:
        accounts, seconds = _timed_accounts(bronze, good, bad, date_column)
        return AccountingAudit(table, accounts, seconds), suite()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="accounting") as pool:
        counting = pool.submit(_timed_accounts, bronze, good, bad, date_column)
        judged = suite()
        accounts, elapsed = counting.result()
    added = max(time.monotonic() - began - judged.seconds, 0.0)
    return AccountingAudit(table, accounts, round(added, 2), elapsed), judged


def _timed_accounts(
    bronze: DataFrame, good: DataFrame, bad: DataFrame, date_column: str
) -> tuple[list[DayAccount], float]:
    began = time.monotonic()
    accounts = daily_accounts(bronze, good, bad, date_column)
    return accounts, round(time.monotonic() - began, 2)
