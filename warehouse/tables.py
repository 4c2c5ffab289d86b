"""The warehouse tables: the registered lakehouse tables that have a warehouse layout."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.tables import TABLES, Table


@dataclass(frozen=True)
class WarehouseTable:
    """A warehouse table loaded from one lakehouse table (see :mod:`jobs.tables`)."""

    name: str
    source: tuple[str, str]  # (layer, table) in the lakehouse
    date_column: str | None  # None: a dimension, replaced whole
    distkey: str | None  # Redshift layout, reasons in the registry
    sortkey: tuple[str, ...]

    @property
    def partitioned(self) -> bool:
        return self.date_column is not None

    @classmethod
    def of(cls, table: Table) -> WarehouseTable:
        layout = table.warehouse
        if layout is None:
            raise ValueError(f"{table.key} is not loaded into the warehouse")
        return cls(layout.name, table.path, table.date_column, layout.distkey, layout.sortkey)


WAREHOUSE_TABLES = {
    t.warehouse.name: WarehouseTable.of(t) for t in TABLES.values() if t.warehouse is not None
}
