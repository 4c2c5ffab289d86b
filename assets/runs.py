"""Materializing a date range as one Dagster run, used by the CLI and the tests."""

from __future__ import annotations

import datetime as dt

from dagster import DagsterInstance, ExecuteInProcessResult, materialize

from assets.definitions import assets_for
from assets.landing import landing_specs
from assets.resources import build_resources

# The run tags that make one run cover a partition range (what a single-run backfill from
# the UI sets); `materialize` has no range argument of its own.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# What `lakehouse run` materializes unless told otherwise: every table from bronze to the
# warehouse. Training and scoring have their own commands (a model trained on a range that
# includes the days it scores would leak), and automation runs them in the daemon.
PIPELINE = "not group:ml"


def pipeline_selection(select: str | None) -> str:
    """``select`` (default: everything) without the ML assets."""
    return f"({select}) and {PIPELINE}" if select else PIPELINE


def materialize_range(
    start: dt.date,
    end: dt.date,
    *,
    env: str = "local",
    selection: str = PIPELINE,
    instance: DagsterInstance | None = None,
    log_level: str = "INFO",
) -> ExecuteInProcessResult:
    """Materialize ``selection`` for ``[start, end]`` in one in-process run.

    Daily assets get the whole range at once (their backfill policy is a single run), so
    each writes one Delta commit; dimensions are refreshed in the same run.
    """
    return materialize(
        [*landing_specs, *assets_for(env)],
        selection=selection,
        resources=build_resources(env),
        instance=instance,
        tags={
            RANGE_START_TAG: start.isoformat(),
            RANGE_END_TAG: end.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )


def failure_messages(result: ExecuteInProcessResult) -> list[str]:
    """The error of each failed step, with its cause, as text."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message.strip())
            error = error.cause
    return messages
