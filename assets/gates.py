"""Write-audit-publish: audit a range before it is written, publish only if it passes.

An asset computes its frame, audits it here, yields every check result (the UI shows each
with its statistics), and yields its outputs only when no blocking check failed. A
blocked range is therefore never written: readers keep seeing the previous Delta version,
and the run fails so downstream assets do not run.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, Failure, MetadataValue

from expectations.accounting import DayAccount, unbalanced

ACCOUNTING_CHECK = "accounts_for_every_bronze_row"


def accounting_result(asset: AssetKey, accounts: list[DayAccount]) -> AssetCheckResult:
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
