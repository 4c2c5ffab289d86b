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
    Output,
)

from assets.metadata import render
from assets.tables import asset_key, output_name
from expectations.audit import ACCOUNTING_CHECK, CheckOutcome, suite_check_names
from jobs.compose.builds import Blocked, Build, publishable

__all__ = ["ACCOUNTING_CHECK", "check_result", "publish", "suite_check_specs"]


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


def check_result(outcome: CheckOutcome) -> AssetCheckResult:
    """The Dagster check result of one audit outcome."""
    return AssetCheckResult(
        asset_key=asset_key(outcome.table),
        check_name=outcome.check_name,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if outcome.blocking else AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata=render(outcome.plain_metadata()),
    )


def publish(build: Build, multi_asset: bool = False) -> Iterator[AssetCheckResult | Output]:
    """Yield the build's check results, then its outputs through the one publish sequence
    (:func:`jobs.builds.publishable`); the IO manager writes each output as it is yielded.

    ``multi_asset``: outputs are named by :func:`output_name` (a single asset has one).
    """
    outcomes = build.check_outcomes()
    yield from (check_result(o) for o in outcomes)
    try:
        for table, df, build_seconds in publishable(build):
            metadata = {"build_seconds": build_seconds} if build_seconds is not None else {}
            name = output_name(table) if multi_asset else "result"
            yield Output(df, output_name=name, metadata=metadata)
    except Blocked as blocked:
        failed = [o.check_name for o in outcomes if o.blocking and not o.passed]
        # Blocked data stays blocked on a second try: never retried.
        raise Failure(
            description=str(blocked), metadata={"failed_checks": failed}, allow_retries=False
        ) from None
