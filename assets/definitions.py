"""The one Dagster ``Definitions`` of the lakehouse.

The environment is picked by ``LAKEHOUSE_ENV`` (default ``local``); nothing else differs
between environments here. Runs execute in one process so that every asset of a run
shares one Spark session.
"""

from __future__ import annotations

import os

from dagster import Definitions, in_process_executor

from assets.bronze import bronze_flights, bronze_weather
from assets.gold import flight_features, route_daily
from assets.landing import landing_specs
from assets.resources import build_resources
from assets.silver import (
    silver_airlines,
    silver_airports,
    silver_flights,
    silver_planes,
    silver_weather,
)
from assets.warehouse import warehouse_assets

lakehouse_assets = [
    bronze_flights,
    bronze_weather,
    silver_planes,
    silver_airports,
    silver_airlines,
    silver_weather,
    silver_flights,
    route_daily,
    flight_features,
    *warehouse_assets,
]

defs = Definitions(
    assets=[*landing_specs, *lakehouse_assets],
    resources=build_resources(os.environ.get("LAKEHOUSE_ENV", "local")),
    executor=in_process_executor,
)
