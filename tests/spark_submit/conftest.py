"""The wrappers module lives in spark-submit/ (a folder name with a dash): load it by path."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from jobs.settings import REPO_ROOT


@pytest.fixture(scope="session")
def wrappers() -> ModuleType:
    path = REPO_ROOT / "spark-submit" / "wrappers.py"
    spec = importlib.util.spec_from_file_location("spark_submit_wrappers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """What spark-submit/package builds for prod (code zip, entry points, every profile's
    conf, jars, packed venv), once per test process."""
    folder = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [str(REPO_ROOT / "spark-submit" / "package"), "--env", "prod", "--dist", str(folder)],
        # A PATH of system folders only: uv must come from the set-up's .tools, not luck.
        env={**os.environ, "LAKEHOUSE_ENV": "prod", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return folder
