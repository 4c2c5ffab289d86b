"""What developers run beside the product; never shipped to a cluster.

Real servers for the dev profile and the tests, started on 127.0.0.1 in folders of their
own (``postgres`` stands in for Redshift, ``minio`` for S3; neither is used by ``local`` or
``prod``), the project's tools in ``.tools/`` (``tools``), and realistic broken drops for
demos and tests (``faults``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The dev servers' ports in conf/dev.toml (a test holds them equal). The servers listen where
# the dev settings say (`dev_ports`), so moving one is a setting, for servers and clients.
MINIO_PORT, POSTGRES_PORT, MLFLOW_PORT = 9000, 55432, 5000
# Where the README's servers listen: those three, the Dagster UI and the Spark history
# server. 55432 lies in the range Linux hands out for port 0, so a test server could
# otherwise take the port a README walkthrough beside it is about to use.
WELL_KNOWN_PORTS = frozenset({MINIO_PORT, POSTGRES_PORT, MLFLOW_PORT, 3000, 18080})


@dataclass(frozen=True)
class DevPorts:
    """Where the dev profile's clients look for MinIO, PostgreSQL and MLflow on 127.0.0.1."""

    minio: int
    postgres: int
    mlflow: int


def dev_ports(environ: dict[str, str] | None = None) -> DevPorts:
    """The ports of the dev settings (``conf/dev.toml``, and overrides such as
    ``LAKEHOUSE__WAREHOUSE__PORT`` in ``environ``, default ``os.environ``): the dev servers
    listen there by default."""
    from jobs.settings import load_settings

    settings = load_settings("dev", environ=environ)
    warehouse = settings.warehouse
    if warehouse.backend != "postgres":
        raise ValueError(f"the dev warehouse is {warehouse.backend}, not the dev PostgreSQL")
    endpoint = urllib.parse.urlsplit(settings.s3.endpoint or "")
    tracking = urllib.parse.urlsplit(settings.ml.tracking_uri or "")
    return DevPorts(endpoint.port or 80, warehouse.port, tracking.port or 80)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, and none of
    ``WELL_KNOWN_PORTS``."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in WELL_KNOWN_PORTS:
            return port


def server_arguments(
    module: str, doc: str, default_port: int, argv: list[str] | None
) -> argparse.Namespace:
    """``start|stop|reset --dir DIR [--port N]``: the command line every dev server shares
    (``default_port``: the dev settings', see :func:`dev_ports`).

    ``--dir`` is made absolute here: servers change folders, so a relative one would break.
    """
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.splitlines()[0])
    parser.add_argument(
        "action", choices=["start", "stop", "reset"], help="reset: stop, then delete the data"
    )
    parser.add_argument(
        "--dir", type=lambda p: Path(p).resolve(), required=True, help="folder for data, log, pid"
    )
    parser.add_argument(
        "--port", type=int, default=default_port, help=f"default {default_port} (the dev settings')"
    )
    return parser.parse_args(argv)


def stop_or_reset(action: str, directory: Path, name: str, stop: Callable[[Path], None]) -> int:
    """The ``stop`` and ``reset`` actions of a dev server's command line."""
    stop(directory)
    if action == "reset":
        shutil.rmtree(directory, ignore_errors=True)
        print(f"stopped {name} and deleted {directory}")
    else:
        print(f"stopped {name} in {directory}")
    return 0


def answers(url: str, timeout: float = 2) -> bool:
    """True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def pid_alive(pid_file: Path) -> bool:
    """True when the process whose id ``pid_file`` holds is running."""
    try:
        return _running(int(pid_file.read_text()), group=False)
    except (FileNotFoundError, ValueError):
        return False


def _running(pid: int, group: bool) -> bool:
    """True while ``pid`` (with ``group``, any process of its group) runs. Zombies do not
    count: a server whose parent exited is reaped by whatever adopted it, and a container's
    first process may never do so, which would make a stopped server look alive."""
    if not Path("/proc").is_dir():  # not Linux: signal 0 is the portable, zombie-blind test
        try:
            (os.killpg if group else os.kill)(pid, 0)
        except ProcessLookupError:
            return False
        return True
    if group:
        return bool(group_members(pid))
    return _state(Path("/proc") / str(pid) / "stat") not in (None, "Z")


def group_members(pgid: int) -> list[int]:
    """The processes of group ``pgid`` that run (zombies left out), from /proc (Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _fields(stat)
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def _state(stat: Path) -> str | None:
    fields = _fields(stat)
    return fields[0] if fields else None


def _fields(stat: Path) -> list[str] | None:
    """State, ppid and pgrp of a /proc/<pid>/stat, or None if the process is gone."""
    try:
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
        fields = stat.read_text().rsplit(")", 1)[1].split()[:3]
    except (OSError, IndexError):
        return None  # gone while we looked
    return fields if len(fields) == 3 else None


def stop_pid(pid_file: Path, group: bool = False, grace: float = 10) -> None:
    """SIGTERM the process of ``pid_file`` (its whole process group with ``group``), SIGKILL
    what still runs after ``grace`` seconds; no error when it is not running or ends while
    being stopped."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    send = os.killpg if group else os.kill
    deadline = time.monotonic() + grace
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            send(pid, sig)
        except ProcessLookupError:
            return
        while _running(pid, group):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            return
        deadline = time.monotonic() + grace
    raise RuntimeError(f"process {pid} of {pid_file} still runs {grace:g} s after SIGKILL")
