"""The Spark resource: what a run imports while its JVM starts, from the run's assets, and
the quality context a run that gates opens meanwhile."""

from __future__ import annotations

import pytest
from dagster import AssetKey, asset, materialize

from assets.resources import LakehouseConfig, SparkResource, run_imports
from expectations import context as quality
from expectations.context import quality_context

GX = "great_expectations"
MLFLOW = "mlflow"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ({"bronze", "silver", "gold"}, (GX,)),
        ({"ml"}, (MLFLOW,)),
        ({"gold", "ml"}, (GX, MLFLOW)),
        ({"warehouse", "landing"}, ()),
        (None, (GX, MLFLOW)),  # a run that does not say what it runs
    ],
)
def test_a_run_imports_what_its_assets_use(layers, expected):
    assert run_imports(layers) == expected


def test_the_resource_of_a_run_takes_the_imports_of_the_runs_selection():
    seen: dict[str, tuple[str, ...]] = {}

    def probe(key: str):
        @asset(key=AssetKey(key.split("/")))
        def _probe(spark: SparkResource) -> None:
            seen[key] = spark._imports  # what its session would import while starting

        return _probe

    probes = [probe("ml/probe"), probe("warehouse/probe")]
    resources = {"spark": SparkResource(lakehouse=LakehouseConfig())}
    for key in ("ml/probe", "warehouse/probe"):
        assert materialize(probes, resources=resources, selection=[key]).success
    assert seen == {"ml/probe": (MLFLOW,), "warehouse/probe": ()}
    assert materialize(probes, resources=resources).success  # both: one resource for the run
    assert seen == {"ml/probe": (MLFLOW,), "warehouse/probe": (MLFLOW,)}


def test_a_run_that_gates_opens_its_quality_context_while_its_steps_work(spark, settings):
    @asset(key=AssetKey(["silver", "probe"]))
    def probe(spark: SparkResource) -> None:
        spark.session()

    resources = {"spark": SparkResource(lakehouse=LakehouseConfig())}
    assert materialize([probe], resources=resources).success
    opening = quality._OPENING[quality._open_arguments(settings)]  # opened on its own thread
    assert opening.result() is quality_context(settings).gx
