"""The local instance's run launcher: runs go to the warm run worker (``assets/run_worker.py``)
when it is idle, and to a process of their own, as Dagster's default launcher starts them,
when it is busy.

What a launched run costs is mostly a cold JVM (README "Performance"); the runs the
automation launches one after another, a day or a burst at a time, find the worker's JVM
warm. Two runs at once (the local instance allows two) still run side by side: the second
gets its own process. A run handed to the worker is tagged with the worker's pid, so run
monitoring can tell when the worker died under it (the run is then marked failed), and the
UI's Terminate interrupts it there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterRun
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.launcher.default_run_launcher import DefaultRunLauncher
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData
from dagster_shared.serdes import serialize_value

from assets import run_worker
from jobs.settings import REPO_ROOT, Settings, load_settings

WORKER_TAG = "lakehouse/run_worker"  # the pid of the warm worker that took the run


class WarmRunLauncher(DefaultRunLauncher):
    """Hand runs to this instance's warm run worker; busy, launch them as Dagster does."""

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, idle_seconds: float = 600.0
    ) -> None:
        super().__init__(inst_data=inst_data)
        self.idle_seconds = idle_seconds

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Field

        return {
            "idle_seconds": Field(
                float, default_value=600.0,
                description="How long the worker waits for a run before it exits.",
            )
        }  # fmt: skip

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> WarmRunLauncher:
        return cls(inst_data=inst_data, idle_seconds=config_value["idle_seconds"])

    @property
    def home(self) -> Path:
        return Path(self._instance.root_directory)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if run.job_code_origin is not None:
            logs = load_settings().logs_dir
            pid = run_worker.hand_over(self.home, run.run_id, self.idle_seconds, logs)
            if pid is not None:
                self._instance.add_run_tags(run.run_id, {WORKER_TAG: str(pid)})
                self._instance.report_engine_event(
                    f"Handed to the warm run worker (pid {pid}).", run, cls=self.__class__
                )
                return
        if context.workspace is not None:
            super().launch_run(context)  # through the code location's server, as Dagster does
        else:
            self._launch_process(run)

    def _launch_process(self, run: DagsterRun) -> None:
        """A process of its own for ``run`` launched without a workspace (``lakehouse run
        --launch``): what a code server starts for Dagster's default launcher."""
        assert run.job_code_origin is not None
        args = ExecuteRunArgs(run.job_code_origin, run.run_id, self._instance.get_ref())
        command = [sys.executable, "-m", "dagster", "api", "execute_run", serialize_value(args)]
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL)
        self._instance.report_engine_event(
            f"The warm run worker is busy: launched in its own process (pid {process.pid}).",
            run,
            cls=self.__class__,
        )

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or WORKER_TAG not in run.tags:
            return super().terminate(run_id)
        if run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        state = run_worker.read_state(self.home)
        answer = run_worker.request(state, "cancel", run_id=run_id) if state else None
        return bool(answer and answer.get("cancelled"))

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """A run on the worker is running while the worker says it executes it; gone or
        executing another, the worker failed it. A run in a process of its own is running
        while the process that reported executing it lives (Dagster's default launcher
        cannot tell: it leaves a killed run STARTED for ever)."""
        pid = run.tags.get(WORKER_TAG)
        if pid is None:
            return self._process_health(run)
        said = run_worker.status(self.home)
        if said and str(said.get("pid")) == pid and said.get("run_id") == run.run_id:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        where = json.dumps(said) if said else "no worker answers"
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"the run worker (pid {pid}) no longer executes it: {where}"
        )

    def _process_health(self, run: DagsterRun) -> CheckRunHealthResult:
        reported = self._run_process(run.run_id)
        if reported is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no process reported it yet")
        pid, when = reported
        if run_worker.alive(pid, born_by=when):  # a process started since is not the run's
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"its process (pid {pid}) is gone")

    def _run_process(self, run_id: str) -> tuple[int, float] | None:
        """The pid of the process executing the run and when it said so: the newest of
        Dagster's engine events that name one ("Started process for run", "Executing steps
        in process")."""
        newest_first = self._instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ENGINE_EVENT, ascending=False
        ).records
        for record in newest_first:
            event = record.event_log_entry.dagster_event
            data = event.engine_event_data if event else None
            pid = data.metadata.get("pid") if data else None
            if pid is not None:
                return int(str(getattr(pid, "value", pid))), record.event_log_entry.timestamp
        return None


def start_worker(home: Path, settings: Settings) -> tuple[int, bool] | None:
    """Start the warm run worker of the instance at ``home`` ahead of its first run: its pid
    and whether it was started now (see :func:`assets.run_worker.start`); None when the
    instance's runs do not go to a warm worker."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        launcher = instance.run_launcher
        if not isinstance(launcher, WarmRunLauncher):
            return None
        return run_worker.start(home, launcher.idle_seconds, settings.logs_dir)
