"""Plain metadata (Dagster Pipes' ``{"raw_value", "type"}`` form) as Dagster values.

``jobs`` and ``expectations`` describe writes and checks without importing Dagster; the
spark-submit job sends that form through Pipes as it is, and the in-process assets render
it here, so both paths show the same metadata in the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema


def _schema(raw: Mapping[str, Any]) -> TableSchema:
    return TableSchema(columns=[TableColumn(c["name"], c["type"]) for c in raw["columns"]])


_RENDER: dict[str, Callable[[Any], Any]] = {
    "url": MetadataValue.url,
    "md": MetadataValue.md,
    "path": MetadataValue.path,
    "table_schema": _schema,
}


def render(plain: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Dagster metadata from plain entries; ints, floats and text pass through as they are."""
    return {
        key: _RENDER.get(entry["type"], lambda raw: raw)(entry["raw_value"])
        for key, entry in plain.items()
    }
