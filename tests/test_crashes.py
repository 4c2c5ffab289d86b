"""Processes killed with SIGKILL mid-way: nothing half-written is ever read, the next run repairs.

Each crash is a real `lakehouse` process: a Delta write is killed (Python and its Spark JVM,
one process group) as soon as its first data file appears; a landing is cut off in the middle
of a file by the kernel's file-size limit.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable

from assets.runs import failure_messages, materialize_range
from jobs.io import landing
from tests.reference import delta_frame, source_counts

pytestmark = pytest.mark.slow

START, END = dt.date(2013, 1, 1), dt.date(2013, 1, 3)
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
BRONZE = ["--select", "key:bronze/flights"]


def lakehouse(*args: str, limit_bytes: int | None = None) -> subprocess.Popen[str]:
    """`lakehouse ARGS` in a process group of its own (its JVM included); ``limit_bytes``
    caps the size of any file it writes (RLIMIT_FSIZE)."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        [sys.executable, "-m", "assets.cli", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, preexec_fn=limit,
    )  # fmt: skip


def finished(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    return output


def kill_when(process: subprocess.Popen[str], seen: Callable[[], bool], limit: float = 300) -> None:
    """SIGKILL the process group as soon as ``seen()``; fails if the process ends first."""
    deadline = time.monotonic() + limit
    while not seen():
        assert process.poll() is None, "finished before the crash point:\n" + process.stdout.read()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "never reached the crash point"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def data_files(table: Path) -> set[Path]:
    return {p for p in table.rglob("*.parquet") if "_delta_log" not in p.parts}


def rows(path: str) -> pd.DataFrame:
    """The table's rows in a stable order, without the ingestion time a rerun renews."""
    df = delta_frame(path).drop(columns=["_ingested_at"])
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def in_process_run() -> None:
    """The clean runs before and after the crash, in the test's own process (faster)."""
    result = materialize_range(START, END, selection="key:bronze/flights")
    assert result.success, failure_messages(result)


def test_a_kill_during_a_delta_write_keeps_the_previous_version_and_a_rerun_repairs(
    settings, spark
):
    landing.land(Path(settings.storage.landing), START, END)
    in_process_run()
    path = settings.table_uri("bronze", "flights")
    version, before, files = DeltaTable(path).version(), rows(path), data_files(Path(path))

    rerun = lakehouse("run", *RANGE, *BRONZE)
    kill_when(rerun, lambda: bool(data_files(Path(path)) - files))

    assert data_files(Path(path)) - files, "the killed write had started writing data files"
    assert DeltaTable(path).version() == version  # nothing committed
    pd.testing.assert_frame_equal(rows(path), before)  # the previous rows, readable
    in_process_run()
    assert DeltaTable(path).version() == version + 1
    pd.testing.assert_frame_equal(rows(path), before)  # as a clean rerun leaves it
    assert len(DeltaTable(path).file_uris()) == (END - START).days + 1  # no orphan is active


def test_landing_cut_off_mid_file_leaves_only_whole_files_and_landing_again_completes(settings):
    flights = Path(settings.storage.landing) / "flights"
    year = ["land", "--start", "2013-01-01", "--end", "2013-12-31"]
    # The kernel refuses to grow any file past 16 KB for this process (EFBIG), cutting the
    # first larger daily file mid-write, as a crash or a full disk would.
    cut = lakehouse(*year, limit_bytes=16 * 1024)
    output, _ = cut.communicate(timeout=300)
    assert cut.returncode != 0 and "File too large" in output, output[-2000:]
    partial = [p for p in flights.iterdir() if not p.name.endswith(".csv.gz")]
    assert [p.stat().st_size for p in partial] == [16 * 1024]  # the cut file, under its temp name

    def whole_days() -> dict[dt.date, int]:
        days = {}
        for file in sorted(flights.glob("*.csv.gz")):
            with gzip.open(file, "rt") as lines:  # a truncated file raises here
                days[dt.date.fromisoformat(file.name[:10])] = sum(1 for _ in lines) - 1
        return days

    expected = source_counts("flights", dt.date(2013, 1, 1), dt.date(2013, 12, 31))
    assert all(n == expected[day] for day, n in whole_days().items())
    finished(lakehouse(*year))
    assert whole_days() == expected
    assert not [p for p in flights.iterdir() if not p.name.endswith(".csv.gz")]
