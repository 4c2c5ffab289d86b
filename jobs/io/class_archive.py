"""A class-data-sharing archive of the driver JVM's classes, made once by `make setup`.

Every `lakehouse` command, test process and local spark-submit starts a JVM that loads
some ten thousand classes of Spark, Delta and Hadoop before its first write, and a small
run pays that again in each fresh process. JDK 13+ can dump the classes a JVM loaded into
an archive (``-XX:ArchiveClassesAtExit``) that later JVMs map instead of parsing and
verifying the jars again (``-XX:SharedArchiveFile``). The archive is made from a small
representative workload (Delta range writes, a merge, reads, joins and aggregates), kept
beside the resolved jars (``.jars/spark-classes.jsa``, git-ignored) and used by local
masters only: a cluster's executors and EMR's driver never see this machine's files.

A JVM that cannot use the archive (another JDK, other jars) starts without it, as it
would without the file (``-Xshare:auto``), so a stale archive costs time, never a failure;
`make setup` remakes it when the jars or the lock file change.

Usage: python -m jobs.io.class_archive   (what `make setup` runs)
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.settings import Settings

ARCHIVE_NAME = "spark-classes.jsa"
# The JVM's CDS messages (classes it skips when dumping, an archive it cannot map) would
# otherwise reach every console.
_QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def archive_path(jars_folder: Path) -> Path:
    """Where the archive of the JVM whose jars are in ``jars_folder`` lives."""
    return jars_folder / ARCHIVE_NAME


def java_options(jars_folder: Path) -> str:
    """Driver JVM options that map the archive, or ``""`` when it has not been made (the
    session builder adds them for local masters, unless the settings' own driver options
    already name an archive)."""
    archive = archive_path(jars_folder)
    return f"-XX:SharedArchiveFile={archive} -Xshare:auto {_QUIET}" if archive.is_file() else ""


def with_driver_options(settings: Settings, options: str) -> Settings:
    """``settings`` whose Spark configuration starts the driver JVM with ``options``."""
    spark = settings.spark.model_copy(update={"driver_java_options": options})
    return settings.model_copy(update={"spark": spark})


def _workload(java_options: str) -> None:
    """What a pipeline run's JVM does, on a few rows: range writes, a merge, reads, a join,
    aggregates and a window, in a JVM started with ``java_options`` (it dumps the classes it
    loaded when this process ends)."""
    from pyspark import SparkContext
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from jobs.io import delta_io
    from jobs.io.session import build_spark_session
    from jobs.settings import load_settings

    settings = with_driver_options(load_settings("local"), java_options)
    spark = build_spark_session(settings, "class-archive")
    root = Path(os.environ["LAKEHOUSE_ROOT"])
    flights, planes = str(root / "flights"), str(root / "planes")
    for offset in range(3):
        day = dt.date(2013, 1, 1) + dt.timedelta(days=offset)
        rows = (
            spark.range(200)
            .withColumn("flight_date", F.lit(day).cast("date"))
            .withColumn("tailnum", F.concat(F.lit("N"), (F.col("id") % 7).cast("string")))
            .withColumn("dep_delay", F.rand(seed=offset) * 60)
        )
        delta_io.write_range(rows, flights, "flight_date", day, day)
        snapshot = rows.select("tailnum").distinct().withColumn("seats", F.lit(100 + offset))
        delta_io.merge_on_key(snapshot, planes, ("tailnum",))
    table = spark.read.format("delta").load(flights)
    joined = table.join(spark.read.format("delta").load(planes), "tailnum", "left")
    by_day = Window.partitionBy("flight_date").orderBy(F.desc("dep_delay"))
    summary = (
        joined.withColumn("rank", F.row_number().over(by_day))
        .groupBy("flight_date", "tailnum")
        .agg(F.avg("dep_delay"), F.max("seats"), F.min("rank"))
    )
    summary.toPandas()
    # The JVM writes the archive as it exits, which it does on its own some time after this
    # process; end it here and wait, so the archive is complete when this process ends.
    gateway = SparkContext._gateway
    assert gateway is not None
    spark.stop()
    jvm_process = gateway.proc
    gateway.shutdown()
    jvm_process.stdin.close()
    jvm_process.wait(timeout=300)


def make(jars_folder: Path) -> Path:
    """Run the workload in a JVM that dumps its classes, then put the archive in place
    (written under another name first: a JVM starting meanwhile never maps half a file)."""
    from jobs.io.session import LOOPBACK

    target = archive_path(jars_folder)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="class-archive-") as root:
        options = f"-XX:ArchiveClassesAtExit={partial} {_QUIET}"
        env = {
            **os.environ,
            "LAKEHOUSE_ROOT": root,
            "LAKEHOUSE_ENV": "local",
            "SPARK_LOCAL_IP": LOOPBACK,
        }
        command = [sys.executable, "-m", "jobs.io.class_archive", "--workload", options]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not partial.is_file():
        raise RuntimeError(
            f"the JVM wrote no class archive at {partial} (workload exit code "
            f"{done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}"
        )
    partial.replace(target)
    return target


def main() -> None:
    if sys.argv[1:2] == ["--workload"]:
        _workload(sys.argv[2])
        return
    from jobs.io.session import jars_dir

    print(f"class archive for the driver JVM: {make(jars_dir())}")


if __name__ == "__main__":
    main()
