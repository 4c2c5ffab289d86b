"""Running a suite's checkpoint on a Spark DataFrame, and reading its stored results.

Each gate runs the suite's GX checkpoint (:mod:`expectations.context`) on the range being
published: the result goes to the profile's validation-results store, and that result's Data
Docs page and the index are rendered on the context's page thread while the caller goes on.
Results are also summarized into plain dataclasses, for Dagster check metadata and
``lakehouse quality``.

A dataframe batch takes no parameters besides the frame (GX refuses others), so the range
and the Dagster run are the validation's run name: ``2013-01-01..2013-01-14_run-1a2b3c4d``
(``snapshot_run-...`` for a dimension), shown in the Data Docs index and kept in the key.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame

from expectations.context import QualityContext, engine_of
from expectations.suites import SAMPLE_SIZE, detail_format

if TYPE_CHECKING:
    import pandas as pd

SNAPSHOT = "snapshot"
_RUN = "_run-"


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation."""

    expectation: str
    column: str | None
    blocking: bool
    success: bool
    observed: Any
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any]
    sample_rows: list[Any] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        target = f"{self.expectation}({self.column})" if self.column else self.expectation
        parts = [f"{target}: {'passed' if self.success else 'FAILED'}"]
        if self.observed is not None:
            parts.append(f"observed {self.observed}")
        if self.unexpected_count:
            parts.append(f"{self.unexpected_count:,} unexpected ({self.unexpected_percent:.3g}%)")
        if self.sample_rows and not self.success:
            parts.append(f"rows e.g. {self.sample_rows}")
        elif self.sample and not self.success:
            parts.append(f"e.g. {self.sample}")
        if self.error:
            parts.append(f"error: {self.error}")
        return ", ".join(parts)


@dataclass(frozen=True)
class GateReport:
    """A suite's outcomes for one range of one table."""

    suite: str
    start: str | None
    end: str | None
    run_id: str
    validated_at: str
    rows: int | None
    outcomes: list[Outcome] = field(default_factory=list)
    page: str | None = None  # the result's Data Docs page

    def failed(self, blocking: bool) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.blocking == blocking]

    def passed(self, blocking: bool) -> bool:
        return not self.failed(blocking)

    def statistics(self, blocking: bool) -> dict[str, int]:
        mine = [o for o in self.outcomes if o.blocking == blocking]
        return {"expectations": len(mine), "failed": len(self.failed(blocking))}


def _outcome(result: Any) -> Outcome:
    config = result.expectation_config
    details = result.result or {}
    kwargs = config.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
    if not column and "column_A" in kwargs:
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    return Outcome(
        expectation=config.type,
        column=column,
        blocking=bool((config.meta or {}).get("blocking", True)),
        success=bool(result.success),
        observed=_plain(details.get("observed_value")),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        sample=[_plain(v) for v in (details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
        sample_rows=[
            _plain(v) for v in (details.get("partial_unexpected_index_list") or [])[:SAMPLE_SIZE]
        ],
        error=_error(result.exception_info),
    )


def _error(info: Any) -> str | None:
    """A metric that raised reports no exception; GX puts it in ``exception_info``."""
    if not info:
        return None
    entries = info.values() if "raised_exception" not in info else [info]
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message") or "the expectation raised an error")
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return _plain(value.item())  # a value of a pandas copy, as Spark's would be
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def run_name(run_id: str, start: dt.date | None, end: dt.date | None) -> str:
    """The validation's run name: the range (or ``snapshot``) and the Dagster run."""
    span = f"{start.isoformat()}..{(end or start).isoformat()}" if start else SNAPSHOT
    return f"{span}{_RUN}{run_id[:8]}"


def report_of(key: Any, result: Any, page: str | None = None) -> GateReport:
    """The plain summary of one stored validation result."""
    span, _, run = str(key.run_id.run_name).partition(_RUN)
    start, _, end = span.partition("..")
    return GateReport(
        suite=key.expectation_suite_identifier.name,
        start=start if span != SNAPSHOT else None,
        end=end if span != SNAPSHOT else None,
        run_id=run,
        validated_at=key.run_id.run_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        rows=None,
        outcomes=[_outcome(r) for r in result.results],
        page=page,
    )


def validate(
    context: QualityContext,
    df: DataFrame | pd.DataFrame,
    suite_name: str,
    run_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> GateReport:
    """Run suite ``suite_name``'s checkpoint on ``df`` (a Spark frame, cached first: GX
    computes several metrics; or a pandas one), store the result, queue its Data Docs page
    (:meth:`QualityContext.queue_page`; :func:`expectations.context.pages_built` waits for
    it); return its summary.

    The checkpoint computes counts only. When an expectation failed, a second pass over the
    failed ones alone adds a sample of unexpected values and the offending rows, and the
    stored result is rewritten with them before its page is rendered: what a reader of a
    failure needs, paid for only when something failed."""
    from great_expectations.core.run_identifier import RunIdentifier

    run = RunIdentifier(run_name=run_name(run_id, start, end), run_time=dt.datetime.now(dt.UTC))
    checkpoint = context.checkpoint(suite_name, engine_of(df))
    outcome = checkpoint.run(batch_parameters={"dataframe": df}, run_id=run)
    ((key, result),) = outcome.run_results.items()
    failed = [r for r in result.results if not r.success]
    if failed:
        details = _details(context, df, suite_name, [r.expectation_config for r in failed])
        for stored in failed:
            detailed = details.get(_identity(stored.expectation_config))
            if detailed is not None:
                stored.result = detailed.result
        context.store(key, result)
    page = context.page(key)
    context.queue_page(key)  # rendered while the caller goes on (its write, mostly)
    return report_of(key, result, page)


def _identity(config: Any) -> str:
    """An expectation told apart by its type and arguments."""
    return f"{config.type}:{json.dumps(config.kwargs, sort_keys=True, default=str)}"


def _details(
    context: QualityContext, df: DataFrame | pd.DataFrame, suite_name: str, failed: list[Any]
) -> dict[str, Any]:
    """Each failed expectation's result again, by identity, with sample values and row
    identities (:func:`expectations.suites.detail_format`)."""
    import great_expectations as gx

    copies = [c.to_domain_obj() for c in failed]
    for expectation in copies:
        expectation.id = None  # a copy, not the stored suite's expectation
    suite = gx.ExpectationSuite(name=f"{suite_name}_details", expectations=copies)
    result = context.batch(suite_name, df).validate(suite, result_format=detail_format(suite_name))
    return {_identity(r.expectation_config): r for r in result.results}


def latest_reports(context: QualityContext, day: dt.date) -> dict[str, GateReport]:
    """Per suite, the newest stored result whose range covers ``day`` (dimension snapshots
    cover every day)."""
    newest: dict[str, Any] = {}
    for key in context.result_keys():
        span = str(key.run_id.run_name).partition(_RUN)[0]
        first, _, last = span.partition("..")
        if span != SNAPSHOT and not (first <= day.isoformat() <= last):
            continue
        suite = key.expectation_suite_identifier.name
        if suite not in newest or key.run_id.run_time > newest[suite].run_id.run_time:
            newest[suite] = key
    return {
        suite: report_of(key, context.result(key), context.page(key))
        for suite, key in newest.items()
    }
