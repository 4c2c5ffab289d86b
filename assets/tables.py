"""Dagster's view of the table registry: asset keys, groups, owners and descriptions.

Every Spark asset (and every output of a multi-asset) is declared from its registry entry
here, so no asset definition repeats a table's layer, description or owner.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, AssetOut

from jobs.tables import Table, table

KINDS = {"delta": {"spark", "delta"}, "model": {"spark", "mlflow"}, "landing": {"files"}}


def asset_key(key: str) -> AssetKey:
    """The asset key of table ``<layer>/<name>``."""
    return AssetKey(table(key).key.split("/"))


def output_name(t: Table) -> str:
    """The output name of ``t`` in a multi-asset, e.g. ``silver_flights``."""
    return f"{t.layer}_{t.name}"


def asset_args(key: str) -> dict[str, Any]:
    """``@asset`` arguments of registered table ``key``: key, group, owner, description."""
    t = table(key)
    return {
        "key": asset_key(key),
        "group_name": t.layer,
        "owners": [t.owner],
        "kinds": KINDS[t.kind],
        "description": t.description,
    }


def asset_out(key: str) -> tuple[str, AssetOut]:
    """A multi-asset output of registered table ``key``, with its output name."""
    args = asset_args(key)
    return output_name(table(key)), AssetOut(
        key=args["key"],
        group_name=args["group_name"],
        owners=args["owners"],
        kinds=args["kinds"],
        description=args["description"],
    )
