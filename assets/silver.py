"""Silver assets: typed, UTC, deduplicated and enriched; rejected rows go to quarantine."""

import time
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

from assets.gates import (
    ACCOUNTING_CHECK,
    accounting_result,
    audit_suite,
    blocking_checks,
    stop_if_blocked,
    suite_check_specs,
)
from assets.landing import LANDING_SNAPSHOTS
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import MERGE_KEY, PARTITION_COLUMN, LakehouseConfig, SparkResource
from expectations.accounting import daily_accounts
from jobs import pipeline
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
        snapshot = pipeline.dimension_snapshot(spark.session(f"silver/{name}"), settings, name)
        snapshot = snapshot.persist()
        audit = audit_suite(key, name, snapshot, settings, context.run_id)
        yield from audit
        stop_if_blocked(audit, blocking_checks(key, name))
        yield Output(snapshot)
        snapshot.unpersist()

    return _dimension


silver_planes = _dimension_asset("planes")
silver_airports = _dimension_asset("airports")
silver_airlines = _dimension_asset("airlines")


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
) -> Iterator[Output[DataFrame]]:
    checked = pipeline.check_weather(bronze_weather).persist()
    yield Output(pipeline.silver_weather(checked), output_name="silver_weather")
    quarantined = pipeline.quarantine(checked, pipeline.WEATHER, context.run_id)
    yield Output(quarantined, output_name="quarantine_weather")
    checked.unpersist()


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
    settings = lakehouse.settings()
    start, end = partition_dates(context)
    max_delay = settings.quality.max_delay_minutes
    checked = pipeline.check_flights(bronze_flights, airports, airlines, max_delay).persist()
    good = pipeline.silver_flights(checked, weather, planes).persist()
    bad = pipeline.quarantine(checked, pipeline.FLIGHTS, context.run_id)
    good.count()  # fill the cache now: the audit and the write both read it
    began = time.monotonic()
    accounts = daily_accounts(bronze_flights, good, bad, "flight_date")
    audit = [
        accounting_result(SILVER_FLIGHTS, accounts, time.monotonic() - began),
        *audit_suite(SILVER_FLIGHTS, "silver_flights", good, settings, context.run_id, start, end),
    ]
    yield from audit
    stop_if_blocked(audit, {ACCOUNTING_CHECK, *blocking_checks(SILVER_FLIGHTS, "silver_flights")})
    yield Output(good, output_name="silver_flights")  # published only after the audit
    yield Output(bad, output_name="quarantine_flights")
    good.unpersist()
    checked.unpersist()
