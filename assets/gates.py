"""Write-audit-publish: audit a range before it is written, publish only if it passes.

An asset computes its frame, audits it here, yields every check result (the UI shows each
with its statistics), and yields its outputs only when no blocking check failed. A
blocked range is therefore never written: readers keep seeing the previous Delta version,
and the run fails so downstream assets do not run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
)
from pyspark.sql import DataFrame

from expectations import gate
from expectations.accounting import DayAccount, unbalanced
from expectations.report import publish
from jobs.settings import Settings

ACCOUNTING_CHECK = "accounts_for_every_bronze_row"


def accounting_result(
    asset: AssetKey, accounts: list[DayAccount], seconds: float = 0.0
) -> AssetCheckResult:
    """Blocking: bronze rows = silver rows + quarantined rows for every day of the range."""
    broken = unbalanced(accounts)
    rows = [
        f"{a.day}: bronze {a.bronze:,} != silver {a.silver:,} + quarantined {a.quarantined:,}"
        for a in broken[:20]
    ]
    return AssetCheckResult(
        asset_key=asset,
        check_name=ACCOUNTING_CHECK,
        passed=not broken,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(rows) if rows else None,
        metadata={
            "days": len(accounts),
            "days_unbalanced": len(broken),
            "bronze_rows": sum(a.bronze for a in accounts),
            "silver_rows": sum(a.silver for a in accounts),
            "quarantined_rows": sum(a.quarantined for a in accounts),
            "unbalanced_days": MetadataValue.md("\n".join(f"- {r}" for r in rows) or "none"),
            "audit_seconds": round(seconds, 2),
        },
    )


def stop_if_blocked(results: Sequence[AssetCheckResult], blocking: set[str]) -> None:
    """Fail the run, naming every failed blocking check, before anything is published."""
    failed = [r for r in results if not r.passed and r.check_name in blocking]
    if not failed:
        return
    lines = [f"{_name(r)}: {r.description}" for r in failed]
    raise Failure(
        description="blocked before publishing; the tables keep their previous version:\n"
        + "\n".join(lines),
        metadata={"failed_checks": [r.check_name for r in failed]},
    )


def _name(result: AssetCheckResult) -> str:
    asset = result.asset_key.to_user_string() if result.asset_key else ""
    return f"{asset}:{result.check_name}"


def suite_check_specs(asset: AssetKey, suite: str) -> list[AssetCheckSpec]:
    """A blocking check for the suite's critical expectations and a warning check for the rest."""
    return [
        AssetCheckSpec(
            f"passes_{suite}_suite",
            asset=asset,
            blocking=True,
            description=f"Blocking expectations of the {suite} suite, audited before publishing.",
        ),
        AssetCheckSpec(
            f"passes_{suite}_warnings",
            asset=asset,
            blocking=False,
            description=f"Warning expectations of the {suite} suite (never stop the run).",
        ),
    ]


def blocking_checks(asset: AssetKey, suite: str) -> set[str]:
    return {spec.name for spec in suite_check_specs(asset, suite) if spec.blocking}


def audit_suite(
    asset: AssetKey,
    suite: str,
    df: DataFrame,
    settings: Settings,
    run_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[AssetCheckResult]:
    """Validate ``df`` (cached by the caller) and turn the report into check results.

    The report is saved as JSON and as a page of the HTML quality report, linked from the
    checks' metadata.
    """
    df.count()  # fill the cache now: the write reuses it, so only the audit is timed below
    began = time.monotonic()
    report = gate.validate(df, suite, run_id, start, end)
    results_dir = Path(settings.storage.quality) / "results"
    gate.save(report, results_dir)
    page = publish(report, Path(settings.storage.quality) / "docs", results_dir)
    seconds = round(time.monotonic() - began, 2)  # validation, saving and the HTML page
    checks = []
    for spec in suite_check_specs(asset, suite):
        mine = [o for o in report.outcomes if o.blocking == spec.blocking]
        failed = [o for o in mine if not o.success]
        checks.append(
            AssetCheckResult(
                asset_key=asset,
                check_name=spec.name,
                passed=not failed,
                severity=AssetCheckSeverity.ERROR if spec.blocking else AssetCheckSeverity.WARN,
                description="; ".join(o.describe() for o in failed) or None,
                metadata={
                    "expectations": len(mine),
                    "failed": len(failed),
                    "results": MetadataValue.md(
                        "\n".join(f"- {o.describe()}" for o in mine) or "none"
                    ),
                    "report": MetadataValue.url(page.resolve().as_uri()),
                    "audit_seconds": seconds if spec.blocking else 0.0,  # counted once
                    **({"range": f"{start}..{end}"} if start else {}),
                },
            )
        )
    return checks
