"""Realistic broken drops, for demos and tests (`lakehouse land --faults`).

Row faults are appended to one day's flights file and must each end in quarantine with
their reason; file faults replace a whole day's file and must fail that day's ingestion
with an error naming the file (and the line, where there is one).
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

from jobs.io.landing import daily_file

ROW_FAULTS = {
    # kind: the quarantine reason it must produce
    "wrong_field_count": "wrong_field_count",
    "non_numeric_delay": "malformed_number",
    "null_carrier": "null_natural_key",
    "unknown_airport": "unknown_airport",
    "exact_duplicate": "duplicate",
    "near_duplicate": "duplicate",
    "date_outside_day": "date_outside_partition",
}
FILE_FAULTS = {
    # kind: what the error must say
    "empty_file": "empty file",
    "truncated_gzip": "truncated or corrupt gzip",
    "non_utf8_byte": "not valid UTF-8",
    "missing_column": "header lacks column(s) dep_delay",
    "unknown_column": "header has unknown column(s) gate",
}


@dataclass(frozen=True)
class Fault:
    kind: str
    file: Path
    line: int | None  # the line the fault is on, for row faults and line-level file faults
    expect: str  # the quarantine reason, or text the ingestion error contains


def _read(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()


def _write(path: Path, lines: list[str], raw: bytes | None = None) -> None:
    data = raw if raw is not None else ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0))


def _with(fields: list[str], header: list[str], **changes: str) -> str:
    row = dict(zip(header, fields, strict=True))
    row.update(changes)
    return ",".join(row[name] for name in header)


def inject_row_faults(landing: Path, day: dt.date) -> list[Fault]:
    """Append one line of each row fault to ``day``'s flights file."""
    path = daily_file(landing, "flights", day)
    lines = _read(path)
    header = lines[0].split(",")
    first, second = lines[1].split(","), lines[2].split(",")
    tomorrow = day + dt.timedelta(days=1)
    bad = {
        "wrong_field_count": ",".join(first[:-1]),
        "non_numeric_delay": _with(second, header, flight="9001", dep_delay="late"),
        "null_carrier": _with(second, header, flight="9002", carrier="NA"),
        "unknown_airport": _with(second, header, flight="9003", dest="XXX"),
        "exact_duplicate": lines[1],
        "near_duplicate": _with(first, header, dep_delay="7", arr_delay="9"),
        "date_outside_day": _with(
            second, header, flight="9004", year=str(tomorrow.year), month=str(tomorrow.month),
            day=str(tomorrow.day),
        ),
    }  # fmt: skip
    faults = []
    for kind, line in bad.items():
        lines.append(line)
        faults.append(Fault(kind, path, len(lines), ROW_FAULTS[kind]))
    _write(path, lines)
    return faults


def inject_file_fault(landing: Path, day: dt.date, kind: str) -> Fault:
    """Replace ``day``'s flights file by a broken one of ``kind``."""
    path = daily_file(landing, "flights", day)
    lines = _read(path)
    if kind == "empty_file":
        path.write_bytes(b"")
        return Fault(kind, path, None, FILE_FAULTS[kind])
    if kind == "truncated_gzip":
        whole = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        path.write_bytes(whole[: len(whole) // 2])
        return Fault(kind, path, None, FILE_FAULTS[kind])
    if kind == "non_utf8_byte":
        encoded = lines[3].encode()
        broken = encoded[:10] + b"\xff" + encoded[10:]  # a Latin-1 byte inside line 4
        head, tail = "\n".join(lines[:3]) + "\n", "\n" + "\n".join(lines[4:]) + "\n"
        _write(path, [], head.encode() + broken + tail.encode())
        return Fault(kind, path, 4, FILE_FAULTS[kind])
    if kind in ("missing_column", "unknown_column"):
        header = lines[0].split(",")
        drop = header.index("dep_delay") if kind == "missing_column" else None
        changed = []
        for n, line in enumerate(lines):
            fields = line.split(",")
            if drop is not None:
                del fields[drop]
            else:
                fields.append("gate" if n == 0 else "B12")
            changed.append(",".join(fields))
        _write(path, changed)
        return Fault(kind, path, 1, FILE_FAULTS[kind])
    raise ValueError(f"unknown file fault {kind!r}; choose one of {', '.join(FILE_FAULTS)}")


def inject_all(landing: Path, start: dt.date, end: dt.date) -> list[Fault]:
    """Row faults into ``start``'s file, then one file fault per following day.

    Needs at least five days; the days with file faults fail on ingestion, so run the
    first day alone to see the quarantine, or the whole range to see the errors.
    """
    days = (end - start).days + 1
    if days < 1 + len(FILE_FAULTS):
        raise ValueError(f"--faults needs at least {1 + len(FILE_FAULTS)} days, got {days}")
    faults = inject_row_faults(landing, start)
    for offset, kind in enumerate(FILE_FAULTS, start=1):
        faults.append(inject_file_fault(landing, start + dt.timedelta(days=offset), kind))
    return faults
