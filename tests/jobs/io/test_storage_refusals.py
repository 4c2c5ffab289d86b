"""Tables on a filesystem that fills up or turns read-only: one clear error, nothing lost.

The tables live on a real tmpfs of a few megabytes mounted for the module (the test runs
as root, as CI does); the run is a real Dagster run of bronze/flights.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from assets.runs import failure_messages, materialize_range
from jobs.io import landing
from tests.reference import delta_frame, delta_version

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

DAY = dt.date(2013, 1, 1)


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("small-volume")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture(scope="module")
def first_write(volume, settings, spark, lakehouse_root) -> str:
    """bronze/flights written once to the small volume."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE__STORAGE__TABLES", str(volume / "tables"))
        landing.land(Path(settings.storage.landing), DAY, DAY)
        result = materialize_range(DAY, DAY, selection="key:bronze/flights")
        assert result.success, failure_messages(result)
    return str(volume / "tables" / "bronze" / "flights")


def rerun_fails_with(tables: Path, reason: str) -> None:
    table = str(tables / "bronze" / "flights")
    version, rows = delta_version(table), delta_frame(table)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE__STORAGE__TABLES", str(tables))
        result = materialize_range(DAY, DAY, selection="key:bronze/flights")
    assert not result.success
    errors = [m for m in failure_messages(result) if m.startswith("jobs.io.table_io.StorageError")]
    assert errors == [
        f"jobs.io.table_io.StorageError: cannot write bronze/flights at {table}: {reason}; "
        "nothing was committed, the table keeps its previous version"
    ]
    assert delta_version(table) == version
    pd.testing.assert_frame_equal(delta_frame(table), rows)


def test_a_full_filesystem_fails_the_write_naming_the_table_and_keeps_its_version(
    volume, first_write
):
    filler = volume / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass  # the volume is full
    try:
        rerun_fails_with(volume / "tables", "No space left on device")
    finally:
        filler.unlink()


def test_a_read_only_filesystem_fails_the_write_naming_the_table_and_keeps_its_version(
    volume, first_write
):
    # A read-only view of the same tables (a read-only bind mount): remounting the tmpfs
    # itself read-only is refused while Spark holds files on it open.
    view = volume.parent / "read-only-view"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(volume / "tables"), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        rerun_fails_with(view, "Read-only file system")
    finally:
        subprocess.run(["umount", str(view)], check=True)
