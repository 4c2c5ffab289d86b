"""The local Dagster instance's event log: Dagster's SQLite storage, written in batches.

A range run records one materialization (and, at launch, one planned event) per asset and
day: about 3,650 events for a year of ten assets. Dagster's stock SQLite storage writes each
event on a fresh SQLAlchemy engine, in up to three transactions (run shard, asset index,
run-status index), each synced to disk: ~10 ms an event, minutes of bookkeeping per year.
Dagster hands storages whole batches of those events (``DAGSTER_EVENT_BATCH_SIZE``), but
the stock SQLite storage stores a batch one event at a time.

This subclass keeps the stock schema, queries and files (the UI, ``dagster`` CLI and other
processes read them as before) and changes only how writes reach SQLite:

- one engine per shard for the life of the storage, not one per connection, and its
  connection kept open between transactions (the stock storage opens one per transaction:
  a few milliseconds for each of the ~150 events of a one-day run);
- ``PRAGMA synchronous=NORMAL`` (the shards are in WAL mode): a commit survives the process
  being killed, but the last commits may be lost if the machine itself crashes. Run state
  is rebuilt from the tables by the next run, so that trade suits bookkeeping;
- a batch of events (and each single event) is one transaction per shard, its rows inserted
  into the run's shard as one statement, and an asset's index row (its latest event)
  written once per batch, not once per event;
- schema facts (does a table or column exist) asked once, not for every asset event (the
  stock storage opens a new engine and reflects the table each time);
- ``event_batch_size`` sets ``DAGSTER_EVENT_BATCH_SIZE`` for every process that loads this
  instance (the CLI, ``dagster dev``, the daemon and its run workers) unless already set;
- so does ``automation_settle_seconds`` for ``DAGSTER_AUTOMATION_TICK_SETTLE_SECONDS``: with
  it, each automation tick reads only the events up to the newest one it saw as it started,
  and its cursor says exactly that. Without it (Dagster's default, 0), an event stored while
  a tick evaluates, such as the landing sensor reporting a new day, can fall behind the
  tick's cursor unseen, and that day is never run (seen in ``tests/test_automation_daemon``).

It overrides private methods of ``SqliteEventLogStorage`` (``_connect``), so it is tied to
the pinned dagster version; ``tests/assets/test_instance_storage.py`` runs the same range
runs on it and on the stock storage and compares what each recorded.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as db
from dagster import Field, IntSource, StringSource
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import AssetKeyTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import exc as db_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = 1000
SETTLE_VARIABLE = "DAGSTER_AUTOMATION_TICK_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 1.0


def events_dir(home: Path | str) -> Path:
    """Where Dagster's default SQLite storage keeps a home's event logs."""
    return Path(home) / "history" / "runs"


def default_base_dir() -> str:
    """``$DAGSTER_HOME/history/runs``, for an instance file without ``base_dir``."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(
            "BatchedSqliteEventLogStorage: set base_dir in dagster.yaml or DAGSTER_HOME"
        )
    return str(events_dir(home))


# The lines of an instance file that configure this class (conf/dagster/dagster.yaml).
_CONFIG_OF_THIS_CLASS = "  class: BatchedSqliteEventLogStorage\n  config:\n"


def instance_file_for(home: Path, shipped: str) -> str:
    """The shipped instance file with ``home``'s event folder written in, so the instance
    reads its own files however it is opened (``DAGSTER_HOME`` or a path to the home)."""
    if _CONFIG_OF_THIS_CLASS not in shipped:
        return shipped
    folder = json.dumps(str(events_dir(home.resolve())))  # a YAML double-quoted string
    return shipped.replace(
        _CONFIG_OF_THIS_CLASS, f"{_CONFIG_OF_THIS_CLASS}    base_dir: {folder}\n", 1
    )


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage with reused engines and one transaction per batch."""

    def __init__(
        self,
        base_dir: str | None = None,
        event_batch_size: int = DEFAULT_BATCH_SIZE,
        automation_settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        inst_data: ConfigurableClassData | None = None,
    ):
        # Dagster reads both from the environment each time it uses them.
        if event_batch_size > 0:
            os.environ.setdefault(BATCH_SIZE_VARIABLE, str(event_batch_size))
        if automation_settle_seconds > 0:
            os.environ.setdefault(SETTLE_VARIABLE, str(automation_settle_seconds))
        self._engines: dict[str, Engine] = {}
        # shard -> connection with an open transaction while a batch is being stored
        self._open: dict[str, Connection] | None = None
        self._batch_stack = ExitStack()
        # Tables and asset-index columns known to exist (a migration only ever adds them).
        self._tables: set[str] = set()
        self._asset_key_columns: set[str] = set()
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)
        # Re-entrant: a batch holds the lock while the stock code opens shards inside it.
        self._db_lock = threading.RLock()  # type: ignore[assignment]

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {
            "base_dir": Field(StringSource, is_required=False),
            "event_batch_size": Field(
                IntSource, is_required=False, default_value=DEFAULT_BATCH_SIZE
            ),
            "automation_settle_seconds": Field(
                float, is_required=False, default_value=DEFAULT_SETTLE_SECONDS
            ),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                # One kept connection per shard, not one opened per transaction; another
                # is opened when one is in use (a shard opened inside its own block).
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=-1,
                # Used by whichever thread holds the storage's lock, one at a time.
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _relaxed_sync)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            if self._open is not None:
                if shard not in self._open:
                    self._open[shard] = self._batch_stack.enter_context(
                        _transaction(self._engine(shard))
                    )
                yield self._open[shard]
                return
            with _transaction(self._engine(shard)) as conn:
                yield conn

    @contextmanager
    def _one_transaction_per_shard(self) -> Iterator[None]:
        """Hold each shard's connection and transaction open until the block ends."""
        with self._db_lock:
            if self._open is not None:  # already inside a batch
                yield
                return
            with ExitStack() as stack:
                self._batch_stack, self._open = stack, {}
                try:
                    yield  # an exception rolls back every shard's transaction
                finally:
                    self._open = None

    def store_event(self, event: EventLogEntry) -> None:
        self.store_event_batch([event])

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store ``events`` as the stock ``store_event`` does one by one, in one transaction
        per shard: every event in its run's shard, asset, check and run-status events also
        in the index shard (with their tags, check rows and the asset's latest entry)."""
        rows = [self._event_to_row(event) for event in events]
        with self._one_transaction_per_shard():
            for run_id in dict.fromkeys(row["run_id"] for row in rows):
                with self.run_connection(run_id) as conn:
                    conn.execute(
                        SqlEventLogStorageTable.insert(),
                        [row for row in rows if row["run_id"] == run_id],
                    )
            asset_events: list[EventLogEntry] = []
            asset_ids: list[int] = []
            with self.index_connection() as conn:
                for event, row in zip(events, rows, strict=True):
                    kind = event.dagster_event_type if event.is_dagster_event else None
                    if kind in ASSET_EVENTS:
                        asset_events.append(event)
                        asset_ids.append(_inserted_id(conn, row))
                    elif kind in ASSET_CHECK_EVENTS:
                        self.store_asset_check_event(event, _inserted_id(conn, row))
                    elif kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS:
                        conn.execute(SqlEventLogStorageTable.insert(), row)
                if asset_events:
                    self._store_asset_event_tags(conn, asset_events, asset_ids)
                    self._store_latest_asset_entries(conn, asset_events, asset_ids)

    def _store_latest_asset_entries(
        self, conn: Connection, events: Sequence[EventLogEntry], event_ids: Sequence[int]
    ) -> None:
        """What the stock ``_store_asset_event`` leaves in an asset's index row after
        ``events`` one by one (each sets some columns), written once per asset.

        Which columns an event sets depends on its type alone, so of each asset's events only
        the last of each type can leave a value: only those are turned into values (a
        materialization's is its whole record serialized, and a range run stores one per day
        and asset: 11,000 for the year)."""
        has_index_cols = self._has_asset_key_index_cols_on_connection(conn)
        last_of_type: dict[tuple[str, Any], tuple[int, EventLogEntry, int]] = {}
        for position, (event, event_id) in enumerate(zip(events, event_ids, strict=True)):
            asset_key = event.dagster_event.asset_key if event.dagster_event else None
            if asset_key is not None:
                kind = (asset_key.to_string(), event.dagster_event_type)
                last_of_type[kind] = (position, event, event_id)
        latest: dict[str, dict[str, Any]] = {}
        for (key, _), (_, event, event_id) in sorted(
            last_of_type.items(), key=lambda item: item[1][0]
        ):  # in the order they were stored: a later type's columns win
            values = self._get_asset_entry_values(event, event_id, has_index_cols)
            if values:
                latest.setdefault(key, {}).update(values)
        for key, values in latest.items():
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=key, **values))
            except db_exc.IntegrityError:
                conn.execute(
                    AssetKeyTable.update().values(**values).where(AssetKeyTable.c.asset_key == key)
                )

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        if column_name not in self._asset_key_columns and (
            super()._has_asset_key_col_on_connection(conn, column_name)
        ):
            self._asset_key_columns.add(column_name)
        return column_name in self._asset_key_columns

    def dispose(self) -> None:
        super().dispose()
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def _inserted_id(conn: Connection, row: Mapping[str, Any]) -> int:
    """Insert one event row; its id in the index shard (the asset tables refer to it)."""
    inserted = conn.execute(SqlEventLogStorageTable.insert(), row).inserted_primary_key
    assert inserted is not None, "SQLite reports the id of a single-row insert"
    return int(inserted[0])


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def _relaxed_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
