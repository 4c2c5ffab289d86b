"""Landing files as external assets: dropped by upstream (`lakehouse land`), read by bronze."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec

from assets.partitions import DAILY_2013
from jobs.tables import TABLES


def landing_key(dataset: str) -> AssetKey:
    """The asset key of landed ``dataset`` (e.g. ``flights``)."""
    return AssetKey(["landing", dataset])


landing_specs = [
    AssetSpec(
        landing_key(t.name),
        description=t.description,
        partitions_def=DAILY_2013 if t.daily else None,
        group_name="landing",
        owners=[t.owner],
        kinds={"csv"},
    )
    for t in TABLES.values()
    if t.landing
]
