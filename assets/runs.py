"""Materializing a date range as one Dagster run, used by the CLI and the tests."""

from __future__ import annotations

import datetime as dt

from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from assets.definitions import assets_for
from assets.landing import landing_specs
from assets.resources import build_resources


def materialize_range(
    start: dt.date,
    end: dt.date,
    *,
    env: str = "local",
    selection: str = "*",
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
            ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
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
