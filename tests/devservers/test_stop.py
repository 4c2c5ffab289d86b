"""Stopping a dev server: whatever state its process is in, ``stop`` ends it without error."""

from __future__ import annotations

import subprocess
import sys
import time

from devservers import pid_alive, stop_pid

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
)


def _started(pid_file, code: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    pid_file.write_text(str(process.pid))
    time.sleep(0.5)  # let it install its handler
    return process


def test_a_group_that_ignores_sigterm_is_killed(tmp_path):
    pid_file = tmp_path / "server.pid"
    process = _started(pid_file, IGNORES_SIGTERM)
    stop_pid(pid_file, group=True, grace=1)
    assert process.wait(timeout=5) == -9
    assert not pid_file.exists()


def test_a_zombie_counts_as_stopped(tmp_path):
    # Its parent (this test) has not reaped it yet, as a container's first process may never.
    pid_file = tmp_path / "server.pid"
    process = _started(pid_file, "pass")
    time.sleep(0.5)
    assert not pid_alive(pid_file)
    began = time.monotonic()
    stop_pid(pid_file, group=True, grace=5)
    assert time.monotonic() - began < 2
    process.wait(timeout=5)


def test_a_process_that_is_gone_is_no_error(tmp_path):
    pid_file = tmp_path / "server.pid"
    process = _started(pid_file, "pass")
    process.wait(timeout=5)
    stop_pid(pid_file)
    stop_pid(pid_file)  # the file is gone too
