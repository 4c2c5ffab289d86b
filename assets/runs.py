"""Materializing a date range as one Dagster run, used by the CLI and the tests: in this
process (:func:`materialize_range`), or launched through the instance's run launcher, as the
automation launches runs (:func:`launch_range`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import (
    AssetSelection,
    DagsterEvent,
    DagsterInstance,
    DagsterRun,
    Definitions,
    ExecuteInProcessResult,
    JobDefinition,
    LoggerDefinition,
    define_asset_job,
)
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.execution_result import ExecutionResult

from assets.definitions import assets_for
from assets.landing import landing_specs
from assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from assets.resources import build_resources
from jobs.settings import REPO_ROOT

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
        tags=range_tags(start, end),
        raise_on_error=False,
    )


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """A run's range: `materialize` has no range argument, so the tags of a single-run
    backfill say it."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


# The code location's definitions (conf/dagster/workspace.yaml), as a launched run's process
# loads them: the implicit job of all assets, subset to the run's selection.
DEFINITIONS = ReconstructableRepository.for_module(
    "assets.definitions", "defs", working_directory=str(REPO_ROOT)
)
ASSET_JOB = "__ASSET_JOB"


class LaunchedRun(ExecutionResult):
    """A finished run launched through the instance, read back from its event log."""

    def __init__(self, run: DagsterRun, events: Sequence[DagsterEvent], job: JobDefinition):
        self._run, self._events, self._job = run, list(events), job

    @property
    def job_def(self) -> JobDefinition:
        return self._job

    @property
    def dagster_run(self) -> DagsterRun:
        return self._run

    @property
    def all_events(self) -> Sequence[DagsterEvent]:
        return self._events

    @property
    def run_id(self) -> str:
        return self._run.run_id

    def _get_output_for_handle(self, handle: Any, output_name: str) -> object:
        raise NotImplementedError("a launched run's outputs are in its tables")


def launch_range(
    start: dt.date,
    end: dt.date,
    *,
    selection: str = PIPELINE,
    instance: DagsterInstance,
    poll_seconds: float = 0.5,
) -> LaunchedRun:
    """Materialize ``selection`` for ``[start, end]`` in one run launched through the
    instance's run launcher (the warm run worker when it is idle, ``assets/run_launcher.py``),
    as the automation launches runs; wait for it to end. Interrupted (Ctrl-C), the run is
    terminated before the interrupt goes on."""
    run = start_range_run(start, end, selection=selection, instance=instance)
    try:
        return wait_for_run(run.run_id, instance, poll_seconds)
    except KeyboardInterrupt:
        instance.run_launcher.terminate(run.run_id)
        raise


def start_range_run(
    start: dt.date, end: dt.date, *, selection: str = PIPELINE, instance: DagsterInstance
) -> DagsterRun:
    """Create the run of ``selection`` for ``[start, end]`` and launch it; do not wait."""
    recon = DEFINITIONS.get_reconstructable_job(ASSET_JOB)
    job = recon.get_definition()
    keys = AssetSelection.from_string(selection).resolve(job.asset_layer.asset_graph)
    run = instance.create_run_for_job(
        job_def=job.get_subset(asset_selection=keys),
        tags=range_tags(start, end),
        asset_selection=frozenset(keys),
        job_code_origin=recon.get_python_origin(),
    )
    return instance.launch_run(run.run_id, workspace=None)  # type: ignore[arg-type]


def wait_for_run(run_id: str, instance: DagsterInstance, poll_seconds: float = 0.5) -> LaunchedRun:
    """Wait for the launched run ``run_id`` to end; what it did, from its event log."""
    while not (run := instance.get_run_by_id(run_id)) or not run.is_finished:
        time.sleep(poll_seconds)
    job = DEFINITIONS.get_reconstructable_job(ASSET_JOB).get_definition()
    events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event]
    return LaunchedRun(run, events, job)


def error_chains(result: ExecutionResult) -> list[tuple[str, list[Any]]]:
    """Each failed step with its error and the errors that caused it, outermost first."""
    chains = []
    for event in result.get_step_failure_events():
        chain, error = [], event.step_failure_data.error
        while error is not None:
            chain.append(error)
            error = error.cause
        chains.append((str(event.step_key), chain))
    return chains


def failure_messages(result: ExecutionResult) -> list[str]:
    """The error of each failed step, with its cause, as text."""
    return [error.message.strip() for _, chain in error_chains(result) for error in chain]
