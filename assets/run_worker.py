"""The warm run worker: one long-lived process that executes Dagster runs one after another.

A run in a fresh process pays for a cold JVM before any row moves: starting it, loading and
compiling Spark's and Delta's classes, rebuilding each table's snapshot from its log (about
half of a one-day run, README "Performance"). The instance's run launcher
(``assets/run_launcher.py``) hands a run to this worker when it is idle, so a run after the
first finds Spark's session started, its code compiled, the definitions imported and Delta's
snapshots cached; when the worker is busy the run gets its own process as before.

The worker belongs to one Dagster home and one checkout: it listens on 127.0.0.1 on a port it
writes, with a secret token, to ``$DAGSTER_HOME/run-worker.json`` (mode 600). It takes a run
only when the code and settings it loaded are still those of the checkout
(:func:`code_fingerprint`), and exits after ``idle_seconds`` without a run (the instance's
``run_launcher`` config), when asked to (``lakehouse worker --stop``), or once idle after
its Dagster home is deleted. It outlives the process that started it (a `lakehouse run
--launch`, the daemon), so the next run finds it.

Each request is one JSON line answered by one JSON line: ``launch`` (a run id: taken, or
refused as busy or stale), ``status`` (the run it is executing, whether it is warming up),
``cancel`` (interrupt that run, as Ctrl-C would: Spark's jobs are cancelled, Dagster records
the run canceled; a run still queued behind the warm-up is recorded canceled, never started)
and ``stop``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from jobs.settings import REPO_ROOT, environment_name, lakehouse_root, load_settings

STATE_FILE = "run-worker.json"
TOKEN_ENV = "LAKEHOUSE_RUN_WORKER_TOKEN"  # the token reaches the worker off its command line
# What a worker's code is: the packages a run imports and the settings they read.
CODE_FOLDERS = ("jobs", "assets", "expectations", "warehouse", "conf")
SETTINGS_PREFIX = "LAKEHOUSE"
CONNECT_SECONDS = 5.0
POLL_SECONDS = 5.0


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """The code and settings a run would load now: the newest modification of a source or
    settings file of the checkout, with the environment variables that choose settings.
    A worker whose fingerprint differs would run yesterday's code: it refuses the run."""
    newest = 0
    for folder in CODE_FOLDERS:
        for path, dirs, files in os.walk(root / folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith((".py", ".toml", ".yaml", ".properties")):
                    newest = max(newest, os.stat(os.path.join(path, name)).st_mtime_ns)
    # Every LAKEHOUSE_* variable can change a setting; hashed, since some hold secrets. The
    # environment and the root count as what they resolve to: `lakehouse ui` sets
    # LAKEHOUSE_ENV=local for its daemon, a command run without --env leaves it unset.
    chosen = {k: v for k, v in os.environ.items() if k.startswith(SETTINGS_PREFIX)}
    chosen["LAKEHOUSE_ENV"] = environment_name()
    chosen["LAKEHOUSE_ROOT"] = str(lakehouse_root())
    digest = hashlib.sha256(repr(sorted(chosen.items())).encode()).hexdigest()
    return f"{newest}|{digest}"


def state_path(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path) -> dict[str, Any] | None:
    """The worker's pid, port and token, or None when no worker process is alive."""
    try:
        state = json.loads(state_path(home).read_text())
    except (OSError, ValueError):
        return None
    return state if alive(int(state.get("pid", 0)), state.get("started")) else None


def started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch, to a clock tick), or None
    where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22, starttime
        boot = next(line for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))  # fmt: skip
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")


def alive(pid: int, born_by: float | None = None) -> bool:
    """Whether process ``pid`` runs. Given ``born_by`` (when the process was known to
    exist, seconds since the epoch), a process that took the pid later reads as gone."""
    if pid <= 0:
        return False
    if born_by is not None and (began := started_at(pid)) is not None and began > born_by + 2:
        return False  # the pid was reused (the 2 s cover /proc's whole-second boot time)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of this process that exited stays a zombie until reaped: not alive.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def _write_state(home: Path, state: dict[str, Any]) -> None:
    staged = home / f".{STATE_FILE}.{os.getpid()}"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(state, out)
    staged.replace(state_path(home))  # readers see the old state or the new one


def request(state: dict[str, Any], op: str, **fields: Any) -> dict[str, Any] | None:
    """Send one request to the worker of ``state``; its answer, or None when it cannot be
    reached (not listening yet, gone, or not answering in time)."""
    try:
        return _exchange(state, {"op": op, **fields})
    except TimeoutError:
        return None


def _exchange(state: dict[str, Any], message: dict[str, Any]) -> dict[str, Any] | None:
    """One request and its answer; None when nothing that speaks the protocol listens on
    the state's port. Raises TimeoutError when something took the request and did not
    answer within ``CONNECT_SECONDS``: a worker busy beyond reason, not a gone one."""
    if not state.get("port"):
        return None
    try:
        with socket.create_connection(("127.0.0.1", state["port"]), CONNECT_SECONDS) as conn:
            conn.sendall(json.dumps({**message, "token": state["token"]}).encode() + b"\n")
            with conn.makefile("r") as answers:
                line = answers.readline()
        return json.loads(line) if line else None
    except TimeoutError:
        raise
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _spawn_lock(home: Path) -> Iterator[None]:
    # Two launches at once must not both start a worker.
    with open(home / ".run-worker.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def hand_over(home: Path, run_id: str, idle_seconds: float, log_dir: Path) -> int | None:
    """Give the run ``run_id`` to this home's warm worker, starting one if there is none.

    Returns the pid of the worker that took it, or None when the worker is busy (or still
    starting, or loaded code that has changed since): the caller then runs it elsewhere.
    """
    with _spawn_lock(home):
        state = read_state(home)
        if state is not None and not state.get("port") and not state.get("first_run"):
            state = _listening(home)  # started ahead of any run: it listens in a moment
        if state is not None and not state.get("port"):
            return None  # starting, busy with a first run of its own (or not listening)
        if state is not None:
            launch = {"op": "launch", "run_id": run_id, "fingerprint": code_fingerprint()}
            try:
                answer = _exchange(state, launch)
            except TimeoutError:
                # It may still take the run: run it elsewhere too (Dagster, with run
                # monitoring on, ignores whichever starts it second), but start no second
                # worker beside this one.
                return None
            if answer is not None and answer.get("why") != "stale":
                return int(state["pid"]) if answer.get("accepted") else None
            # Stale (it loaded older code and is exiting, idle), or it listened and no
            # longer answers (exiting, or dead with its pid reused): a worker of this code
            # takes the run.
        return _start(home, run_id, idle_seconds, log_dir)


def _listening(home: Path, timeout: float = 2 * CONNECT_SECONDS) -> dict[str, Any] | None:
    """The state of this home's starting worker once it listens (it writes its port before
    it starts Spark; still without one after ``timeout``), or None when it exits first."""
    deadline = time.monotonic() + timeout
    while (state := read_state(home)) is not None and not state.get("port"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return state


def start(home: Path, idle_seconds: float, log_dir: Path) -> tuple[int, bool]:
    """Start this home's warm worker ahead of its first run, so that run finds it warm
    (`lakehouse worker --start`): its pid, and whether it was started now (False: a worker
    of this code is already there, or starting)."""
    with _spawn_lock(home):
        state = read_state(home)
        if state is not None and not state.get("port"):
            return int(state["pid"]), False
        said = request(state, "status") if state is not None else None
        if state is not None and said is not None:
            if said.get("fingerprint") == code_fingerprint():
                return int(state["pid"]), False
            request(state, "stop")  # older code: it exits after its current run
        return _start(home, None, idle_seconds, log_dir), True


def _start(home: Path, run_id: str | None, idle_seconds: float, log_dir: Path) -> int:
    """Start a worker (whose first run is ``run_id``, if given); it answers requests once it
    listens."""
    token = secrets.token_hex(16)
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    log = open(log_dir / f"run-worker-{stamp}-{os.getpid()}.log", "ab")  # noqa: SIM115
    command = [sys.executable, "-m", "assets.run_worker", "--home", str(home)]
    command += [*(["--run", run_id] if run_id else []), "--idle-seconds", str(idle_seconds)]
    with log:
        worker = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, TOKEN_ENV: token},
        )
    # Until the worker writes its port, a launch finds it alive and unreachable: busy with
    # its first run, or (started ahead) soon listening.
    _write_state(home, {
        "pid": worker.pid, "started": started_at(worker.pid), "port": None, "token": token,
        "first_run": run_id,
    })  # fmt: skip
    return worker.pid


def status(home: Path) -> dict[str, Any] | None:
    """What this home's worker says of itself (pid, the run it executes, runs done), or
    None when there is no worker or it does not answer."""
    state = read_state(home)
    return request(state, "status") if state else None


def wait_warm(home: Path, pid: int, timeout: float) -> float:
    """Wait until worker ``pid`` of ``home`` has warmed up (its session started and, started
    ahead, the tables read): the seconds waited. Raises RuntimeError as soon as the worker
    has exited, or when it is still warming up after ``timeout`` seconds."""
    began = time.monotonic()
    while True:
        said = status(home)
        if said is not None and said["pid"] == pid and not said.get("warming_up"):
            return time.monotonic() - began
        if not alive(pid):
            raise RuntimeError(f"run worker pid {pid} exited before it was warm")
        if time.monotonic() - began > timeout:
            raise RuntimeError(f"run worker pid {pid} still warming up after {timeout:.0f} s")
        time.sleep(0.5)


def stop(home: Path, timeout: float = 60.0) -> bool:
    """Ask this home's worker to exit (after its current run) and wait for it; False when
    it is still there after ``timeout`` seconds."""
    state = read_state(home)
    if state is None:
        return True
    request(state, "stop")
    deadline = time.monotonic() + timeout
    while alive(int(state["pid"])):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def stop_under(root: Path, timeout: float = 30.0) -> None:
    """Stop the workers of every Dagster home under ``root`` (a lakehouse root about to be
    removed, a test's); one still running its run after ``timeout`` seconds gets SIGTERM,
    which interrupts the run as Ctrl-C would."""
    for found in root.glob(f"**/{STATE_FILE}"):
        state = read_state(found.parent)
        if state is not None and not stop(found.parent, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(state["pid"]), signal.SIGTERM)


class Worker:
    """The worker process: a listener thread takes requests, the main thread executes runs
    (a run is interrupted the way Ctrl-C interrupts it, which needs the main thread)."""

    def __init__(self, home: Path, token: str, idle_seconds: float) -> None:
        self.home, self.token, self.idle_seconds = home, token, idle_seconds
        self.fingerprint = code_fingerprint()
        self.runs: queue.Queue[str | None] = queue.Queue()
        self.lock = threading.Lock()
        self.current: str | None = None  # taken (queued or executing), not yet finished
        self.executing: str | None = None
        self.dropped: set[str] = set()  # cancelled while queued: never to be executed
        self.done = 0
        self.stopping = False
        self.warming = True  # until the session is up (and, started ahead, the tables read)

    def take(self, run_id: str) -> None:
        with self.lock:
            self.current = run_id
        self.runs.put(run_id)

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        if not secrets.compare_digest(str(message.get("token", "")), self.token):
            return {"error": "wrong token"}
        op = message.get("op")
        with self.lock:
            if op == "launch":
                if self.stopping or self.current is not None:
                    return {"accepted": False, "why": "busy"}
                if message.get("fingerprint") != self.fingerprint:
                    self.stopping = True  # a newer checkout: make way for a new worker
                    self.runs.put(None)
                    return {"accepted": False, "why": "stale"}
                self.current = message["run_id"]
                self.runs.put(self.current)
                return {"accepted": True, "pid": os.getpid()}
            if op == "status":
                return {
                    "pid": os.getpid(), "run_id": self.current, "runs_done": self.done,
                    "fingerprint": self.fingerprint, "warming_up": self.warming,
                }  # fmt: skip
            if op == "cancel":
                if self.current is None or message.get("run_id") != self.current:
                    return {"cancelled": False}  # idle, or another run: nothing to interrupt
                if self.executing != self.current:  # queued behind the warm-up: drop it
                    self.dropped.add(self.current)
                    return {"cancelled": True}
                _cancel_spark_jobs()  # the JVM's jobs, which an interrupt in Python leaves running
                os.kill(os.getpid(), signal.SIGINT)  # then Ctrl-C: Dagster ends the run canceled
                return {"cancelled": True}
            if op == "stop":
                self.stopping = True
                self.runs.put(None)
                return {"stopping": True}
        return {"error": f"unknown request {op!r}"}

    def listen(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # the server was closed: nothing more to answer
                return
            # A client that drops its connection (killed mid-request) costs its own request
            # only: the listener must outlive it, or the worker never answers again.
            with contextlib.suppress(OSError), conn, conn.makefile("rw") as stream:
                try:
                    reply = self.answer(json.loads(stream.readline() or "{}"))
                except (ValueError, KeyError) as exc:
                    reply = {"error": f"bad request: {exc}"}
                stream.write(json.dumps(reply) + "\n")

    def next_run(self) -> str | None:
        """The next run to execute, or None once it is time to exit."""
        idle_since = time.monotonic()
        while True:
            try:
                return self.runs.get(timeout=POLL_SECONDS)
            except queue.Empty:
                pass
            if not state_path(self.home).exists():
                print(f"{self.home} is gone: exiting", flush=True)
                return None
            if time.monotonic() - idle_since > self.idle_seconds:
                print(f"idle for {self.idle_seconds:.0f} s: exiting", flush=True)
                return None

    def execute(self, run_id: str) -> None:
        from dagster import DagsterInstance
        from dagster._cli.api import _execute_run_command_body

        with self.lock:
            dropped = run_id in self.dropped
            self.executing = None if dropped else run_id
        if dropped:
            self._report_canceled(run_id)
            return
        print(f"run {run_id}: started (this worker's run {self.done + 1})", flush=True)
        began = time.monotonic()
        _label_spark_jobs(run_id)
        # A cancel arriving between two of Dagster's steps ends the run, not the worker.
        with DagsterInstance.get() as instance, contextlib.suppress(KeyboardInterrupt):
            _execute_run_command_body(run_id, instance, lambda event: None, False)
        _fresh_jvm_connection()
        with self.lock:
            self.current = self.executing = None
            self.done += 1
        print(f"run {run_id}: ended in {time.monotonic() - began:.1f} s", flush=True)

    def _report_canceled(self, run_id: str) -> None:
        """End a run cancelled before it started (queued behind the warm-up) as canceled."""
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_canceled(run, "canceled before the run worker started it")
        with self.lock:
            self.current = None
            self.dropped.discard(run_id)
        print(f"run {run_id}: canceled before it started", flush=True)


def _cancel_spark_jobs() -> None:
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is not None:
        context.cancelAllJobs()


def _label_spark_jobs(run_id: str) -> None:
    """Put the run's Spark jobs in a job group named after it: the worker's runs share one
    Spark application, and the history server's job list shows each job's group."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is not None:
        context.setJobGroup(run_id, f"Dagster run {run_id}", interruptOnCancel=True)


def _fresh_jvm_connection() -> None:
    """Close this thread's connection to the JVM and open a new one. A run interrupted while
    it waited for the JVM's answer leaves that answer unread on the connection, where the
    next run's first call would read it as its own. The JVM serves the new connection on
    another thread, which is given the session as its active one, as the first had it."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    connection = gateway._gateway_client.get_thread_connection() if gateway else None
    if connection is not None:
        connection.close()
    session = SparkSession._instantiatedSession
    if session is not None:
        jvm: Any = session._jvm
        jvm.SparkSession.setActiveSession(session._jsparkSession)


def warm_up(ahead: bool) -> None:
    """Start the Spark session and import the definitions before the first run needs them.
    The JVM starts with the full settings, not a small run's: it will serve many runs.
    Started ``ahead`` of any run, it also reads a row of each table there is, so the first
    run finds their snapshots cached and the read path loaded."""
    from assets.resources import spark_session
    from expectations.context import GATE_IMPORTS
    from jobs.io import delta_io
    from jobs.tables import delta_tables

    settings = load_settings()
    spark = spark_session(settings, "run worker", GATE_IMPORTS)
    import assets.definitions  # noqa: F401

    if not ahead:
        return
    began, read = time.monotonic(), 0
    for table in delta_tables():
        path = settings.table_uri(*table.path)
        if delta_io.is_table(spark, path):
            delta_io.read_table(spark, path).limit(1).collect()
            read += 1
    print(f"warmed up on {read} tables in {time.monotonic() - began:.1f} s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assets.run_worker")
    parser.add_argument("--home", type=Path, required=True, help="the Dagster home it serves")
    parser.add_argument("--run", help="the first run to execute")
    parser.add_argument("--idle-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    token = os.environ.pop(TOKEN_ENV, "") or secrets.token_hex(16)
    worker = Worker(args.home, token, args.idle_seconds)
    server = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=worker.listen, args=(server,), name="requests", daemon=True).start()
    if args.run:
        worker.take(args.run)
    _write_state(args.home, {
        "pid": os.getpid(), "started": started_at(os.getpid()),
        "port": server.getsockname()[1], "token": token,
    })  # fmt: skip
    # SIGTERM ends the worker as Ctrl-C would: the run it executes is interrupted.
    signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))
    print(f"run worker {os.getpid()} for {args.home}", flush=True)
    try:
        try:
            warm_up(ahead=not args.run)
        except Exception:  # a run that needs the same fails with it, recorded in Dagster;
            # a table the warm-up could not read only loses its head start
            traceback.print_exc()
        with worker.lock:
            worker.warming = False
        while (run_id := worker.next_run()) is not None:
            worker.execute(run_id)
            if worker.stopping:
                break
    except KeyboardInterrupt:
        print("interrupted: exiting", flush=True)
    finally:
        with worker.lock:
            worker.stopping = True
        _forget(args.home)
    return 0


def _forget(home: Path) -> None:
    """Remove the state file while it names this process. Under the spawn lock: a worker
    that refused a run as stale is replaced while it exits, and must not remove the state
    of the worker that replaced it."""
    with contextlib.suppress(OSError, ValueError), _spawn_lock(home):
        if json.loads(state_path(home).read_text()).get("pid") == os.getpid():
            state_path(home).unlink()


if __name__ == "__main__":
    sys.exit(main())
