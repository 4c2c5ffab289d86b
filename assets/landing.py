"""Landing files as external assets: dropped by upstream (`lakehouse land`), read by bronze."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec

from assets.partitions import DAILY_2013

LANDING_FLIGHTS = AssetSpec(
    AssetKey(["landing", "flights"]),
    description="One gzip CSV of departures per day, as the upstream system drops them.",
    partitions_def=DAILY_2013,
    group_name="landing",
    kinds={"csv"},
)
LANDING_WEATHER = AssetSpec(
    AssetKey(["landing", "weather"]),
    description="One gzip CSV of hourly weather at EWR, JFK and LGA per day.",
    partitions_def=DAILY_2013,
    group_name="landing",
    kinds={"csv"},
)
LANDING_SNAPSHOTS = {
    name: AssetSpec(
        AssetKey(["landing", name]),
        description=f"Dated full snapshots of {name}; the newest one is current.",
        group_name="landing",
        kinds={"csv"},
    )
    for name in ("planes", "airports", "airlines")
}

landing_specs = [LANDING_FLIGHTS, LANDING_WEATHER, *LANDING_SNAPSHOTS.values()]
