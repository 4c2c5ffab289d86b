"""Materializing a date range as one Dagster run, used by the CLI and the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dagster import (
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    LoggerDefinition,
    define_asset_job,
)

from assets.definitions import assets_for
from assets.landing import landing_specs
from assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from assets.resources import build_resources

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
    loggers: Mapping[str, LoggerDefinition] | None = None,
) -> ExecuteInProcessResult:
    """Materialize ``selection`` for ``[start, end]`` in one in-process run.

    Daily assets get the whole range at once (their backfill policy is a single run), so
    each writes one Delta commit; dimensions are refreshed in the same run. ``loggers``
    replace Dagster's console logger (the CLI's brief console and log file); without them
    the console logger logs at ``log_level``.
    """
    # What dagster.materialize does, plus loggers, which it does not take.
    job = "__ephemeral_asset_job__"
    defs = Definitions(
        jobs=[define_asset_job(job, selection=selection)],
        assets=[*landing_specs, *assets_for(env)],
        resources=build_resources(env),
        loggers=dict(loggers) if loggers else None,
    )
    # A logger runs only when the run config names it.
    run_config = {
        "loggers": {name: {} for name in loggers}
        if loggers
        else {"console": {"config": {"log_level": log_level}}}
    }
    return defs.resolve_job_def(job).execute_in_process(
        run_config=run_config,
        instance=instance,
        # `materialize` has no range argument of its own: the tags of a single-run backfill.
        tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()},
        raise_on_error=False,
    )


def error_chains(result: ExecuteInProcessResult) -> list[tuple[str, list[Any]]]:
    """Each failed step with its error and the errors that caused it, outermost first."""
    chains = []
    for event in result.get_step_failure_events():
        chain, error = [], event.step_failure_data.error
        while error is not None:
            chain.append(error)
            error = error.cause
        chains.append((str(event.step_key), chain))
    return chains


def failure_messages(result: ExecuteInProcessResult) -> list[str]:
    """The error of each failed step, with its cause, as text."""
    return [error.message.strip() for _, chain in error_chains(result) for error in chain]
