"""Launched runs on the warm run worker (assets/run_worker.py, assets/run_launcher.py).

Runs go through the shipped local instance, as the automation launches them: the first
starts the worker, the next finds it warm (the same process), a run launched while it is
busy gets a process of its own, a cancelled run ends canceled and leaves the worker serving,
and a run whose worker died is failed by run monitoring. Real processes and a real Spark JVM
throughout; each run materializes one small table for one day.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.launcher import WorkerStatus
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from assets import cli, run_worker
from assets.commands.base import ensure_dagster_home
from assets.run_launcher import WORKER_TAG, WarmRunLauncher
from assets.runs import (
    LaunchedRun,
    failure_messages,
    launch_range,
    materialize_range,
    start_range_run,
    wait_for_run,
)
from jobs.io import landing
from jobs.settings import Settings
from jobs.tables import delta_tables
from tests.reference import delta_frame

pytestmark = pytest.mark.slow

FIRST, LAST = dt.date(2013, 1, 3), dt.date(2013, 1, 9)
# Two small tables, one a dimension: its unchanged snapshot is recorded from the table's log.
WEATHER = "key:bronze/weather or key:silver/airlines"
DATE = "weather_date"


@pytest.fixture(scope="module")
def instance(settings: Settings) -> Iterator[DagsterInstance]:
    landing.land(Path(settings.storage.landing), FIRST, LAST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(settings.dagster_home))
        home = ensure_dagster_home(settings)
        with DagsterInstance.get() as opened:
            yield opened
        run_worker.stop(home)


def home_of(instance: DagsterInstance) -> Path:
    return Path(instance.root_directory)


def day(n: int) -> dt.date:
    return FIRST + dt.timedelta(days=n)


def worker_pid(run: LaunchedRun) -> int | None:
    pid = run.dagster_run.tags.get(WORKER_TAG)
    return int(pid) if pid else None


def wait_until(condition, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_shipped_instance_launches_on_the_warm_worker(instance):
    assert isinstance(instance.run_launcher, WarmRunLauncher)
    assert instance.run_monitoring_enabled


def test_runs_after_the_first_find_the_worker_warm(instance, settings):
    first = launch_range(day(0), day(0), selection=WEATHER, instance=instance)
    second = launch_range(day(1), day(1), selection=WEATHER, instance=instance)

    assert first.success and second.success, failure_messages(second)
    assert worker_pid(first) is not None
    assert worker_pid(second) == worker_pid(first)  # the same process, its JVM already up
    said = run_worker.status(home_of(instance))
    assert said is not None and said["pid"] == worker_pid(first)
    assert said["run_id"] is None and said["runs_done"] >= 2
    # What a run in its own process records: per-day materializations, the table's rows.
    for run, date in ((first, day(0)), (second, day(1))):
        events = run.get_asset_materialization_events()
        weather = [e.partition for e in events if e.asset_key == AssetKey(["bronze", "weather"])]
        assert weather == [date.isoformat()]
    days = set(delta_frame(settings.table_uri("bronze", "weather"))[DATE].astype(str))
    assert {day(0).isoformat(), day(1).isoformat()} <= days
    # One Spark application serves both; the history server tells their jobs apart.
    groups = job_groups(Path(settings.storage.event_log))
    assert len(groups) == 1
    assert {first.run_id, second.run_id} <= next(iter(groups.values()))


def job_groups(event_logs: Path) -> dict[str, set[str]]:
    """The job groups of each Spark application's jobs, from its event log."""
    groups: dict[str, set[str]] = {}
    for log in event_logs.iterdir():
        for line in log.read_text().splitlines():
            event = json.loads(line)
            if event["Event"] == "SparkListenerJobStart":
                group = event["Properties"].get("spark.jobGroup.id")
                groups.setdefault(log.name, set()).add(group)
    return groups


def test_a_worker_started_ahead_takes_the_next_run_and_makes_way_after_an_edit(
    instance, settings, monkeypatch, capsys
):
    home = home_of(instance)
    monkeypatch.setenv("LAKEHOUSE_TEST_CODE", "ahead")  # code no earlier worker loaded
    assert materialize_range(day(0), day(0), selection=WEATHER, instance=instance).success
    tables = [
        t.key for t in delta_tables() if Path(settings.table_uri(*t.path), "_delta_log").is_dir()
    ]

    assert cli.main(["worker", "--start"]) == 0
    [pid] = re.findall(r"^run worker pid (\d+): starting$", capsys.readouterr().out, re.M)
    assert cli.main(["worker", "--start"]) == 0  # starting, or up: no second worker
    assert capsys.readouterr().out.startswith(f"run worker pid {pid}: ")
    # It listens before it starts Spark; `lakehouse worker` says when the warm-up is over.
    wait_until(lambda: run_worker.status(home) is not None, timeout=60)
    assert cli.main(["worker"]) == 0
    assert capsys.readouterr().out == f"run worker pid {pid}: warming up, 0 runs done\n"
    # A run cancelled while it waits for the warm-up ends canceled, and the worker stays.
    queued = start_range_run(day(1), day(1), selection=WEATHER, instance=instance)
    assert instance.run_launcher.terminate(queued.run_id)
    assert wait_for_run(queued.run_id, instance).dagster_run.status == DagsterRunStatus.CANCELED
    assert not instance.all_logs(queued.run_id, of_type=DagsterEventType.STEP_START)
    # `--start --wait` (a deploy script's) returns once the warm-up is over.
    assert cli.main(["worker", "--start", "--wait"]) == 0
    said = capsys.readouterr().out
    assert re.fullmatch(
        rf"run worker pid {pid}: already running\nrun worker pid {pid}: warm after [\d.]+ s\n", said
    ), said
    assert cli.main(["worker"]) == 0
    assert capsys.readouterr().out == f"run worker pid {pid}: idle, 0 runs done\n"
    run = launch_range(day(1), day(1), selection=WEATHER, instance=instance)
    assert run.success and worker_pid(run) == int(pid)
    assert run_worker.status(home)["runs_done"] == 1  # type: ignore[index]
    # Started ahead of any run, it read a row of each table there was before taking one.
    logs = [p.read_text() for p in settings.logs_dir.glob("run-worker-*.log")]
    [log] = [text for text in logs if f"run worker {pid} for " in text]
    assert len(tables) >= 2 and f"\nwarmed up on {len(tables)} tables in " in log, (tables, log)
    assert log.index("warmed up on ") < log.index(f"run {run.run_id}: started"), log

    # After an edit the worker refuses the next run as stale and exits; the run starts a
    # worker of the new code at once, instead of paying a cold process of its own.
    monkeypatch.setenv("LAKEHOUSE_TEST_CODE", "edited")
    edited = launch_range(day(2), day(2), selection=WEATHER, instance=instance)
    assert edited.success and worker_pid(edited) not in (None, int(pid))
    wait_until(lambda: not run_worker.alive(int(pid)), timeout=60)
    assert run_worker.status(home)["pid"] == worker_pid(edited)  # type: ignore[index]


def test_a_run_launched_while_the_worker_is_busy_gets_a_process_of_its_own(instance):
    launch_range(day(2), day(2), selection=WEATHER, instance=instance)  # the worker is up
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda d: launch_range(d, d, selection=WEATHER, instance=instance),
                [day(3), day(4)],
            )
        )

    assert all(run.success for run in runs), [run.dagster_run.status for run in runs]
    assert sum(worker_pid(run) is None for run in runs) == 1  # one on the worker, one not
    (own,) = [run for run in runs if worker_pid(run) is None]
    engine = [e.message for e in own.all_events if e.event_type == DagsterEventType.ENGINE_EVENT]
    assert any("in its own process" in (message or "") for message in engine), engine


def test_a_cancelled_run_ends_canceled_and_the_worker_serves_on(instance):
    launch_range(day(5), day(5), selection=WEATHER, instance=instance)  # the worker is up
    pid = run_worker.status(home_of(instance))["pid"]  # type: ignore[index]
    # Every pipeline asset for a day: long enough to be cancelled in the middle.
    run = start_range_run(day(6), day(6), selection="not group:ml", instance=instance)
    wait_until(lambda: _step_started(instance, run.run_id))

    assert instance.run_launcher.terminate(run.run_id)
    ended = wait_for_run(run.run_id, instance)

    assert ended.dagster_run.status == DagsterRunStatus.CANCELED
    again = launch_range(day(6), day(6), selection=WEATHER, instance=instance)
    assert again.success and worker_pid(again) == pid


def _step_started(instance: DagsterInstance, run_id: str) -> bool:
    return bool(instance.all_logs(run_id, of_type=DagsterEventType.STEP_START))


def test_a_run_whose_worker_died_is_failed_by_run_monitoring(instance):
    run = start_range_run(day(0), day(6), selection="not group:ml", instance=instance)
    wait_until(lambda: _step_started(instance, run.run_id))
    record = instance.get_run_record_by_id(run.run_id)
    pid = int(record.dagster_run.tags[WORKER_TAG])
    assert instance.run_launcher.check_run_worker_health(record.dagster_run).status == (
        WorkerStatus.RUNNING
    )

    os.kill(pid, signal.SIGKILL)  # out of memory, or killed by hand
    wait_until(lambda: not run_worker.alive(pid), timeout=30)
    health = instance.run_launcher.check_run_worker_health(record.dagster_run)
    assert health.status == WorkerStatus.FAILED, health
    monitor_started_run(instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]

    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    # The next run starts a new worker, even when the dead one's pid now names another
    # process (its state file names it and its port, where nothing answers).
    with subprocess.Popen(["sleep", "300"]) as other:
        state = run_worker.state_path(home_of(instance))
        state.write_text(json.dumps({**json.loads(state.read_text()), "pid": other.pid}))
        after = launch_range(day(0), day(0), selection=WEATHER, instance=instance)
        other.kill()
    assert after.success and worker_pid(after) not in (None, pid, other.pid)
    assert instance.get_latest_materialization_event(AssetKey(["bronze", "weather"]))


def test_a_run_whose_own_process_died_is_failed_by_run_monitoring(instance):
    home = home_of(instance)
    run_worker.stop(home)
    # A worker still starting for a run of its own (alive, not listening yet) is busy: the
    # run goes to its own process.
    run_worker._write_state(
        home, {"pid": os.getpid(), "port": None, "token": "t", "first_run": "another"}
    )
    try:
        run = start_range_run(day(6), day(6), selection="not group:ml", instance=instance)
        wait_until(lambda: _step_started(instance, run.run_id))
    finally:
        run_worker.state_path(home).unlink()
    record = instance.get_run_record_by_id(run.run_id)
    assert WORKER_TAG not in record.dagster_run.tags
    launcher = instance.run_launcher
    assert launcher.check_run_worker_health(record.dagster_run).status == WorkerStatus.RUNNING
    reported = launcher._run_process(run.run_id)
    assert reported is not None and reported[0] != os.getpid()
    pid = reported[0]

    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not run_worker.alive(pid), timeout=30)
    health = launcher.check_run_worker_health(record.dagster_run)
    assert health.status == WorkerStatus.FAILED, health
    monitor_started_run(instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]

    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE


def test_a_cancel_drops_a_queued_run_and_interrupts_nothing_when_idle(tmp_path):
    worker = run_worker.Worker(tmp_path, "secret", idle_seconds=60)
    cancel = {"op": "cancel", "token": "secret"}

    assert worker.answer(cancel) == {"cancelled": False}  # idle: no Ctrl-C for the worker
    worker.take("queued")  # taken while the worker warms up: not executing yet
    assert worker.answer({**cancel, "run_id": "other"}) == {"cancelled": False}
    assert worker.answer({**cancel, "run_id": "queued"}) == {"cancelled": True}
    assert worker.dropped == {"queued"}  # recorded canceled when its turn comes, not run


def test_waiting_for_a_worker_that_exited_fails_at_once_and_wait_needs_start(tmp_path, capsys):
    gone = subprocess.Popen(["true"])
    gone.wait()
    began = time.monotonic()
    with pytest.raises(RuntimeError, match=f"run worker pid {gone.pid} exited before it was warm"):
        run_worker.wait_warm(tmp_path, gone.pid, timeout=60)
    assert time.monotonic() - began < 5  # not the timeout

    assert cli.main(["worker", "--wait"]) == 2
    assert capsys.readouterr().out == "lakehouse worker: --wait goes with --start\n"


def test_a_pid_taken_by_a_process_started_later_is_not_the_worker(tmp_path):
    """The state file outlives a worker killed without cleaning up; once another process
    has its pid, that process is not taken for the worker (it would get its requests)."""
    started = run_worker.started_at(os.getpid())
    assert started is not None and started <= time.time()
    state = {"pid": os.getpid(), "started": started, "port": None, "token": "t"}
    run_worker._write_state(tmp_path, state)
    assert run_worker.read_state(tmp_path) == state

    run_worker._write_state(tmp_path, {**state, "started": started - 60})  # an earlier one
    assert run_worker.read_state(tmp_path) is None
    assert run_worker.alive(os.getpid(), born_by=started)
    assert not run_worker.alive(os.getpid(), born_by=started - 60)


def test_a_worker_takes_runs_only_with_its_token_and_its_own_code(tmp_path):
    worker = run_worker.Worker(tmp_path, "secret", idle_seconds=60)
    launch = {"op": "launch", "token": "secret", "fingerprint": worker.fingerprint}

    assert worker.answer({**launch, "token": "guess", "run_id": "a"}) == {"error": "wrong token"}
    assert worker.answer({**launch, "fingerprint": "older", "run_id": "a"}) == {
        "accepted": False, "why": "stale",
    }  # fmt: skip
    assert worker.stopping  # it makes way for a worker of the new code


def test_a_worker_that_does_not_answer_in_time_gets_no_second_worker_beside_it(
    tmp_path, monkeypatch
):
    """A worker too busy to answer may still take the run: the run goes to a process of its
    own (Dagster ignores whichever of the two starts it second), and no second worker
    starts beside the first."""
    monkeypatch.setattr(run_worker, "CONNECT_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never answers
        state = {"pid": os.getpid(), "port": silent.getsockname()[1], "token": "t"}
        run_worker._write_state(tmp_path, state)

        assert run_worker.hand_over(tmp_path, "run-a", 60.0, tmp_path / "logs") is None

    assert run_worker.read_state(tmp_path) == state
    assert not (tmp_path / "logs").exists()  # no worker was started


def test_a_client_that_drops_its_connection_leaves_the_worker_answering(tmp_path):
    worker = run_worker.Worker(tmp_path, "secret", idle_seconds=60)
    server = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=worker.listen, args=(server,), daemon=True).start()
    state = {"pid": os.getpid(), "port": server.getsockname()[1], "token": "secret"}

    dropped = socket.create_connection(("127.0.0.1", state["port"]))
    dropped.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    dropped.close()  # a reset, as from a client killed mid-request

    assert run_worker.request(state, "status") == {
        "pid": os.getpid(), "run_id": None, "runs_done": 0, "fingerprint": worker.fingerprint,
        "warming_up": True,  # main() clears it once the session is up
    }  # fmt: skip
    server.close()


def test_the_code_fingerprint_follows_sources_and_settings(tmp_path, monkeypatch):
    (tmp_path / "jobs").mkdir()
    source = tmp_path / "jobs" / "transform.py"
    source.write_text("x = 1\n")
    before = run_worker.code_fingerprint(tmp_path)

    os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))
    edited = run_worker.code_fingerprint(tmp_path)
    monkeypatch.setenv("LAKEHOUSE_ENV", "dev")
    other_env = run_worker.code_fingerprint(tmp_path)
    monkeypatch.setenv("LAKEHOUSE__ML__MAX_ITER", "10")
    other_setting = run_worker.code_fingerprint(tmp_path)

    assert len({before, edited, other_env, other_setting}) == 4
    monkeypatch.delenv("LAKEHOUSE__ML__MAX_ITER")
    monkeypatch.delenv("LAKEHOUSE_ENV")
    unset = run_worker.code_fingerprint(tmp_path)
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")  # as `lakehouse ui` gives its daemon
    assert run_worker.code_fingerprint(tmp_path) == unset
