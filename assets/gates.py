"""Write-audit-publish in Dagster: a build's audits become check results, then outputs.

An asset gets a :class:`jobs.builds.Build` (its frames and audits), and :func:`publish`
yields every check result (the UI shows each with its statistics) and then the outputs,
only when no blocking check failed. A blocked range is therefore never written: readers
keep seeing the previous Delta version, and the run fails so downstream assets do not run.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
)

from expectations.audit import AccountingAudit, SuiteAudit
from jobs.builds import Build

ACCOUNTING_CHECK = "accounts_for_every_bronze_row"


def asset_key(table: str) -> AssetKey:
    """The asset key of table ``<layer>/<name>``."""
    return AssetKey(table.split("/"))


def accounting_result(audit: AccountingAudit) -> AssetCheckResult:
    """Blocking: bronze rows = silver rows + quarantined rows for every day of the range."""
    rows = audit.blocking_failures()
    accounts = audit.accounts
    return AssetCheckResult(
        asset_key=asset_key(audit.table),
        check_name=ACCOUNTING_CHECK,
        passed=not rows,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(rows) if rows else None,
        metadata={
            "days": len(accounts),
            "days_unbalanced": len(audit.broken()),
            "bronze_rows": sum(a.bronze for a in accounts),
            "silver_rows": sum(a.silver for a in accounts),
            "quarantined_rows": sum(a.quarantined for a in accounts),
            "unbalanced_days": MetadataValue.md("\n".join(f"- {r}" for r in rows) or "none"),
            "audit_seconds": audit.seconds,
        },
    )


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


def suite_results(audit: SuiteAudit) -> list[AssetCheckResult]:
    """The blocking and the warning check result of one suite audit."""
    report = audit.report
    key = asset_key(audit.table)
    results = []
    for spec in suite_check_specs(key, report.suite):
        mine = [o for o in report.outcomes if o.blocking == spec.blocking]
        failed = [o for o in mine if not o.success]
        results.append(
            AssetCheckResult(
                asset_key=key,
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
                    "report": MetadataValue.url(audit.page.resolve().as_uri()),
                    "audit_seconds": audit.seconds if spec.blocking else 0.0,  # counted once
                    **({"range": f"{report.start}..{report.end}"} if report.start else {}),
                },
            )
        )
    return results


def publish(
    build: Build, output_names: dict[str, str] | None = None
) -> Iterator[AssetCheckResult | Output]:
    """Yield the build's check results; then its outputs, unless a blocking check failed.

    ``output_names`` maps tables to a multi-asset's output names (single assets omit it).
    Cached frames are released after the last output is written.
    """
    results = [accounting_result(a) for a in build.accounts]
    for audit in build.suites:
        results += suite_results(audit)
    yield from results
    failures = build.blocking_failures()
    if failures:
        build.release()
        failed = [
            r.check_name for r in results if not r.passed and r.severity == AssetCheckSeverity.ERROR
        ]
        raise Failure(
            description="blocked before publishing; the tables keep their previous version:\n"
            + "\n".join(failures),
            metadata={"failed_checks": failed},
        )
    for table, df in build.outputs.items():
        yield Output(df, output_name=output_names[table]) if output_names else Output(df)
    build.release()
