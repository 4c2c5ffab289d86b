"""Write-audit-publish in Dagster: a build's audits become check results, then outputs.

An asset gets a :class:`jobs.builds.Build` (its frames and audits), and :func:`publish`
yields every check result (the UI shows each with its statistics) and then the outputs,
only when no blocking check failed. A blocked range is therefore never written: readers
keep seeing the previous Delta version, and the run fails so downstream assets do not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
)

from expectations.audit import ACCOUNTING_CHECK, CheckOutcome, suite_check_names
from jobs.builds import Build

__all__ = ["ACCOUNTING_CHECK", "asset_key", "check_result", "publish", "suite_check_specs"]


def asset_key(table: str) -> AssetKey:
    """The asset key of table ``<layer>/<name>``."""
    return AssetKey(table.split("/"))


def suite_check_specs(asset: AssetKey, suite: str) -> list[AssetCheckSpec]:
    """A blocking check for the suite's critical expectations and a warning check for the rest."""
    blocking, warning = suite_check_names(suite)
    return [
        AssetCheckSpec(
            blocking,
            asset=asset,
            blocking=True,
            description=f"Blocking expectations of the {suite} suite, audited before publishing.",
        ),
        AssetCheckSpec(
            warning,
            asset=asset,
            blocking=False,
            description=f"Warning expectations of the {suite} suite (never stop the run).",
        ),
    ]


def check_metadata(outcome: CheckOutcome) -> dict[str, Any]:
    """An outcome's metadata with Markdown and link values typed for the UI."""
    meta: dict[str, Any] = dict(outcome.metadata)
    for key in outcome.markdown:
        meta[key] = MetadataValue.md(str(meta[key]))
    for key in outcome.urls:
        meta[key] = MetadataValue.url(str(meta[key]))
    return meta


def check_result(outcome: CheckOutcome) -> AssetCheckResult:
    """The Dagster check result of one audit outcome."""
    return AssetCheckResult(
        asset_key=asset_key(outcome.table),
        check_name=outcome.check_name,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if outcome.blocking else AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata=check_metadata(outcome),
    )


def publish(
    build: Build, output_names: dict[str, str] | None = None
) -> Iterator[AssetCheckResult | Output]:
    """Yield the build's check results; then its outputs, unless a blocking check failed.

    ``output_names`` maps tables to a multi-asset's output names (single assets omit it).
    Cached frames are released after the last output is written.
    """
    outcomes = build.check_outcomes()
    yield from (check_result(o) for o in outcomes)
    failures = build.blocking_failures()
    if failures:
        build.release()
        raise Failure(
            description="blocked before publishing; the tables keep their previous version:\n"
            + "\n".join(failures),
            metadata={
                "failed_checks": [o.check_name for o in outcomes if o.blocking and not o.passed]
            },
        )
    for table, df in build.outputs.items():
        yield Output(df, output_name=output_names[table]) if output_names else Output(df)
    build.release()
