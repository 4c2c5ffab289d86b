"""The Spark resource: what a run imports while its JVM starts, from the run's assets."""

from __future__ import annotations

import pytest
from dagster import AssetKey, asset, materialize

from assets.resources import LakehouseConfig, SparkResource, run_imports

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
