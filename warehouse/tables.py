"""The warehouse tables: which lakehouse table feeds each, and how it is laid out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WarehouseTable:
    """A warehouse table loaded from one lakehouse table."""

    name: str
    source: tuple[str, str]  # (layer, table) in the lakehouse
    date_column: str | None  # None: a dimension, replaced whole
    # Redshift layout. DISTKEY co-locates rows joined together; SORTKEY is what range
    # deletes and dashboards filter on, so zone maps skip blocks.
    distkey: str | None
    sortkey: tuple[str, ...]

    @property
    def partitioned(self) -> bool:
        return self.date_column is not None


WAREHOUSE_TABLES = {
    t.name: t
    for t in (
        # route_daily is queried by date and route: distribute on dest (about 100 values,
        # even spread; origin has only three) so a route's rows share a slice.
        WarehouseTable(
            "route_daily", ("gold", "route_daily"), "flight_date", "dest", ("flight_date",)
        ),
        # flight_features is scanned by date for training: carrier spreads it evenly.
        WarehouseTable(
            "flight_features",
            ("gold", "flight_features"),
            "flight_date",
            "carrier",
            ("flight_date",),
        ),
        # Dimensions are small: DISTSTYLE ALL (no distkey) copies them to every node.
        WarehouseTable("planes", ("silver", "planes"), None, None, ("tailnum",)),
        WarehouseTable("airports", ("silver", "airports"), None, None, ("faa",)),
        WarehouseTable("airlines", ("silver", "airlines"), None, None, ("carrier",)),
    )
}
