"""``python -m devservers.postgres`` (what ``make postgres`` runs), as a newcomer uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devservers import free_port
from jobs.settings import REPO_ROOT

pytestmark = pytest.mark.postgres


def server(action: str, folder: str, cwd: Path, port: int, password: str | None):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("LAKEHOUSE_WAREHOUSE_PASSWORD", None)
    if password:
        env["LAKEHOUSE_WAREHOUSE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "devservers.postgres", action, "--dir", folder, "--port", str(port)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def connects(port: int, password: str) -> bool:
    info = f"host=127.0.0.1 port={port} dbname=lakehouse user=lakehouse password={password}"
    with psycopg.connect(info) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the ``postgres`` system user can enter (pytest's tmp_path is private)."""
    with tempfile.TemporaryDirectory(prefix="lakehouse-pg-") as name:
        Path(name).chmod(0o755)
        yield Path(name)


def test_a_relative_folder_works_and_a_second_password_is_explained(folder):
    port = free_port()
    try:
        started = server("start", "lakehouse/postgres", folder, port, "first-password")
        assert started.returncode == 0, started.stdout + started.stderr
        assert connects(port, "first-password")
        again = server("start", "lakehouse/postgres", folder, port, "first-password")
        assert again.returncode == 0, again.stderr  # already running: nothing to do

        server("stop", "lakehouse/postgres", folder, port, None)
        other = server("start", "lakehouse/postgres", folder, port, "second-password")
        assert other.returncode == 1
        assert "Traceback" not in other.stderr
        assert "created with another password" in other.stderr
        assert "make postgres-reset" in other.stderr
    finally:
        server("stop", "lakehouse/postgres", folder, port, None)


def test_reset_deletes_the_cluster_so_a_new_password_works(folder):
    port, cluster = free_port(), str(folder / "pg")
    try:
        assert server("start", cluster, folder, port, "old-password").returncode == 0
        reset = server("reset", cluster, folder, port, None)
        assert reset.returncode == 0 and not Path(cluster).exists(), reset.stderr
        renewed = server("start", cluster, folder, port, "new-password")
        assert renewed.returncode == 0, renewed.stderr
        assert connects(port, "new-password")
    finally:
        server("stop", cluster, folder, port, None)


def test_start_without_a_password_names_the_variable(tmp_path):
    done = server("start", "pg", tmp_path, free_port(), None)
    assert done.returncode == 2
    assert "LAKEHOUSE_WAREHOUSE_PASSWORD" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to the postgres user")
def test_a_folder_the_server_cannot_enter_is_named(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    done = server("start", str(private / "pg"), tmp_path, free_port(), "a-password")
    assert done.returncode == 1
    closed = next(p for p in reversed(private.parents) if not p.stat().st_mode & 0o001)
    assert f"cannot enter {closed} " in done.stderr
    assert "LAKEHOUSE_ROOT" in done.stderr
