"""The one Dagster ``Definitions`` of the lakehouse.

The environment is picked by ``LAKEHOUSE_ENV`` (default ``local``). Its ``[spark] runner``
decides where the Spark assets compute: in the Dagster process (``in_process``; every
asset of a run shares one Spark session) or out of process through Dagster Pipes (same
asset keys, partitions and checks). Only that setting and the model's retraining cron are
read when the definitions load; nothing secret is. Automation conditions
(``assets/automation.py``) and sensors (``assets/sensors.py``) keep it moving.
"""

from __future__ import annotations

import os

from dagster import AssetsDefinition, Definitions, in_process_executor, map_asset_specs

from assets.automation import automation_sensor, with_automation
from assets.bronze import bronze_flights, bronze_weather
from assets.gold import gold_assets
from assets.landing import landing_specs
from assets.maintenance import maintenance_schedule, table_maintenance
from assets.ml import ml_assets
from assets.pipes import pipes_variant
from assets.resources import build_resources
from assets.sensors import landing_sensor, run_failure_alert
from assets.silver import (
    silver_airlines,
    silver_airports,
    silver_flights,
    silver_planes,
    silver_weather,
)
from assets.warehouse import warehouse_assets
from jobs.settings import load_settings

spark_assets = [
    bronze_flights,
    bronze_weather,
    silver_planes,
    silver_airports,
    silver_airlines,
    silver_weather,
    silver_flights,
    *gold_assets,
    *ml_assets,
]
lakehouse_assets = [*spark_assets, *warehouse_assets]


def assets_for(env: str) -> list[AssetsDefinition]:
    """The lakehouse assets of ``env`` with their automation conditions: Spark ones in
    process, or through Dagster Pipes."""
    settings = load_settings(env)
    if settings.spark.runner == "in_process":
        assets = lakehouse_assets
    else:
        assets = [*(pipes_variant(a) for a in spark_assets), *warehouse_assets]
    return list(map_asset_specs(lambda spec: with_automation(spec, settings), assets))


ENV = os.environ.get("LAKEHOUSE_ENV", "local")
defs = Definitions(
    assets=[*landing_specs, *assets_for(ENV)],
    sensors=[automation_sensor, landing_sensor, run_failure_alert],
    jobs=[table_maintenance],
    schedules=[maintenance_schedule(ENV)],
    resources=build_resources(ENV),
    executor=in_process_executor,
)
