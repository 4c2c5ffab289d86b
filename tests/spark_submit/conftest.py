"""The wrappers module lives in spark-submit/ (a folder name with a dash): load it by path."""

from __future__ import annotations

import importlib.util
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
