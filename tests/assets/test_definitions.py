"""The Definitions load as `dagster dev` loads them, with partitions, groups and kinds."""

import os
import subprocess
import sys

from dagster import AssetKey
from dagster._core.definitions.backfill_policy import BackfillPolicyType

from assets.definitions import defs
from jobs.settings import REPO_ROOT
from jobs.tables import delta_tables

DAILY = {t.key for t in delta_tables() if t.daily}
DIMENSIONS = {t.key for t in delta_tables() if t.merge_key}


def test_daily_assets_cover_2013_and_backfill_in_one_run():
    graph = defs.resolve_asset_graph()
    for key in DAILY:
        node = graph.get(AssetKey(key.split("/")))
        keys = node.partitions_def.get_partition_keys()
        assert (keys[0], keys[-1], len(keys)) == ("2013-01-01", "2013-12-31", 365), key
        assert node.backfill_policy.policy_type == BackfillPolicyType.SINGLE_RUN, key
        assert node.group_name == key.split("/")[0]
        assert {"spark", "delta"} <= set(node.kinds)


def test_dimensions_are_unpartitioned_and_depend_on_their_snapshot():
    graph = defs.resolve_asset_graph()
    for key in DIMENSIONS:
        node = graph.get(AssetKey(key.split("/")))
        assert node.partitions_def is None
        assert AssetKey(["landing", key.split("/")[1]]) in node.parent_keys


def test_silver_flights_depends_on_bronze_weather_and_dimensions():
    parents = defs.resolve_asset_graph().get(AssetKey(["silver", "flights"])).parent_keys
    assert {k.to_user_string() for k in parents} == {
        "bronze/flights", "silver/weather", "silver/planes", "silver/airports",
        "silver/airlines",
    }  # fmt: skip


def test_every_asset_has_a_description():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key.to_user_string()


def test_dagster_validates_the_code_location_from_pyproject():
    env = {**os.environ, "DAGSTER_HOME": ""}
    env.pop("DAGSTER_HOME")
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stderr + done.stdout


def test_gated_assets_declare_blocking_and_warning_checks():
    from assets.silver import silver_flights

    specs = {spec.name: spec.blocking for spec in silver_flights.check_specs}
    assert specs == {
        "passes_silver_flights_suite": True,
        "passes_silver_flights_warnings": False,
        "accounts_for_every_bronze_row": True,
    }
    checked = {
        key.asset_key.to_user_string() for key in defs.resolve_asset_graph().asset_check_keys
    }
    assert {"bronze/flights", "silver/flights", "gold/route_daily", "silver/planes"} <= checked


def test_prod_runs_the_same_graph_through_pipes():
    from dagster import AssetsDefinition, Definitions

    from assets.definitions import assets_for
    from assets.landing import landing_specs
    from assets.resources import build_resources

    def graph(env: str):
        assets = [*landing_specs, *assets_for(env)]
        return Definitions(assets=assets, resources=build_resources(env)).resolve_asset_graph()

    local, prod = graph("local"), graph("prod")
    assert set(local.get_all_asset_keys()) == set(prod.get_all_asset_keys())
    for key in local.get_all_asset_keys():
        mine, theirs = local.get(key), prod.get(key)
        assert mine.parent_keys == theirs.parent_keys, key
        assert (mine.partitions_def is None) == (theirs.partitions_def is None), key
    checks = {str(k) for k in local.asset_check_keys}
    assert checks == {str(k) for k in prod.asset_check_keys}
    pipes = [a for a in assets_for("prod") if isinstance(a, AssetsDefinition)]
    spark_side = [
        a
        for a in pipes
        if a.group_names_by_key and "warehouse" not in a.group_names_by_key.values()
    ]
    assert spark_side and all("spark_pipes" in a.required_resource_keys for a in spark_side)


def test_loading_the_definitions_leaves_spark_ml_and_pandas_for_the_runs_that_use_them():
    """Every `lakehouse` command and every launched run imports the definitions first:
    pyspark.ml (and pandas with it, about 0.7 s) is imported where a model is built."""
    heavy = ["pyspark.ml", "pandas", "great_expectations", "mlflow"]
    code = f"import sys, assets.definitions; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout
