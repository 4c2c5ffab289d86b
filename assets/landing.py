"""Landing files as external assets: dropped by upstream (`lakehouse land`), read by bronze."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec, DailyPartitionsDefinition

from assets.partitions import DAILY_2013


def _landing(name: str, description: str, daily: DailyPartitionsDefinition | None) -> AssetSpec:
    return AssetSpec(
        AssetKey(["landing", name]),
        description=description,
        partitions_def=daily,
        group_name="landing",
        kinds={"csv"},
    )


LANDING_FLIGHTS = _landing(
    "flights", "One gzip CSV of departures per day, as the upstream system drops them.", DAILY_2013
)
LANDING_WEATHER = _landing(
    "weather", "One gzip CSV of hourly weather at EWR, JFK and LGA per day.", DAILY_2013
)
LANDING_SNAPSHOTS = {
    name: _landing(name, f"Dated full snapshots of {name}; the newest one is current.", None)
    for name in ("planes", "airports", "airlines")
}

landing_specs = [LANDING_FLIGHTS, LANDING_WEATHER, *LANDING_SNAPSHOTS.values()]
