"""The test session's own housekeeping: what a `make test` leaves behind in the temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.settings import REPO_ROOT

PROBE = "LAKEHOUSE_ROOT_PROBE"


@pytest.mark.skipif(not os.environ.get(PROBE), reason="run in a pytest of its own, below")
def test_probe_writes_a_table_into_its_module_root(lakehouse_root: Path) -> None:
    (lakehouse_root / "silver").mkdir()
    (lakehouse_root / "silver" / "rows").write_text("written by the probe")
    assert os.environ[PROBE] == "pass", "the probe was asked to fail"


_PROBE_TEST = test_probe_writes_a_table_into_its_module_root.__name__


def _pytest_in(tmp: Path, outcome: str) -> subprocess.CompletedProcess[str]:
    """The probe in a pytest process of its own whose temp folder is ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE")}
    env.update(TMPDIR=str(tmp), **{PROBE: outcome})  # its own shared folder too: not ours
    probe = f"{Path(__file__).relative_to(REPO_ROOT)}::{_PROBE_TEST}"
    return subprocess.run(
        [sys.executable, "-m", "pytest", probe, "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_passing_session_removes_its_lakehouse_roots(tmp_path: Path) -> None:
    done = _pytest_in(tmp_path, "pass")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("lakehouse-")) == []


def test_a_failing_session_keeps_its_roots_as_evidence(tmp_path: Path) -> None:
    done = _pytest_in(tmp_path, "fail")
    assert done.returncode == 1, done.stdout + done.stderr
    kept = list(tmp_path.glob("lakehouse-test-*/*/silver/rows"))
    assert [p.read_text() for p in kept] == ["written by the probe"]
