"""Silver assets: typed, UTC, deduplicated and enriched; rejected rows go to quarantine."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    Output,
    asset,
    multi_asset,
)
from pyspark.sql import DataFrame

from assets.gates import ACCOUNTING_CHECK, publish, suite_check_specs
from assets.landing import LANDING_SNAPSHOTS
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import MERGE_KEY, PARTITION_COLUMN, LakehouseConfig, SparkResource
from jobs import builds
from jobs.dimensions import DIMENSION_KEYS


def _dimension_asset(name: str) -> AssetsDefinition:
    key = AssetKey(["silver", name])

    @asset(
        key=key,
        check_specs=suite_check_specs(key, name),
        deps=[LANDING_SNAPSHOTS[name].key],
        group_name="silver",
        kinds={"spark", "delta"},
        metadata={MERGE_KEY: list(DIMENSION_KEYS[name])},
        description=(
            f"Current {name}, typed, one row per {'/'.join(DIMENSION_KEYS[name])}; "
            "kept current by Delta MERGE from the newest landing snapshot."
        ),
    )
    def _dimension(
        context: AssetExecutionContext, spark: SparkResource
    ) -> Iterator[Output[DataFrame] | AssetCheckResult]:
        settings = spark.lakehouse.settings()
        session = spark.session(f"silver/{name}")
        yield from publish(builds.dimension(session, settings, name, context.run_id))

    return _dimension


silver_planes = _dimension_asset("planes")
silver_airports = _dimension_asset("airports")
silver_airlines = _dimension_asset("airlines")


# Output names of the multi-assets, by table.
OUTPUT_NAMES = {
    "silver/weather": "silver_weather",
    "quarantine/weather": "quarantine_weather",
    "silver/flights": "silver_flights",
    "quarantine/flights": "quarantine_flights",
}


def _out(layer: str, name: str, description: str, date_column: str) -> AssetOut:
    return AssetOut(
        key=AssetKey([layer, name]),
        group_name=layer,
        kinds={"spark", "delta"},
        metadata={PARTITION_COLUMN: date_column},
        description=description,
    )


@multi_asset(
    outs={
        "silver_weather": _out(
            "silver",
            "weather",
            "Hourly weather per origin, typed, one row per hour.",
            "weather_date",
        ),
        "quarantine_weather": _out(
            "quarantine",
            "weather",
            "Weather rows that failed a rule, as received, with every reason.",
            "weather_date",
        ),
    },
    ins={"bronze_weather": AssetIn(AssetKey(["bronze", "weather"]))},
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
)
def silver_weather(
    context: AssetExecutionContext, bronze_weather: DataFrame
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    yield from publish(builds.silver_weather(bronze_weather, context.run_id), OUTPUT_NAMES)


SILVER_FLIGHTS = AssetKey(["silver", "flights"])


@multi_asset(
    outs={
        "silver_flights": _out(
            "silver",
            "flights",
            "Flights typed and cleaned: UTC departure/arrival times, deduplicated on "
            "(date, carrier, flight, origin), with origin weather at the scheduled hour and "
            "plane attributes.",
            "flight_date",
        ),
        "quarantine_flights": _out(
            "quarantine",
            "flights",
            "Flight rows that failed a rule, as received, with file, line, every reason and "
            "the run that quarantined them.",
            "flight_date",
        ),
    },
    ins={
        "bronze_flights": AssetIn(AssetKey(["bronze", "flights"])),
        "weather": AssetIn(AssetKey(["silver", "weather"])),
        "planes": AssetIn(AssetKey(["silver", "planes"])),
        "airports": AssetIn(AssetKey(["silver", "airports"])),
        "airlines": AssetIn(AssetKey(["silver", "airlines"])),
    },
    check_specs=[
        *suite_check_specs(SILVER_FLIGHTS, "silver_flights"),
        AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset=SILVER_FLIGHTS,
            blocking=True,
            description="For every day of the range, bronze rows = silver rows + quarantined "
            "rows; audited before the range is written.",
        ),
    ],
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
)
def silver_flights(
    context: AssetExecutionContext,
    lakehouse: LakehouseConfig,
    bronze_flights: DataFrame,
    weather: DataFrame,
    planes: DataFrame,
    airports: DataFrame,
    airlines: DataFrame,
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    start, end = partition_dates(context)
    build = builds.silver_flights(
        lakehouse.settings(),
        bronze_flights,
        weather,
        planes,
        airports,
        airlines,
        start,
        end,
        context.run_id,
    )
    yield from publish(build, OUTPUT_NAMES)  # published only after the audits pass
