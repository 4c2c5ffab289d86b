"""What the commands share: parsing dates and scales, the checked date range, the Dagster
home with the shipped instance, and a Spark session built as the assets' resource builds it."""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import os
from pathlib import Path
from typing import Any

from jobs.settings import REPO_ROOT, Settings


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def parse_scale(text: str) -> int:
    """A ``--scale``: a whole number of copies of the 2013 flights."""
    from jobs.io.landing import MAX_SCALE

    try:
        scale = int(text)
    except ValueError:
        scale = 0
    if not 1 <= scale <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_SCALE}")
    return scale


def ensure_dagster_home(settings: Settings) -> Path:
    """Point ``DAGSTER_HOME`` at the lakehouse root unless set; give it the shipped instance.

    The lakehouse's own home always has the checkout's ``conf/dagster/dagster.yaml``, with
    the home's event folder written in (a newer checkout's storage settings reach existing
    lakehouses); a home the user chose with ``DAGSTER_HOME`` gets it only when it has no
    ``dagster.yaml`` yet.
    """
    from assets.instance_storage import instance_file_for

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home)))
    home.mkdir(parents=True, exist_ok=True)
    shipped = instance_file_for(home, (REPO_ROOT / "conf" / "dagster" / "dagster.yaml").read_text())
    instance_file = home / "dagster.yaml"
    ours = home.resolve() == Path(settings.dagster_home).resolve()
    # Two commands starting at once on a new home (a run by hand beside the daemon's) would
    # both create Dagster's SQLite storage and race in its schema stamping: one creates the
    # instance while the other waits.
    with open(home / ".lakehouse-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not instance_file.exists() or (ours and instance_file.read_text() != shipped):
            staged = home / f".dagster.yaml.{os.getpid()}"
            staged.write_text(shipped)
            staged.replace(instance_file)  # a reader sees the old file or the new one
        initialized = home / ".lakehouse-initialized"
        if not initialized.exists():
            from dagster import DagsterInstance

            DagsterInstance.from_config(str(home)).dispose()
            initialized.touch()
    return home


def date_range(args: argparse.Namespace, settings: Settings) -> tuple[dt.date, dt.date]:
    start = args.start or settings.pipeline.first_date
    end = args.end or settings.pipeline.last_date
    first, last = settings.pipeline.first_date, settings.pipeline.last_date
    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    if start < first or end > last:
        raise SystemExit(f"the range {start}..{end} is outside the data ({first}..{last})")
    return start, end


def command_spark(
    settings: Settings, purpose: str, days: tuple[dt.date | None, dt.date | None] | None = None
) -> Any:
    """The Spark session, built as the assets' resource builds it, for a command that reads
    tables: it reads their logs and a day's rows, so it plans as a small run, unless ``days``
    gives the range it works on (``lakehouse maintain``)."""
    from assets.resources import spark_session

    tuned = settings.for_range(*days) if days else settings.as_small_run()
    return spark_session(tuned, purpose)
