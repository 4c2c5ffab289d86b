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
import urllib.request
from collections.abc import Callable
from pathlib import Path

# The dev servers' default ports (conf/dev.toml and the Makefile name the same).
MINIO_PORT, POSTGRES_PORT, MLFLOW_PORT = 9000, 55432, 5000
# Where the README's servers listen: those three, the Dagster UI and the Spark history
# server. 55432 lies in the range Linux hands out for port 0, so a test server could
# otherwise take the port a README walkthrough beside it is about to use.
WELL_KNOWN_PORTS = frozenset({MINIO_PORT, POSTGRES_PORT, MLFLOW_PORT, 3000, 18080})


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
    """``start|stop|reset --dir DIR --port N``: the command line every dev server shares.

    ``--dir`` is made absolute here: servers change folders, so a relative one would break.
    """
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.splitlines()[0])
    parser.add_argument(
        "action", choices=["start", "stop", "reset"], help="reset: stop, then delete the data"
    )
    parser.add_argument(
        "--dir", type=lambda p: Path(p).resolve(), required=True, help="folder for data, log, pid"
    )
    parser.add_argument("--port", type=int, default=default_port)
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
        os.kill(int(pid_file.read_text()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


def stop_pid(pid_file: Path, group: bool = False) -> None:
    """SIGTERM the process of ``pid_file`` (its whole process group with ``group``), SIGKILL
    after 10 s; no error when it is not running."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    send = os.killpg if group else os.kill
    try:
        send(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            send(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    send(pid, signal.SIGKILL)
