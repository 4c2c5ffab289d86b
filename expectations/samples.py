"""Great Expectations without the samples a result format does not ask for.

Every map expectation (a column's values, a column pair's, a compound key's) depends on
the metric ``<map metric>.unexpected_values``, a sample of the values that failed, even
when the result format asks for a sample of none: the gates' first pass computes counts
only (:func:`expectations.suites.result_format`: ``BASIC``, ``partial_unexpected_count``
0) and samples only what failed, in a second pass. On Spark each such metric is still a
query of its own (``filter(...).limit(0).collect()``), planned and run for an empty list:
14 queries for the silver suite's 14 expectations, 1.25 s of its 5.6 s on the year in a
cold process (0.65 of 3.3 s warm). :func:`skip_unrequested_samples` leaves that metric out
of an expectation's dependencies whenever the sample asked for is empty; GX's results then
have no ``partial_unexpected_list`` (``_format_map_output`` takes a missing sample), with
every count, percentage and success as before. Any other result format (the second pass's
``SUMMARY``, a ``COMPLETE`` one) is left to GX as it is.

It wraps a public method of GX's three map-expectation base classes (``remove_metric_
configuration`` is how GX's own expectations drop a dependency); tests compare its results
with GX's own and fail when an upgrade renames what it relies on.
"""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_skips_unrequested_samples"


def asks_for_no_sample(result_format: dict[str, Any]) -> bool:
    """True for a parsed result format whose result has no sample to show: ``BASIC`` with
    ``partial_unexpected_count`` 0 (a ``BOOLEAN_ONLY`` one never computes it)."""
    return result_format.get("result_format") == "BASIC" and not result_format.get(
        "partial_unexpected_count"
    )


def map_expectation_bases() -> tuple[Any, ...]:
    """GX's base classes of the expectations that judge row by row (and so sample)."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    return ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation


def skip_unrequested_samples() -> None:
    """Make every map expectation leave out its sample of unexpected values when the result
    format asks for none (once per process; calling again changes nothing)."""
    from great_expectations.core.metric_function_types import SummarizationMetricNameSuffixes

    suffix = f".{SummarizationMetricNameSuffixes.UNEXPECTED_VALUES.value}"
    for base in map_expectation_bases():
        original = base.get_validation_dependencies
        if getattr(original, _MARK, False):
            continue

        @functools.wraps(original)
        def dependencies(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            found = _original(self, *args, **kwargs)
            if asks_for_no_sample(found.result_format):
                for name in found.get_metric_names():
                    if name.endswith(suffix):
                        found.remove_metric_configuration(name)
            return found

        setattr(dependencies, _MARK, True)
        base.get_validation_dependencies = dependencies
