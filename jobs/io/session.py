"""The one Spark session builder, used by spark-submit entry points, Dagster and tests.

JVM jars are pinned in ``conf/pom.xml`` and resolved by ``make jars`` into ``.jars/``;
this module reads the same pom so the classpath is exactly what was pinned and nothing
is downloaded at run time.
"""

from __future__ import annotations

import importlib
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyspark import SparkContext
from pyspark.sql import DataFrame, SparkSession

from jobs.io import local_fs
from jobs.io.class_archive import java_options
from jobs.settings import REPO_ROOT, S3Settings, Settings, conf_dir

_MAVEN_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
# Spark masks the values of matching keys in the UI, event logs and logs.
REDACTION_REGEX = r"(?i)secret|password|token|access[._-]?key|session[._-]?token|credential"


class MissingJarError(RuntimeError):
    """A pinned jar is not in the jars folder."""


@dataclass(frozen=True)
class PinnedJar:
    group: str
    artifact: str
    version: str

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"


def pinned_jars(pom: Path | None = None) -> list[PinnedJar]:
    """The jars pinned in the Maven pom (``conf/pom.xml``), in declaration order."""
    pom = pom or conf_dir() / "pom.xml"
    root = ET.parse(pom).getroot()
    jars = []
    for dep in root.iterfind("m:dependencies/m:dependency", _MAVEN_NS):
        group, artifact, version = (
            dep.findtext(f"m:{tag}", namespaces=_MAVEN_NS)
            for tag in ("groupId", "artifactId", "version")
        )
        if not (group and artifact and version):
            raise ValueError(f"{pom}: a dependency lacks groupId, artifactId or version")
        jars.append(PinnedJar(group, artifact, version))
    return jars


def jars_dir() -> Path:
    """Where ``make jars`` puts the resolved jars (``LAKEHOUSE_JARS_DIR`` or ``.jars/``)."""
    raw = os.environ.get("LAKEHOUSE_JARS_DIR")
    return Path(raw).resolve() if raw else REPO_ROOT / ".jars"


def resolved_jar_paths(folder: Path | None = None) -> list[Path]:
    """Paths of every pinned jar; fails naming the first missing jar and the fix."""
    folder = folder or jars_dir()
    paths = [folder / jar.file_name for jar in pinned_jars()]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(p.name for p in missing)
        raise MissingJarError(
            f"missing JVM jar(s) in {folder}: {names}. Run `make jars` "
            f"(mvn -f conf/pom.xml package) to resolve them from Maven Central."
        )
    return paths


_CREDENTIAL_PROVIDERS = {
    "environment": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
    "default-chain": "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
}


def s3a_conf(s3: S3Settings) -> dict[str, str]:
    """Spark settings for S3A (and Delta's log store) derived from the ``[s3]`` settings."""
    conf = {
        "spark.hadoop.fs.s3a.aws.credentials.provider": _CREDENTIAL_PROVIDERS[s3.credentials],
        "spark.hadoop.fs.s3a.endpoint.region": s3.region,
        "spark.hadoop.fs.s3a.path.style.access": str(s3.path_style_access).lower(),
    }
    if s3.endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = s3.endpoint
        ssl = s3.endpoint.startswith("https://")
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(ssl).lower()
    if s3.sse_kms_key_arn:
        conf["spark.hadoop.fs.s3a.encryption.algorithm"] = "SSE-KMS"
        conf["spark.hadoop.fs.s3a.encryption.key"] = s3.sse_kms_key_arn
    if s3.dynamodb_log_store:
        # Without it Delta's S3 log store is safe for one writing driver only: S3 has no
        # put-if-absent for the commit file, so two clusters could both write version N.
        store = "spark.io.delta.storage.S3DynamoDBLogStore"
        conf["spark.delta.logStore.s3a.impl"] = "io.delta.storage.S3DynamoDBLogStore"
        conf["spark.delta.logStore.s3.impl"] = "io.delta.storage.S3DynamoDBLogStore"
        conf[f"{store}.ddb.tableName"] = s3.dynamodb_log_store.table
        conf[f"{store}.ddb.region"] = s3.dynamodb_log_store.region
    return conf


def planning_conf(settings: Settings) -> dict[str, str]:
    """How queries are planned: the runtime settings a small run changes on a session that
    already exists. All are set whichever way the settings say (a small run's, or Spark's
    defaults), so a process whose session ran a small run runs a large one as configured."""
    spark = settings.spark
    return {
        "spark.sql.adaptive.enabled": str(spark.adaptive).lower(),
        "spark.sql.codegen.wholeStage": str(spark.codegen).lower(),
        # Also expressions outside whole-stage code: interpreted instead of compiled (an
        # internal setting that Spark's own tests use; FALLBACK is its default).
        "spark.sql.codegen.factoryMode": "FALLBACK" if spark.codegen else "NO_CODEGEN",
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        # Delta replays its log with this many tasks; the default (50) is slow for small tables.
        "spark.databricks.delta.snapshotPartitions": str(spark.shuffle_partitions),
    }


def spark_conf(settings: Settings, app_name: str) -> dict[str, str]:
    """The full Spark configuration for ``settings``, as plain strings."""
    conf = {
        "spark.master": settings.spark.master,
        "spark.app.name": app_name,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        **planning_conf(settings),
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.ui.enabled": str(settings.spark.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": settings.storage.event_log,
        "spark.redaction.regex": REDACTION_REGEX,
        "spark.sql.redaction.options.regex": REDACTION_REGEX,
        **s3a_conf(settings.s3),
    }
    if is_local_master(settings):
        conf["spark.driver.host"] = conf["spark.driver.bindAddress"] = LOOPBACK
    if settings.spark.jars == "local":
        conf["spark.jars"] = ",".join(str(p) for p in resolved_jar_paths())
    conf.update(settings.spark.conf)
    if settings.spark.driver_java_options:
        key = "spark.driver.extraJavaOptions"
        conf[key] = f"{conf.get(key, '')} {settings.spark.driver_java_options}".strip()
    _add_local_file_system(settings, conf)
    _add_class_archive(settings, conf)
    _add_log_config(settings, conf)
    return conf


def _add_local_file_system(settings: Settings, conf: dict[str, str]) -> None:
    """Write ``file://`` without forking ``chmod`` per file (``jobs/io/local_fs.py``) on a
    local master with this checkout's jars, when `make setup` built it and the settings
    choose no ``file://`` implementation themselves."""
    if not _local_with_checkout_jars(settings) or "spark.hadoop.fs.file.impl" in conf:
        return
    for key, value in local_fs.spark_conf(jars_dir()).items():
        own = conf.get(key) if key == "spark.driver.extraClassPath" else None
        conf[key] = f"{own}:{value}" if own else value


def _add_class_archive(settings: Settings, conf: dict[str, str]) -> None:
    """Map the driver JVM's class archive (``jobs/io/class_archive.py``) on a local master
    with this checkout's jars, when `make setup` made it and the settings name none."""
    key = "spark.driver.extraJavaOptions"
    own = conf.get(key, "")
    if not _local_with_checkout_jars(settings) or _names_archive(own):
        return
    options = java_options(jars_dir())
    if options:
        conf[key] = f"{own} {options}".strip()


def _add_log_config(settings: Settings, conf: dict[str, str]) -> None:
    """Start a local driver with the checkout's log configuration (``conf/log4j2.properties``:
    no start-up lines on every command's console), unless the settings name one."""
    key = "spark.driver.extraJavaOptions"
    own = conf.get(key, "")
    if not is_local_master(settings) or "-Dlog4j2.configurationFile=" in own:
        return
    config = conf_dir() / "log4j2.properties"
    if config.is_file():
        conf[key] = f"{own} -Dlog4j2.configurationFile={config.as_uri()}".strip()


# JVM options by which the settings choose class sharing themselves: their own archive, the
# dump of one (the archive's own making, jobs/io/class_archive.py), or none at all.
_ARCHIVE_OPTIONS = ("-XX:SharedArchiveFile=", "-XX:ArchiveClassesAtExit=", "-Xshare:off")


def _names_archive(options: str) -> bool:
    return any(word.startswith(_ARCHIVE_OPTIONS) for word in options.split())


# Where a local driver listens (RPC, block manager, UI): this machine only. Spark's web UIs
# bind where SPARK_LOCAL_IP says, 0.0.0.0 (every interface) otherwise; EMR drivers are
# left alone (executors on other nodes reach them), their UIs are reached by SSH tunnel.
LOOPBACK = "127.0.0.1"


def _local_with_checkout_jars(settings: Settings) -> bool:
    """A local master on this checkout's jars: what `make setup` built here applies to it."""
    return is_local_master(settings) and settings.spark.jars == "local"


def is_local_master(settings: Settings) -> bool:
    return settings.spark.master.startswith("local")


def application_name(settings: Settings, purpose: str) -> str:
    """The Spark application name of ``purpose`` (an asset, a command, a job) in the
    settings' environment, as the history server lists it."""
    return f"flights-lakehouse[{settings.env}] {purpose}"


def build_spark_session(
    settings: Settings, app_name: str, import_meanwhile: Sequence[str] = ()
) -> SparkSession:
    """Return this process's Spark session, creating it from ``settings`` if needed.

    Spark allows one session per JVM, so a later caller gets the session the first one
    made (``getOrCreate``); its app name tells what started it. ``import_meanwhile``: Python
    modules the caller will need, imported in a thread while the JVM starts (the seconds of
    an import such as Great Expectations' then cost no time of their own).
    """
    conf = spark_conf(settings, app_name)
    starting = SparkContext._active_spark_context is None
    if starting:
        _prepare_storage(settings)
        if is_local_master(settings):
            os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)  # read when the JVM starts
    imported = _import_in_background(import_meanwhile if starting else ())
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    finally:
        imported()  # no import runs beside the caller's code once the session is back
    spark.sparkContext.setLogLevel("WARN")
    _apply_hadoop_conf(spark, conf)
    return spark


def _import_in_background(modules: Sequence[str]) -> Callable[[], None]:
    """Start importing ``modules`` in a thread; the function returned waits for it.

    While the JVM starts, this process only waits for it, so the import takes the other
    core. A module that fails to import here is left alone: its caller's own import fails
    again, with the error, where it is used.
    """
    if not modules:
        return lambda: None

    def import_all() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # raised again by the caller's own import
                continue

    thread = threading.Thread(target=import_all, name="import-meanwhile", daemon=True)
    thread.start()
    return thread.join


def _prepare_storage(settings: Settings) -> None:
    """Make the event-log folder and the buckets exist: Spark refuses to start without the
    first, and a Delta write into a missing bucket fails late. Done once per JVM."""
    from jobs.io.objectstore import ensure_buckets  # boto3 is used only for object storage

    if "://" not in settings.storage.event_log:
        Path(settings.storage.event_log).mkdir(parents=True, exist_ok=True)
    ensure_buckets(settings)


def _apply_hadoop_conf(spark: SparkSession, conf: dict[str, str]) -> None:
    """Apply the ``spark.hadoop.*`` settings to a session that already existed.

    ``spark.hadoop.*`` is read only when the SparkContext starts; a second environment in
    the same process (the test suite runs ``local`` and ``dev`` side by side) still needs
    its storage settings, which S3A reads from the Hadoop configuration at first use.
    """
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in conf.items():
        if key.startswith("spark.hadoop."):
            hadoop.set(key.removeprefix("spark.hadoop."), value)


def formatted_plan(df: DataFrame, limit: int = 30_000) -> str:
    """The physical plan of ``df`` as ``df.explain("formatted")`` prints it (without printing).

    Cut at ``limit`` characters so a materialization's metadata stays small.
    """
    jvm = df.sparkSession._jvm
    assert jvm is not None
    plan = str(jvm.PythonSQLUtils.explainString(df._jdf.queryExecution(), "formatted"))
    return plan if len(plan) <= limit else plan[:limit] + "\n... (cut)"


def history_link(settings: Settings, app_id: str) -> str | None:
    """Where the Spark history server shows application ``app_id`` (its SQL tab)."""
    base = settings.spark.history_url
    return f"{base.rstrip('/')}/history/{app_id}/SQL/" if base else None
