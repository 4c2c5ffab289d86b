"""Reading landing files: the edge between upstream drops and bronze.

Paths go through Hadoop's FileSystem, so the same code reads a local folder, MinIO or S3.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.bronze import (
    LandingFileError,
    LandingProblem,
    find_landing_problems,
    number_lines,
)

_CAUSE = re.compile(r"Caused by: ([\w.$]+(?:Exception|Error)[^\n]*)")


def daily_files(landing_uri: str, start: dt.date, end: dt.date) -> list[str]:
    """Expected drop for each day in ``[start, end]``."""
    days = (end - start).days + 1
    return [f"{landing_uri}/{start + dt.timedelta(days=n)}.csv.gz" for n in range(days)]


def _filesystem(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """A Hadoop ``Path`` and its ``FileSystem`` (py4j objects) for ``uri``."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def missing_files(spark: SparkSession, files: list[str]) -> list[str]:
    """The files in ``files`` that do not exist."""
    missing = []
    for uri in files:
        path, fs = _filesystem(spark, uri)
        if not fs.exists(path):
            missing.append(uri)
    return missing


def latest_snapshot(spark: SparkSession, dataset_uri: str) -> str:
    """The newest ``<date>.csv.gz`` snapshot in a dataset folder."""
    path, fs = _filesystem(spark, dataset_uri)
    if not fs.exists(path):
        raise FileNotFoundError(f"no snapshot folder {dataset_uri}: run `lakehouse land` first")
    names = sorted(
        status.getPath().getName()
        for status in fs.listStatus(path)
        if status.getPath().getName().endswith(".csv.gz")
    )
    if not names:
        raise FileNotFoundError(f"no snapshot file (*.csv.gz) in {dataset_uri}")
    return f"{dataset_uri.rstrip('/')}/{names[-1]}"


def read_landing_lines(
    spark: SparkSession, files: list[str], columns: tuple[str, ...]
) -> DataFrame:
    """Read and check the landing files; return their numbered lines, cached.

    Fails with :class:`LandingFileError` naming each bad file (and line) before anything
    downstream runs: missing or empty drops, wrong headers, bytes that are not UTF-8,
    truncated gzip streams. The caller unpersists the result when done.
    """
    try:  # Spark checks that every path exists (a year: 365 checks on its own threads)
        read = spark.read.text(files)
    except AnalysisException as exc:
        absent = missing_files(spark, files)  # one by one, only to name them
        if not absent:
            raise
        problems = [LandingProblem(f, None, "file is missing") for f in absent]
        raise LandingFileError(problems) from exc
    lines = read.withColumn("_source_file", F.input_file_name())
    numbered = number_lines(lines).persist()
    try:
        problems = find_landing_problems(numbered, files, columns)
    except Py4JJavaError as exc:
        numbered.unpersist()
        raise LandingFileError(_unreadable_files(spark, files)) from exc
    if problems:
        numbered.unpersist()
        raise LandingFileError(problems)
    return numbered


def _unreadable_files(spark: SparkSession, files: list[str]) -> list[LandingProblem]:
    """Read the files one by one to name those that cannot be read.

    Spark's error for a batch does not always say which file broke, and this path only
    runs after a failure, so the extra small jobs cost nothing in a good run.
    """
    problems = []
    for uri in files:
        try:
            spark.read.text(uri).count()
        except Py4JJavaError as exc:
            causes = _CAUSE.findall(str(exc)) or [str(exc).splitlines()[0]]
            message = f"cannot be read, a truncated or corrupt gzip stream ({causes[-1].strip()})"
            problems.append(LandingProblem(uri, None, message))
    return problems or [LandingProblem(", ".join(files), None, "unreadable (see the Spark error)")]


def read_snapshot_csv(spark: SparkSession, uri: str) -> DataFrame:
    """Read a dimension snapshot as strings; ``NA`` means missing, as upstream writes it."""
    return spark.read.option("header", True).option("nullValue", "NA").csv(uri)
