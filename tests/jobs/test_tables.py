"""The table registry is the one list of tables: everything else agrees with it."""

from __future__ import annotations

import pytest

from jobs.entrypoints import runner, submission
from jobs.tables import TABLES, Table, delta_tables, table, written_by


def test_a_table_is_either_daily_or_keyed():
    with pytest.raises(ValueError, match="exactly one of date_column and merge_key"):
        Table("gold", "both", "x", date_column="flight_date", merge_key=("id",))
    with pytest.raises(ValueError, match="exactly one of date_column and merge_key"):
        Table("gold", "neither", "x")
    assert Table("ml", "model", "x", kind="model").daily is False  # a model is neither


def test_an_unknown_table_names_the_known_ones():
    with pytest.raises(KeyError, match="'gold/nope' is not a registered table; known: landing/"):
        table("gold/nope")


def test_every_delta_table_is_written_by_one_layer_job_and_each_job_writes_only_those():
    for job, groups in runner.LAYERS.items():
        built = sorted(key for group in groups for key in group.tables)
        assert built == sorted(t.key for t in written_by(job)), job
    assert all(t.job for t in delta_tables())
    assert set(submission.JOBS) == set(runner.LAYERS)  # every layer has its spark-submit job


def test_every_asset_of_the_definitions_is_a_registered_table():
    from assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    lakehouse = {k for k in keys if not k.startswith("warehouse/")}
    assert lakehouse == set(TABLES)
    for key in lakehouse:
        node = graph.get(graph_key(key))
        registered = table(key)
        assert (node.partitions_def is not None) == registered.daily, key
        assert node.group_name == registered.layer, key
        assert node.description == registered.description, key


def test_the_warehouse_loads_exactly_the_tables_with_a_layout():
    from warehouse.tables import WAREHOUSE_TABLES

    loaded = {"/".join(spec.source) for spec in WAREHOUSE_TABLES.values()}
    assert loaded == {t.key for t in TABLES.values() if t.warehouse}
    for spec in WAREHOUSE_TABLES.values():
        assert spec.date_column == table("/".join(spec.source)).date_column


def graph_key(key: str):
    from dagster import AssetKey

    return AssetKey(key.split("/"))
