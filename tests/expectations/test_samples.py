"""A gate's first pass computes no sample of unexpected values it does not show, and its
results are GX's own otherwise."""

from typing import Any

import pytest
from pyspark.sql import functions as F

from expectations import gate
from expectations.context import quality_context
from expectations.samples import (
    asks_for_no_sample,
    map_expectation_bases,
    skip_unrequested_samples,
)
from expectations.suites import SUITES, detail_format, result_format
from jobs.io import delta_io, export
from jobs.tables import table

SAMPLE = ".unexpected_values"


def _samples(expectation: Any, result_format: dict[str, Any]) -> list[str]:
    found = expectation.get_validation_dependencies(
        runtime_configuration={"result_format": result_format}
    )
    return [name for name in found.get_metric_names() if name.endswith(SAMPLE)]


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_the_first_pass_asks_no_expectation_for_a_sample_and_the_second_pass_does(suite):
    skip_unrequested_samples()
    skip_unrequested_samples()  # twice: wrapped once
    expectations = [entry.build() for entry in SUITES[suite]()]
    mapped = [e for e in expectations if isinstance(e, map_expectation_bases())]
    assert mapped, "every suite has map expectations"
    assert [_samples(e, result_format(suite)) for e in expectations] == [[]] * len(expectations)
    # The second pass (failed expectations only) still samples, as GX does.
    assert all(len(_samples(e, detail_format(suite))) == 1 for e in mapped)


def test_only_a_basic_format_without_a_sample_counts_as_asking_for_none():
    assert asks_for_no_sample({"result_format": "BASIC", "partial_unexpected_count": 0})
    assert not asks_for_no_sample({"result_format": "BASIC", "partial_unexpected_count": 20})
    assert not asks_for_no_sample({"result_format": "SUMMARY", "partial_unexpected_count": 0})
    assert not asks_for_no_sample({"result_format": "COMPLETE"})


def _results(context: Any, run: str) -> list[tuple[Any, ...]]:
    """Each expectation's type, column, success and result, as stored."""
    name = gate.run_name(run, None, None)
    (key,) = [k for k in context.result_keys() if k.run_id.run_name == name]
    return [
        (r.expectation_config.type, r.expectation_config.kwargs.get("column"), r.success,
         dict(r.result or {}))
        for r in context.result(key).results
    ]  # fmt: skip


def _without_empty_samples(results: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    empty = ("partial_unexpected_list", [])
    return [(*r[:3], {k: v for k, v in r[3].items() if (k, v) != empty}) for r in results]


@pytest.mark.parametrize("on", ["spark", "pandas"])
def test_results_without_the_unasked_samples_are_the_ones_gx_gives_with_them(
    spark, settings, reference_lakehouse, monkeypatch, on
):
    """Silver flights of real days with a key twice and a row of nulls: passing
    expectations (some with unexpected rows under ``mostly``) and failing ones."""
    context = quality_context(settings)
    bases = map_expectation_bases()
    assert all(hasattr(base.get_validation_dependencies, "__wrapped__") for base in bases), (
        "opening a quality context makes GX skip the samples nobody asked for"
    )
    rows = delta_io.read_table(spark, reference_lakehouse.table_uri(*table("silver/flights").path))
    nulls = rows.limit(1).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in rows.schema])
    broken = rows.unionByName(rows.limit(1)).unionByName(nulls).persist()
    frame = broken if on == "spark" else export.to_pandas(broken)

    lean = gate.validate(context, frame, "silver_flights", f"l-{on}")
    for base in bases:  # GX's own dependencies, samples and all
        monkeypatch.setattr(base, "get_validation_dependencies",
                            base.get_validation_dependencies.__wrapped__)  # fmt: skip
    gate.validate(context, frame, "silver_flights", f"f-{on}")

    without, with_samples = _results(context, f"l-{on}"), _results(context, f"f-{on}")
    passing = [r for r in with_samples if r[2]]
    assert all(r[3]["partial_unexpected_list"] == [] for r in passing)  # GX computed them
    assert not any("partial_unexpected_list" in r[3] for r in without if r[2])
    assert without == _without_empty_samples(with_samples)
    assert any(r[3]["unexpected_count"] for r in passing)  # passing under `mostly`
    assert not lean.passed(blocking=True) and lean.failed(blocking=True)[0].sample_rows
