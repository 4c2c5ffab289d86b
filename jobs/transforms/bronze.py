"""Bronze: landing lines as received (strings), with their file, line number and ingestion time.

Pure transforms over a DataFrame of raw lines ``(value, _source_file)`` as read by
:func:`jobs.sources.read_landing_lines`. Nothing here reads or writes storage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

FLIGHTS_COLUMNS = (
    "year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
    "sched_arr_time", "arr_delay", "carrier", "flight", "tailnum", "origin", "dest",
    "air_time", "distance", "hour", "minute", "time_hour",
)  # fmt: skip
WEATHER_COLUMNS = (
    "origin", "year", "month", "day", "hour", "temp", "dewp", "humid", "wind_dir",
    "wind_speed", "wind_gust", "precip", "pressure", "visib", "time_hour",
)  # fmt: skip
METADATA_COLUMNS = ("_source_file", "_row_number", "_ingested_at")
CORRUPT_COLUMN = "_corrupt_record"
REPLACEMENT_CHAR = "\ufffd"  # what Java's UTF-8 decoder puts where bytes are not UTF-8
BOM = "\ufeff"  # a byte-order mark some exporters put before the header


@dataclass(frozen=True)
class LandingProblem:
    """One reason a landing file cannot be ingested."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class LandingFileError(ValueError):
    """One or more landing files cannot be read; nothing was written."""

    def __init__(self, problems: list[LandingProblem]) -> None:
        self.problems = problems
        super().__init__("cannot ingest landing files:\n" + "\n".join(f"  {p}" for p in problems))


def date_from_file_name(file_col: str = "_source_file") -> Column:
    """The day a drop is for, from its name ``.../YYYY-MM-DD.csv.gz``."""
    return F.to_date(F.regexp_extract(F.col(file_col), r"(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$", 1))


def number_lines(lines: DataFrame) -> DataFrame:
    """Add ``_row_number``, the 1-based line number of each line within its file.

    Gzip files are not splittable, so each file is read in order by one task and
    ``monotonically_increasing_id`` follows file order within it.
    """
    order = Window.partitionBy("_source_file").orderBy("_line_id")
    return (
        lines.withColumn("_line_id", F.monotonically_increasing_id())
        .withColumn("_row_number", F.row_number().over(order))
        .drop("_line_id")
    )


def is_valid_utf8(text: Column) -> Column:
    """True where a line's bytes are valid UTF-8.

    Spark keeps a text line's raw bytes; decoding them through Java marks each invalid
    sequence with U+FFFD.
    """
    return ~F.decode(text.cast("binary"), "UTF-8").contains(REPLACEMENT_CHAR)


def find_landing_problems(
    numbered: DataFrame, expected_files: list[str], columns: tuple[str, ...]
) -> list[LandingProblem]:
    """Check headers, encoding and emptiness of the files in one aggregation.

    ``expected_files`` are the files that should be present; a file with no line at all
    (an empty drop) is missing from ``numbered``.
    """
    stats = (
        numbered.groupBy("_source_file")
        .agg(
            F.max(F.when(F.col("_row_number") == 1, F.col("value"))).alias("header"),
            F.min(F.when(~is_valid_utf8(F.col("value")), F.col("_row_number"))).alias(
                "first_bad_byte_line"
            ),
        )
        .collect()
    )
    problems = []
    seen = set()
    for row in stats:
        name = row["_source_file"]
        seen.add(_base_name(name))
        problems += [LandingProblem(name, 1, m) for m in header_problems(row["header"], columns)]
        if row["first_bad_byte_line"] is not None:
            problems.append(
                LandingProblem(name, row["first_bad_byte_line"], "bytes that are not valid UTF-8")
            )
    for name in expected_files:
        if _base_name(name) not in seen:
            problems.append(LandingProblem(name, None, "empty file: no header and no rows"))
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def header_names(header: str) -> list[str]:
    """The column names of a header line (a leading byte-order mark and quotes removed)."""
    return [name.strip().strip('"') for name in header.removeprefix(BOM).split(",")]


def header_problems(header: str, columns: tuple[str, ...]) -> list[str]:
    """Why a header cannot be read as ``columns``: columns missing, unknown or repeated.

    Columns in another order are no problem: fields are taken by name.
    """
    names = header_names(header)
    missing = [c for c in columns if c not in names]
    unknown = [n for n in names if n not in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"header lacks column(s) {', '.join(missing)}")
    if unknown:
        problems.append(
            f"header has unknown column(s) {', '.join(unknown)} (refused rather than dropped; "
            "add them to the dataset's columns to ingest them)"
        )
    if repeated:
        problems.append(f"header repeats column(s) {', '.join(repeated)}")
    return problems


def _base_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def split_csv_fields(numbered: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """Split each data line into string columns, taking each field by its header's name.

    Files whose header orders the columns differently (checked by
    :func:`header_problems` to hold exactly ``columns``) land in the same columns. A line
    with too few or too many fields keeps what could be split and carries the raw line in
    ``_corrupt_record``, so silver can quarantine it rather than guess.
    """
    positions = range(len(columns))
    schema = ", ".join(f"`_f{i}` STRING" for i in positions) + f", `{CORRUPT_COLUMN}` STRING"
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
    # A byte-order mark before the header needs nothing here: the CSV parser skips one at
    # the start of a value (tests/jobs/transforms/test_bronze.py keeps it so).
    fields = numbered.select(
        "_source_file", "_row_number", F.from_csv(F.col("value"), schema, options).alias("r")
    )
    # Where each column is in its file's header, found once per file (0: not there; such a
    # header is refused before this runs). A row then takes each field by that position: a
    # CASE per column comparing every header name cost 19 x 19 string comparisons a row
    # (splitting the year's flights: 7 s -> 3 s warm).
    header = F.array(*(F.trim(F.col(f"r._f{i}")) for i in positions))
    headers = fields.where(F.col("_row_number") == 1).select(
        "_source_file",
        *(
            F.array_position(header, name).cast("int").alias(f"_p{j}")
            for j, name in enumerate(columns)
        ),
    )
    values = F.array(*(F.col(f"r._f{i}") for i in positions))
    return (
        fields.where(F.col("_row_number") > 1)
        .join(F.broadcast(headers), "_source_file")
        .select(
            # get() is 0-based and NULL outside the array, as a column the header lacks
            *(F.get(values, F.col(f"_p{j}") - 1).alias(name) for j, name in enumerate(columns)),
            F.col(f"r.{CORRUPT_COLUMN}").alias(CORRUPT_COLUMN),
            "_source_file",
            "_row_number",
        )
    )


def to_bronze(
    numbered: DataFrame, columns: tuple[str, ...], date_column: str, ingested_at: dt.datetime
) -> DataFrame:
    """Rows as received: every field a string, plus source file, line number and ingestion time."""
    split = split_csv_fields(numbered, columns)
    return split.select(
        *columns,
        CORRUPT_COLUMN,
        "_source_file",
        F.col("_row_number").cast("int").alias("_row_number"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        date_from_file_name().alias(date_column),
    )
