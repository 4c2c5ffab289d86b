"""Silver: typed, time-zone-correct flights and weather. Pure DataFrame transforms.

The source gives clock times as ``HHMM`` integers in local time: departures in New York,
arrivals at the destination. Scheduled departure is anchored on the flight's date; the
actual departure is the clock time on whichever day is nearest to ``scheduled + delay``
(delays cross midnight); arrivals are the first matching clock time at or after the
departure, in the destination's time zone (overnight arrivals land on the next day).
Local wall times become UTC with the zone's rules, so DST change days come out right.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# The airports snapshot lacks four destinations served from New York in 2013; their zones
# are needed to place arrivals in UTC. (AST all year, no DST.)
EXTRA_AIRPORT_TIMEZONES = {
    "BQN": "America/Puerto_Rico",
    "PSE": "America/Puerto_Rico",
    "SJU": "America/Puerto_Rico",
    "STT": "America/St_Thomas",
}
MINUTES_PER_DAY = 24 * 60
FLIGHT_KEY = ("flight_date", "carrier", "flight", "origin")
WEATHER_KEY = ("origin", "time_hour_utc")
_INTEGER = r"^\s*[-+]?\d+\s*$"
_DECIMAL = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"

FLIGHT_INT_FIELDS = (
    "year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
    "sched_arr_time", "arr_delay", "flight", "air_time", "distance", "hour", "minute",
)  # fmt: skip
WEATHER_DECIMAL_FIELDS = (
    "year", "month", "day", "hour", "temp", "dewp", "humid", "wind_dir", "wind_speed",
    "wind_gust", "precip", "pressure", "visib",
)  # fmt: skip

SILVER_FLIGHT_COLUMNS = (
    "flight_date", "carrier", "flight", "origin", "dest", "tailnum",
    "sched_dep_utc", "dep_utc", "sched_arr_utc", "arr_utc", "sched_hour_utc",
    "dep_delay_min", "arr_delay_min", "air_time_min", "distance_mi", "cancelled",
)  # fmt: skip
SILVER_WEATHER_COLUMNS = (
    "weather_date", "origin", "time_hour_utc", "temp_f", "dewpoint_f", "humidity_pct",
    "wind_dir_deg", "wind_speed_mph", "wind_gust_mph", "precip_in", "pressure_mb",
    "visibility_mi",
)  # fmt: skip
LINEAGE_COLUMNS = ("_source_file", "_row_number", "_ingested_at")


def is_missing(raw: Column) -> Column:
    """True where a raw field holds no value (null, blank or ``NA``)."""
    return raw.isNull() | (F.trim(raw) == "") | (F.upper(F.trim(raw)) == "NA")


def is_malformed_integer(raw: Column) -> Column:
    """True where a raw field holds something that is not an integer."""
    return ~is_missing(raw) & ~raw.rlike(_INTEGER)


def is_malformed_decimal(raw: Column) -> Column:
    """True where a raw field holds something that is not a number."""
    return ~is_missing(raw) & ~raw.rlike(_DECIMAL)


def to_int(raw: Column) -> Column:
    """Integer value of a raw field; null when missing or malformed."""
    return F.when(raw.rlike(_INTEGER), F.trim(raw).cast("int"))


def to_double(raw: Column) -> Column:
    """Decimal value of a raw field; null when missing or malformed."""
    return F.when(raw.rlike(_DECIMAL), F.trim(raw).cast("double"))


def hhmm_to_minutes(hhmm: Column) -> Column:
    """Minutes after midnight of an ``HHMM`` clock time; ``2400`` is the next midnight.

    Null for an impossible time (minute over 59, hour over 24, negative).
    """
    hours, minutes = F.floor(hhmm / 100), hhmm % 100
    valid = (hhmm >= 0) & (hhmm <= 2400) & (minutes <= 59)
    return F.when(valid, (hours * 60 + minutes).cast("int"))


def local_to_utc(day: Column, minutes: Column, tz: Column) -> Column:
    """UTC instant of the wall-clock time ``day + minutes`` in zone ``tz``."""
    local = F.timestamp_seconds(F.unix_timestamp(F.to_timestamp(day)) + minutes * 60)
    return F.to_utc_timestamp(local, tz)


def next_at_or_after(reference_utc: Column, minutes: Column, tz: Column) -> Column:
    """UTC instant of the first local clock time ``minutes`` at or after ``reference_utc``."""
    reference_local = F.from_utc_timestamp(reference_utc, tz)
    day = F.to_date(reference_local)
    same_day = F.timestamp_seconds(F.unix_timestamp(F.to_timestamp(day)) + minutes * 60)
    local = F.when(same_day < reference_local, same_day + F.expr("INTERVAL 1 DAY")).otherwise(
        same_day
    )
    return F.to_utc_timestamp(local, tz)


def nearest_day_offset(clock_minutes: Column, expected_minutes: Column) -> Column:
    """Whole days to add to a clock time so it lies nearest the expected minute of the day."""
    return F.round((expected_minutes - clock_minutes) / MINUTES_PER_DAY).cast("int")


def airport_timezones(airports: DataFrame) -> DataFrame:
    """``(faa, tzone)`` from the airports dimension, plus the zones it lacks."""
    spark = airports.sparkSession
    extra = spark.createDataFrame(
        list(EXTRA_AIRPORT_TIMEZONES.items()), "faa STRING, tzone STRING"
    ).join(airports.select("faa"), "faa", "left_anti")
    return airports.select("faa", "tzone").where(F.col("tzone").isNotNull()).unionByName(extra)


# What parse_flights adds for the row rules alone (expectations/rules.py): neither silver
# nor the quarantine keeps them, so a checked frame drops them before it is cached.
RULE_ONLY_FLIGHT_COLUMNS = (
    "row_date", "sched_dep_min", "dep_min", "sched_arr_min", "arr_min", "origin_tz", "dest_tz",
    "carrier_name",
)  # fmt: skip


def parse_flights(bronze: DataFrame, airports: DataFrame, airlines: DataFrame) -> DataFrame:
    """Type the raw flight fields and place every time in UTC.

    Keeps the raw string columns beside the typed ones, so the quality rules can tell a
    missing value from a malformed one and a quarantined row keeps what was received.
    """
    zones = F.broadcast(airport_timezones(airports))
    origin_tz = zones.select(F.col("faa").alias("origin"), F.col("tzone").alias("origin_tz"))
    dest_tz = zones.select(F.col("faa").alias("dest"), F.col("tzone").alias("dest_tz"))
    carriers = F.broadcast(
        airlines.select(F.col("carrier").alias("carrier_code"), F.col("name").alias("carrier_name"))
    )
    typed = (
        bronze.withColumn("carrier_code", F.trim("carrier"))
        .withColumn("flight_number", to_int(F.col("flight")))
        .withColumn("row_date", F.make_date(*(to_int(F.col(c)) for c in ("year", "month", "day"))))
        .withColumn("sched_dep_min", hhmm_to_minutes(to_int(F.col("sched_dep_time"))))
        .withColumn("dep_min", hhmm_to_minutes(to_int(F.col("dep_time"))))
        .withColumn("sched_arr_min", hhmm_to_minutes(to_int(F.col("sched_arr_time"))))
        .withColumn("arr_min", hhmm_to_minutes(to_int(F.col("arr_time"))))
        .withColumn("dep_delay_min", to_int(F.col("dep_delay")))
        .withColumn("arr_delay_min", to_int(F.col("arr_delay")))
        .withColumn("air_time_min", to_int(F.col("air_time")))
        .withColumn("distance_mi", to_int(F.col("distance")))
        .join(origin_tz, "origin", "left")
        .join(dest_tz, "dest", "left")
        .join(carriers, "carrier_code", "left")
    )
    dep_offset = nearest_day_offset(
        F.col("dep_min"), F.col("sched_dep_min") + F.coalesce(F.col("dep_delay_min"), F.lit(0))
    )
    return (
        typed.withColumn(
            "sched_dep_utc",
            local_to_utc(F.col("flight_date"), F.col("sched_dep_min"), F.col("origin_tz")),
        )
        .withColumn(
            "dep_utc",
            local_to_utc(
                F.col("flight_date"),
                F.col("dep_min") + dep_offset * MINUTES_PER_DAY,
                F.col("origin_tz"),
            ),
        )
        .withColumn(
            "sched_arr_utc",
            next_at_or_after(F.col("sched_dep_utc"), F.col("sched_arr_min"), F.col("dest_tz")),
        )
        .withColumn(
            "arr_utc", next_at_or_after(F.col("dep_utc"), F.col("arr_min"), F.col("dest_tz"))
        )
        .withColumn("sched_hour_utc", F.date_trunc("hour", F.col("sched_dep_utc")))
        .withColumn("cancelled", is_missing(F.col("dep_time")))
    )


def to_silver_flights(checked: DataFrame) -> DataFrame:
    """The silver flight columns of parsed rows that passed every rule."""
    renamed = checked.drop("carrier", "flight").withColumnsRenamed(
        {"carrier_code": "carrier", "flight_number": "flight"}
    )
    return renamed.select(*SILVER_FLIGHT_COLUMNS, *LINEAGE_COLUMNS)


def parse_weather(bronze: DataFrame) -> DataFrame:
    """Type the raw hourly weather fields; the hour is the source's UTC ``time_hour``."""
    values = {f"{c}_value": to_double(F.col(c)) for c in WEATHER_DECIMAL_FIELDS}
    return bronze.withColumns(values).withColumns(
        {
            "row_date": F.make_date(
                *(F.col(f"{c}_value").cast("int") for c in ("year", "month", "day"))
            ),
            "time_hour_utc": F.to_timestamp("time_hour", "yyyy-MM-dd'T'HH:mm:ssX"),
            "origin_code": F.trim("origin"),
        }
    )


# Parsed weather measurement -> its silver name (with its unit); flights carry them all.
WEATHER_MEASURES = {
    "temp_value": "temp_f",
    "dewp_value": "dewpoint_f",
    "humid_value": "humidity_pct",
    "wind_dir_value": "wind_dir_deg",
    "wind_speed_value": "wind_speed_mph",
    "wind_gust_value": "wind_gust_mph",
    "precip_value": "precip_in",
    "pressure_value": "pressure_mb",
    "visib_value": "visibility_mi",
}


def to_silver_weather(checked: DataFrame) -> DataFrame:
    """The silver weather columns of parsed rows that passed every rule."""
    return checked.select(
        "weather_date",
        F.col("origin_code").alias("origin"),
        "time_hour_utc",
        *(F.col(parsed).alias(name) for parsed, name in WEATHER_MEASURES.items()),
        *LINEAGE_COLUMNS,
    )


def enrich_flights(flights: DataFrame, weather: DataFrame, planes: DataFrame) -> DataFrame:
    """Join each flight with its origin's weather at the scheduled hour and its plane."""
    hourly = weather.select(
        "origin", F.col("time_hour_utc").alias("sched_hour_utc"), *WEATHER_MEASURES.values()
    )
    plane = planes.select(
        "tailnum",
        F.col("year_built").alias("plane_year_built"),
        F.col("type").alias("plane_type"),
        F.col("manufacturer").alias("plane_manufacturer"),
        F.col("model").alias("plane_model"),
        F.col("engines").alias("plane_engines"),
        F.col("seats").alias("plane_seats"),
        F.col("engine").alias("plane_engine"),
    )
    joined = flights.join(hourly, ["origin", "sched_hour_utc"], "left").join(
        F.broadcast(plane), "tailnum", "left"
    )
    extra = [c for c in hourly.columns + plane.columns if c not in flights.columns]
    return joined.select(*SILVER_FLIGHT_COLUMNS, *extra, *LINEAGE_COLUMNS)
