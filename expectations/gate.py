"""Running a suite on a Spark DataFrame with Great Expectations, and reporting the result.

One ephemeral GX context per process; suites are (re)registered from code on each use, so
what runs is exactly what is in git. Results are summarized into plain dataclasses (for
Dagster check metadata and ``lakehouse quality``) and saved as JSON under the lakehouse root.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from expectations.suites import SUITES
from jobs.tables import TABLES

SAMPLE_SIZE = 5
# Columns that identify an offending row in a report: the raw line, or the table's key
# (dimensions: their registered merge key).
ROW_IDENTITY = {
    "bronze_flights": ("_source_file", "_row_number"),
    "silver_flights": ("_source_file", "_row_number"),
    "route_daily": ("flight_date", "origin", "dest", "carrier"),
    "carrier_daily": ("flight_date", "carrier"),
    **{t.name: t.merge_key for t in TABLES.values() if t.merge_key},
}


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

    def failed(self, blocking: bool) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.blocking == blocking]

    def passed(self, blocking: bool) -> bool:
        return not self.failed(blocking)

    def statistics(self, blocking: bool) -> dict[str, int]:
        mine = [o for o in self.outcomes if o.blocking == blocking]
        return {"expectations": len(mine), "failed": len(self.failed(blocking))}


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm in logs
    context.data_sources.add_or_update_spark(name="lakehouse")
    return context


def _batch_definition(suite_name: str) -> Any:
    source = _context().data_sources.get("lakehouse")
    try:
        return source.get_asset(suite_name).get_batch_definition("range")
    except (LookupError, ValueError, KeyError):
        asset = source.add_dataframe_asset(name=suite_name)
        return asset.add_batch_definition_whole_dataframe("range")


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
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def validate(
    df: DataFrame,
    suite_name: str,
    run_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> GateReport:
    """Run suite ``suite_name`` on ``df`` (cache it first: GX computes several metrics)."""
    import great_expectations as gx

    entries = SUITES[suite_name]()
    suite = gx.ExpectationSuite(name=suite_name, expectations=[e.build() for e in entries])
    batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": df})
    # batch.validate keeps no result in the context, so a long-lived process does not grow.
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": SAMPLE_SIZE,
    }
    if suite_name in ROW_IDENTITY:  # GX refuses an empty list of identity columns
        result_format["unexpected_index_column_names"] = list(ROW_IDENTITY[suite_name])
    result = batch.validate(suite, result_format=result_format)
    return GateReport(
        suite=suite_name,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        run_id=run_id,
        validated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        rows=None,
        outcomes=[_outcome(r) for r in result.results],
    )


def save(report: GateReport, folder: Path) -> Path:
    """Write ``report`` as JSON under ``folder/<suite>/``; returns the file."""
    target = (
        folder / report.suite / f"{report.validated_at.replace(':', '')}-{report.run_id[:8]}.json"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(asdict(report), indent=1, default=str))
    return target


def load_reports(folder: Path) -> list[GateReport]:
    """Every saved report, oldest first."""
    reports = []
    for path in sorted(folder.glob("*/*.json")):
        raw = json.loads(path.read_text())
        raw["outcomes"] = [Outcome(**o) for o in raw["outcomes"]]
        reports.append(GateReport(**raw))
    return sorted(reports, key=lambda r: r.validated_at)
