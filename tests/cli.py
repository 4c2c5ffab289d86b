"""The ``lakehouse`` CLI in a process of its own, as a user runs it, or in the test's process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from assets.cli import main


def lakehouse(args: list[str], env: dict[str, str]) -> str:
    """Run ``lakehouse ARGS`` with ``env``; fails showing the output's end unless it exits 0.
    Returns its whole output."""
    done = subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def in_process(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """``lakehouse ARGS`` with ``env`` in this process and its Spark session, without the
    start-up of a process of its own: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with patched_environment(env):
        code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@contextmanager
def patched_environment(env: Mapping[str, str]) -> Iterator[None]:
    """This process's environment holds ``env`` while the block runs (what a command
    started with ``env`` sees), and is restored after."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if os.environ.get(key) != value:
                patch.setenv(key, value)
        yield
