"""``lakehouse health``: whether what the current profile uses is there and answers.

Each probe returns one line: storage writable (tables, landing, quality; local folders or
buckets), every Delta table readable with its version, the Dagster instance's storage, the
daemon's heartbeat where one should run, and the warehouse and MLflow servers.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from jobs.io import objectstore
from jobs.settings import Settings


@dataclass(frozen=True)
class Probe:
    """One check of the profile's parts: what was checked, whether it passed, and why."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:28} {self.detail}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def probe(name: str, check: Callable[[], str]) -> Probe:
    """Run ``check`` (returns what it saw; raises when the part is not healthy)."""
    try:
        return Probe(name, True, check())
    except Exception as exc:  # any failure is the probe's answer, named on its line
        return Probe(name, False, _first_line(exc))


def writable(settings: Settings, uri: str) -> str:
    """Write and delete a probe object under ``uri`` (a folder or an s3a:// prefix)."""
    name = f".health-{uuid.uuid4().hex[:8]}"
    if objectstore.is_object_uri(uri):
        bucket, prefix = objectstore.split_uri(uri)
        key = f"{prefix.rstrip('/')}/{name}".lstrip("/")
        client = objectstore.s3_client(settings.s3)
        client.put_object(Bucket=bucket, Key=key, Body=b"")
        client.delete_object(Bucket=bucket, Key=key)
        return f"{uri} writable"
    folder = Path(uri.removeprefix("file:"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
        (folder / name).unlink()
    except OSError as exc:
        raise OSError(f"{folder} is not writable ({exc.strerror or exc})") from exc
    return f"{folder} writable"


def storage_probes(settings: Settings) -> list[Probe]:
    places = {
        "tables": settings.storage.tables,
        "landing": settings.storage.landing,
        "quality": settings.storage.quality,
    }
    return [
        probe(f"storage {name}", partial(writable, settings, uri)) for name, uri in places.items()
    ]


def table_probes(spark: Any, settings: Settings) -> list[Probe]:
    """Every Delta table of the registry: its version, or that it is not materialized yet."""
    from delta.tables import DeltaTable

    from jobs.io import delta_io
    from jobs.tables import delta_tables

    def version(path: str) -> str:
        # A table whose log cannot be read fails here, naming the broken part.
        if not delta_io.is_table(spark, path):
            return "not materialized"
        table = DeltaTable.forPath(spark, path)  # loads the snapshot: a broken log fails
        # the newest commit from its file: a history query per table costs a Spark job
        version = delta_io.last_commit(spark, path).version
        return f"version {version}, {len(table.toDF().columns)} columns"

    return [
        probe(f"table {t.key}", partial(version, settings.table_uri(*t.path)))
        for t in delta_tables()
    ]


def dagster_probes(settings: Settings, instance: Any) -> list[Probe]:
    """The instance's storage answers; the daemon beats where one must run
    (``[health] daemon_required``, on in prod)."""

    def storage() -> str:
        count = instance.get_runs_count()
        return f"{type(instance.run_storage).__name__}, {count} runs"

    def daemon() -> str:
        required = settings.health.daemon_required
        beats = instance.get_daemon_heartbeats()
        if not beats:
            if required:
                raise RuntimeError("no dagster-daemon has ever run on this instance")
            return "never ran here (sensors and automation run under `lakehouse ui`)"
        age = time.time() - max(beat.timestamp for beat in beats.values())
        if age <= settings.health.heartbeat_tolerance_seconds:
            return f"heartbeat {age:.0f}s ago ({', '.join(sorted(beats))})"
        if required:
            raise RuntimeError(f"last heartbeat {age / 60:.0f} min ago: the daemon is down")
        return f"not running (last heartbeat {age / 60:.0f} min ago)"

    return [probe("dagster storage", storage), probe("dagster daemon", daemon)]


def service_probes(settings: Settings) -> list[Probe]:
    """The warehouse and the MLflow tracking store the profile names."""
    from warehouse.connect import sql_warehouse

    def warehouse() -> str:
        target = settings.warehouse
        if target.backend == "redshift":
            return "Redshift (Data API): not probed from here; `--dry-run` loads show the SQL"
        if target.backend == "duckdb" and not Path(target.path).exists():
            return f"{target.path} not created yet (the first load creates it)"
        sql_warehouse(settings).query("SELECT 1")
        return f"{target.backend} answers"

    def mlflow() -> str:
        uri = settings.ml.tracking_uri
        if not uri.startswith(("http://", "https://")):
            return f"{uri.split('://', 1)[0]} store (embedded)"
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=5) as response:
                return f"{uri} answers ({response.status})"
        except OSError as exc:
            raise ConnectionError(f"{uri} does not answer ({getattr(exc, 'reason', exc)})") from exc

    return [probe("warehouse", warehouse), probe("mlflow", mlflow)]


def all_probes(settings: Settings, spark: Any, instance: Any) -> list[Probe]:
    """Every probe of the profile, cheapest first."""
    return [
        *storage_probes(settings),
        *service_probes(settings),
        *dagster_probes(settings, instance),
        *table_probes(spark, settings),
    ]
