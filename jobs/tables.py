"""The one table registry: every table of the lakehouse, declared once.

Each entry says where a table lives (``<layer>/<name>``), how it is written (a daily table
replaces a date range of its ``date_column``; a dimension is merged on its ``merge_key``),
which spark-submit job writes it, who owns it, what it holds, and how it is laid out in
the warehouse when it is loaded there. Dagster assets, the Delta IO manager, the
spark-submit runner and Dagster Pipes, the warehouse, ``lakehouse status`` and the tests
all read it; nothing else names a date column, a key or a list of tables.

Plain data: importable without Spark or Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The Delta table properties the registry manages (Table.delta_properties).
STATS_COLUMNS = "delta.dataSkippingStatsColumns"
INDEXED_COLUMNS = "delta.dataSkippingNumIndexedCols"


@dataclass(frozen=True)
class WarehouseLayout:
    """How a table is loaded into the warehouse (Redshift layout; ignored elsewhere).

    DISTKEY co-locates rows that are joined together; SORTKEY is what range deletes and
    dashboards filter on, so zone maps skip blocks. No distkey: DISTSTYLE ALL (small tables).
    """

    name: str
    distkey: str | None
    sortkey: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One table: where it lives, how it is written, who owns it, what it holds."""

    layer: str
    name: str
    description: str
    date_column: str | None = None  # daily: a run replaces its date range in one commit
    merge_key: tuple[str, ...] = ()  # dimension: merged on this key
    job: str | None = None  # the spark-submit job (jobs/<job>_job.py) that writes it
    owner: str = "team:data-platform"
    warehouse: WarehouseLayout | None = None
    # delta: a Delta table; landing: raw files dropped by upstream; model: a registered
    # MLflow model (its versions live in the registry, not in a table)
    kind: Literal["delta", "landing", "model"] = "delta"
    # Columns queries filter by within a day: OPTIMIZE Z-orders each day's files on them
    # (data skipping); empty: compaction only.
    zorder_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "delta" and (self.date_column is None) == (not self.merge_key):
            raise ValueError(f"{self.key}: declare exactly one of date_column and merge_key")

    @property
    def key(self) -> str:
        """``<layer>/<name>``, also the Dagster asset key's path."""
        return f"{self.layer}/{self.name}"

    @property
    def path(self) -> tuple[str, str]:
        return self.layer, self.name

    @property
    def landing(self) -> bool:
        return self.kind == "landing"

    @property
    def daily(self) -> bool:
        return self.date_column is not None

    @property
    def delta_properties(self) -> dict[str, str]:
        """The Delta table properties the registry sets: file statistics (min, max, nulls)
        only on the columns queries filter by within a partition (``zorder_by``, which
        OPTIMIZE needs them on) or a dimension's merge key, none on a table read by whole
        partitions; the row count of every file is always kept. Delta's default, the first
        32 columns, made the statistics a fifth of bronze flights' full-year write."""
        columns = self.zorder_by or self.merge_key
        if columns:
            return {STATS_COLUMNS: ",".join(columns)}
        return {INDEXED_COLUMNS: "0"}


TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        # ---------------------------------------------------------------- landing (files)
        Table("landing", "flights", "One gzip CSV of departures per day, as the upstream "
              "system drops them.", date_column="flight_date", kind="landing"),
        Table("landing", "weather", "One gzip CSV of hourly weather at EWR, JFK and LGA per "
              "day.", date_column="weather_date", kind="landing"),
        *(
            Table("landing", name, f"Dated full snapshots of {name}; the newest one is "
                  "current.", kind="landing")
            for name in ("planes", "airports", "airlines")
        ),
        # ---------------------------------------------------------------- bronze
        Table("bronze", "flights", "Landed flights rows as received: every field a string, "
              "plus source file, line number and ingestion time.",
              date_column="flight_date", job="bronze"),
        Table("bronze", "weather", "Landed weather rows as received: every field a string, "
              "plus source file, line number and ingestion time.",
              date_column="weather_date", job="bronze"),
        # ---------------------------------------------------------------- silver
        Table("silver", "planes", "Current planes, typed, one row per tail number; kept "
              "current by Delta MERGE from the newest landing snapshot.",
              merge_key=("tailnum",), job="silver",
              warehouse=WarehouseLayout("planes", None, ("tailnum",))),
        Table("silver", "airports", "Current airports, typed, one row per FAA code, with "
              "their IANA time zone; kept current by Delta MERGE from the newest snapshot.",
              merge_key=("faa",), job="silver",
              warehouse=WarehouseLayout("airports", None, ("faa",))),
        Table("silver", "airlines", "Current airlines, one row per carrier code; kept "
              "current by Delta MERGE from the newest landing snapshot.",
              merge_key=("carrier",), job="silver",
              warehouse=WarehouseLayout("airlines", None, ("carrier",))),
        Table("silver", "weather", "Hourly weather per origin, typed, one row per hour.",
              date_column="weather_date", job="silver"),
        Table("silver", "flights", "Flights typed and cleaned: UTC departure/arrival times, "
              "deduplicated on (date, carrier, flight, origin), with origin weather at the "
              "scheduled hour and plane attributes.", date_column="flight_date", job="silver",
              zorder_by=("carrier", "origin")),
        # ---------------------------------------------------------------- quarantine
        Table("quarantine", "weather", "Weather rows that failed a rule, as received, with "
              "every reason.", date_column="weather_date", job="silver"),
        Table("quarantine", "flights", "Flight rows that failed a rule, as received, with "
              "file, line, every reason and the run that quarantined them.",
              date_column="flight_date", job="silver"),
        # ---------------------------------------------------------------- gold
        # route_daily is queried by date and route: distribute on dest (about 100 values,
        # even spread; origin has only three) so a route's rows share a slice.
        Table("gold", "route_daily", "One row per (date, origin, dest, carrier): flights, "
              "cancellations, mean/median/p90 departure delay and on-time arrival share.",
              date_column="flight_date", job="gold", zorder_by=("origin", "dest"),
              warehouse=WarehouseLayout("route_daily", "dest", ("flight_date",))),
        # carrier_daily is small and read whole by dashboards: sorted by date, on every node.
        Table("gold", "carrier_daily", "One row per (date, carrier): flights, cancellations, "
              "mean departure delay and on-time arrival share, for airline scorecards.",
              date_column="flight_date", job="gold",
              warehouse=WarehouseLayout("carrier_daily", None, ("flight_date", "carrier"))),
        # flight_features is scanned by date for training: carrier spreads it evenly.
        Table("gold", "flight_features", "One row per flight: schedule, route, plane and "
              "weather known before departure, with the departure delay as label.",
              date_column="flight_date", job="gold", zorder_by=("carrier", "origin"),
              warehouse=WarehouseLayout("flight_features", "carrier", ("flight_date",))),
        # ---------------------------------------------------------------- ml
        Table("ml", "delay_model", "Departure-delay classifier (Spark ML gradient-boosted "
              "trees) trained on gold/flight_features up to [ml] training_cutoff; versions in "
              "the MLflow registry, the best one aliased champion.", job="ml", kind="model",
              owner="team:ml"),
        Table("ml", "delay_predictions", "One row per flight: the champion's probability of a "
              "departure delay of 15 minutes or more, the predicted label, and the model name "
              "and version that scored it (always trained before the day).",
              date_column="flight_date", job="ml", owner="team:ml"),
    )
}  # fmt: skip


def table(key: str) -> Table:
    """The registered table ``<layer>/<name>``; an unknown key fails naming the known ones."""
    try:
        return TABLES[key]
    except KeyError:
        raise KeyError(f"{key!r} is not a registered table; known: {', '.join(TABLES)}") from None


def delta_tables() -> list[Table]:
    """Every Delta table (landing files and models excluded), in registry order."""
    return [t for t in TABLES.values() if t.kind == "delta"]


def written_by(job: str) -> list[Table]:
    """The tables the spark-submit job ``job`` writes."""
    return [t for t in TABLES.values() if t.job == job]
