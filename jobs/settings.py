"""The one configuration loader.

Settings come from ``conf/<env>.toml``, where ``env`` is ``LAKEHOUSE_ENV`` (default
``local``). ``{root}`` in a value expands to ``LAKEHOUSE_ROOT`` (default ``.lakehouse``
in the checkout). Any key can be overridden for one process with an environment
variable ``LAKEHOUSE__<SECTION>__<KEY>``. Every value is validated when loaded; an
unknown, missing or malformed key fails with its dotted name and the file it came from.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ENVIRONMENTS = ("local", "dev", "prod")
REPO_ROOT = Path(__file__).resolve().parents[1]
OVERRIDE_PREFIX = "LAKEHOUSE__"


class SettingsError(ValueError):
    """A setting is missing, unknown or malformed; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Strict):
    tables: str = Field(description="Root URI of the Delta tables: <tables>/<layer>/<table>.")
    landing: str = Field(description="Root URI of the raw daily drops.")
    event_log: str = Field(description="Directory of the Spark event logs.")
    quality: str = Field(
        description="The Great Expectations project (suites, results, Data Docs): a local "
        "folder, or an s3(a):// prefix whose stores and Data Docs live in the bucket."
    )


class SmallRunSettings(_Strict):
    """How a run of a few days plans its queries (``[spark.small_run]``).

    Such a run (a day the automation launches, a rerun) handles a few thousand rows, so its
    time goes to planning some two hundred queries in a JVM that has only just started, not
    to moving data: generating and compiling Java for each query (Spark's code generation),
    re-planning each stage (adaptive execution) and scheduling many near-empty shuffle
    tasks cost more than they save there. A one-day run in a fresh process: 55 -> 43 s.
    """

    days: int = Field(
        default=31,
        ge=0,
        description="Runs whose range spans at most this many days use the settings below "
        "(0: none). A month still gains; the whole year runs as configured above.",
    )
    shuffle_partitions: int = Field(default=1, ge=1, le=10_000)
    adaptive: bool = Field(default=False, description="Adaptive query execution.")
    codegen: bool = Field(
        default=False,
        description="Whole-stage and expression code generation (false: Spark interprets).",
    )
    driver_java_options: str = Field(
        default="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        description="Added after [spark] driver_java_options when a small run starts the "
        "driver JVM (a process whose JVM already runs keeps its own): the quick JIT compiler "
        "only and one GC thread leave the JVM's work on one core (a one-day run: ~4 s and "
        "40% of the CPU less); a long run needs the optimizing compiler.",
    )


def _collectors(options: str) -> set[str]:
    """The garbage collectors JVM ``options`` select (``-XX:+UseSerialGC`` -> ``SerialGC``)."""
    return {
        word.removeprefix("-XX:+Use")
        for word in options.split()
        if word.startswith("-XX:+Use") and word.endswith("GC")
    }


class SparkSettings(_Strict):
    master: str
    jars: Literal["local", "submitted"] = Field(
        default="local",
        description="local: the pinned jars in .jars/ go on spark.jars; submitted: spark-submit "
        "passes them (--jars), as on EMR.",
    )
    driver_memory: str = Field(pattern=r"^\d+[gmk]$")
    shuffle_partitions: int = Field(ge=1, le=10_000)
    ui_enabled: bool
    runner: Literal["in_process", "pipes_subprocess", "pipes_emr", "pipes_emr_serverless"] = Field(
        default="in_process",
        description="Where Dagster runs the Spark assets: in its own process, or out of "
        "process through Dagster Pipes (spark-submit here, an EMR cluster, EMR Serverless).",
    )
    history_url: str | None = Field(
        default="http://127.0.0.1:18080",
        description="Spark history server that reads event_log; links in metadata point here.",
    )
    driver_java_options: str = Field(
        default="",
        description="JVM options added to a driver's spark.driver.extraJavaOptions, e.g. "
        "-XX:TieredStopAtLevel=1 (JIT compiler C1 only: about a quarter less CPU for a short "
        "run of a few days, slower for long ones; the test suite sets it).",
    )
    adaptive: bool = Field(default=True, description="Adaptive query execution.")
    codegen: bool = Field(
        default=True,
        description="Whole-stage and expression code generation (false: Spark interprets).",
    )
    small_run: SmallRunSettings = Field(default_factory=SmallRunSettings)
    conf: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_collector(self) -> SparkSettings:
        # A small run's JVM gets both option strings; two collectors would stop it starting.
        chosen = _collectors(self.driver_java_options) | _collectors(
            self.small_run.driver_java_options
        )
        if len(chosen) > 1:
            raise ValueError(
                f"spark.driver_java_options and spark.small_run.driver_java_options select "
                f"different garbage collectors ({', '.join(sorted(chosen))}); a small run's JVM "
                "gets both, so choose one in one of them"
            )
        return self


class DynamoDBLogStoreSettings(_Strict):
    table: str = Field(description="DynamoDB table Delta's S3DynamoDBLogStore commits through.")
    region: str


class S3Settings(_Strict):
    """How Spark (S3A) and boto3 reach object storage; no keys are ever set here."""

    endpoint: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO); unset means AWS S3."
    )
    region: str = "us-east-1"
    path_style_access: bool = False
    credentials: Literal["environment", "default-chain"] = Field(
        default="default-chain",
        description="environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; default-chain: the "
        "AWS chain (instance profile, IAM role, web identity, ...).",
    )
    create_buckets: bool = Field(
        default=False, description="Create missing buckets (dev); otherwise a missing one fails."
    )
    sse_kms_key_arn: str | None = Field(
        default=None, description="Encrypt every object S3A writes with this KMS key (SSE-KMS)."
    )
    dynamodb_log_store: DynamoDBLogStoreSettings | None = Field(
        default=None,
        description="Let several clusters write the same Delta tables (S3DynamoDBLogStore).",
    )


class EmrSettings(_Strict):
    """Where spark-submit/submit sends jobs on AWS: an EMR cluster or an EMR Serverless app."""

    region: str
    code_uri: str = Field(description="s3:// prefix the package (code, venv, jars, conf) goes to.")
    cluster_id: str | None = Field(default=None, description="EMR on EC2 cluster for add-step.")
    application_id: str | None = Field(default=None, description="EMR Serverless application.")
    execution_role_arn: str | None = Field(default=None, description="EMR Serverless job role.")
    log_uri: str | None = Field(default=None, description="s3:// prefix for driver logs.")
    ship_jars: list[str] = Field(
        default_factory=list, description="Pinned jars (from .jars/) uploaded with the package."
    )
    provided_jars: list[str] = Field(
        default_factory=list, description="Jars already on the cluster image, by path."
    )
    # A transient cluster per run (Dagster's PipesEMRClient): what run-job-flow creates.
    release_label: str = Field(default="emr-7.5.0", pattern=r"^emr-7\.\d+\.\d+$")
    instance_type: str = "m6g.xlarge"
    core_instances: int = Field(default=2, ge=1)
    service_role: str | None = None
    instance_profile: str | None = None


class PipelineSettings(_Strict):
    first_date: dt.date
    last_date: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> PipelineSettings:
        if self.last_date < self.first_date:
            raise ValueError("last_date is before first_date")
        return self


class QualitySettings(_Strict):
    max_delay_minutes: int = Field(
        default=1440, ge=60, description="A departure or arrival delay beyond this is quarantined."
    )
    docs_index_results: int = Field(
        default=200,
        ge=1,
        description="The Data Docs index lists the newest this many gate results (each keeps "
        "its own page). Every gate rebuilds the index by reading each result it lists, so an "
        "unbounded index made every gate slower as results accumulated.",
    )
    pandas_max_rows: int = Field(
        default=150_000,
        ge=0,
        description="A gate on at most this many rows validates a pandas copy of the frame on "
        "the driver: GX's Spark engine runs some twenty queries per suite, about a second in "
        "a young JVM however few the rows, where pandas takes hundredths. Larger frames (and "
        "every frame when 0) are validated by Spark, so the driver never holds a big range.",
    )


class MaintenanceSettings(_Strict):
    """Table maintenance (``lakehouse maintain``, the weekly ``table_maintenance`` job)."""

    vacuum_retention_hours: int = Field(
        default=168,
        ge=0,
        description="VACUUM deletes files no Delta version newer than this still reads; below "
        "168 (Delta's safety check) a reader or writer still on an older version can fail.",
    )
    days: int = Field(
        default=7, ge=1, description="The scheduled job optimizes this many most recent days."
    )
    schedule: str = Field(default="0 4 * * 0", description="Cron of the maintenance job (UTC).")


class HealthSettings(_Strict):
    """What ``lakehouse health`` requires."""

    daemon_required: bool = Field(
        default=False,
        description="Fail unless dagster-daemon (sensors, schedules, automation) beat within "
        "the tolerance; off: a stopped daemon is reported, as `lakehouse ui` runs it locally.",
    )
    heartbeat_tolerance_seconds: int = Field(
        default=300,
        ge=60,
        description="A daemon silent longer than this is down (it beats every 30 s).",
    )


class _SqlWarehouse(_Strict):
    skip_unchanged_dimensions: bool = Field(
        default=True,
        description="Skip loading a dimension the warehouse last loaded from the same version "
        "of its lakehouse table (and still holds with that load's row count).",
    )


class DuckDBWarehouse(_SqlWarehouse):
    backend: Literal["duckdb"]
    path: str = Field(description="DuckDB database file.")
    schema_name: str = Field(default="gold", alias="schema")
    lock_wait_seconds: int = Field(
        default=600,
        ge=0,
        description="How long a load or query waits for the file while another process holds "
        "it (DuckDB allows one writing process) before failing, naming that process.",
    )


class PostgresWarehouse(_SqlWarehouse):
    backend: Literal["postgres"]
    host: str
    port: int = Field(ge=1, le=65535)
    database: str
    user: str
    password_env: str = Field(description="Environment variable holding the password.")
    schema_name: str = Field(default="gold", alias="schema")


class RedshiftWarehouse(_Strict):
    backend: Literal["redshift"]
    region: str
    database: str
    cluster_id: str | None = None
    workgroup: str | None = Field(default=None, description="Redshift Serverless workgroup.")
    db_user: str | None = None
    secret_arn: str | None = None
    iam_role: str = Field(description="Role Redshift assumes to read the staging prefix.")
    staging_uri: str = Field(description="s3:// prefix where load ranges are staged as Parquet.")
    schema_name: str = Field(default="gold", alias="schema")

    @model_validator(mode="after")
    def _one_target(self) -> RedshiftWarehouse:
        if (self.cluster_id is None) == (self.workgroup is None):
            raise ValueError("set exactly one of cluster_id and workgroup")
        if self.cluster_id and not (self.db_user or self.secret_arn):
            raise ValueError("a provisioned cluster needs db_user or secret_arn")
        return self


class MlSettings(_Strict):
    """The departure-delay model: where MLflow keeps it, how it is trained and promoted."""

    model_name: str = Field(default="flights_delay", description="Registered model name.")
    experiment: str = Field(default="flights-delay", description="MLflow experiment.")
    tracking_uri: str = Field(description="MLflow tracking and registry store.")
    artifact_location: str | None = Field(
        default=None,
        description="Where the experiment's artifacts go; unset: the tracking server decides.",
    )
    training_cutoff: dt.date = Field(
        description="Train on days up to and including this one; evaluate on the days after."
    )
    holdout_days: int = Field(default=28, ge=1, le=180, description="Days evaluated after it.")
    promotion_margin: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="A challenger becomes champion when its PR AUC beats the champion's on the "
        "same holdout by at least this much (and beats the naive baseline).",
    )
    max_iter: int = Field(default=40, ge=1, le=500, description="Gradient-boosting rounds.")
    max_depth: int = Field(default=5, ge=1, le=12, description="Depth of each tree.")
    train_cron: str = Field(
        default="0 3 * * 1",
        description="When retraining is due (if the features changed since the last training).",
    )
    drift_psi_warn: float = Field(
        default=0.2, gt=0, description="Population stability index above which a feature warns."
    )
    min_realized_roc_auc: float = Field(
        default=0.6, ge=0.5, le=1, description="A scored day's realized ROC AUC below this warns."
    )


WarehouseSettings = Annotated[
    DuckDBWarehouse | PostgresWarehouse | RedshiftWarehouse, Field(discriminator="backend")
]


class Settings(_Strict):
    """Validated settings of one environment."""

    env: Literal["local", "dev", "prod"]
    root: Path
    source: Path
    storage: StorageSettings
    spark: SparkSettings
    pipeline: PipelineSettings
    warehouse: WarehouseSettings
    s3: S3Settings = Field(default_factory=S3Settings)
    emr: EmrSettings | None = None
    quality: QualitySettings = Field(default_factory=QualitySettings)
    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    ml: MlSettings

    def table_uri(self, layer: str, table: str) -> str:
        """Location of the Delta table ``<layer>/<table>``."""
        return f"{self.storage.tables.rstrip('/')}/{layer}/{table}"

    def landing_uri(self, dataset: str) -> str:
        """Location of one landed dataset, e.g. ``flights``."""
        return f"{self.storage.landing.rstrip('/')}/{dataset}"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def logs_dir(self) -> Path:
        """Where each ``lakehouse`` run writes its full log (always a local folder)."""
        return self.root / "logs"

    def for_range(self, start: dt.date | None, end: dt.date | None) -> Settings:
        """These settings for a run of ``start..end`` (no range: unchanged): a range of at
        most ``[spark.small_run] days`` days plans its queries as a small run."""
        days = self.spark.small_run.days
        if start is None or end is None or not 0 < (end - start).days + 1 <= days:
            return self
        return self.as_small_run()

    def as_small_run(self) -> Settings:
        """These settings with ``[spark.small_run]``'s way of planning queries (see
        ``SmallRunSettings``), for a run of a few days or a command that reads little;
        unchanged when ``[spark.small_run] days = 0`` turns small runs off."""
        small = self.spark.small_run
        if small.days == 0:
            return self
        spark = self.spark.model_copy(
            update={
                "shuffle_partitions": small.shuffle_partitions,
                "adaptive": small.adaptive,
                "codegen": small.codegen,
                "driver_java_options": " ".join(
                    filter(None, [self.spark.driver_java_options, small.driver_java_options])
                ),
            }
        )
        return self.model_copy(update={"spark": spark})

    def alerts_webhook(self) -> str | None:
        """Where run-failure alerts are POSTed: ``$LAKEHOUSE_ALERT_WEBHOOK`` (a secret URL,
        so never in a settings file), read when an alert is sent."""
        return os.environ.get("LAKEHOUSE_ALERT_WEBHOOK") or None


def environment_name(env: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The environment chosen: ``env``, else ``LAKEHOUSE_ENV`` of ``environ`` (default the
    process's), else ``local``; refused when it is none of :data:`ENVIRONMENTS`."""
    environ = os.environ if environ is None else environ
    name = (env or environ.get("LAKEHOUSE_ENV") or "local").strip()
    if name not in ENVIRONMENTS:
        raise SettingsError(
            f"LAKEHOUSE_ENV={name!r} is not an environment; choose one of {', '.join(ENVIRONMENTS)}"
        )
    return name


def lakehouse_root(environ: Mapping[str, str] | None = None) -> Path:
    """``LAKEHOUSE_ROOT`` (of ``environ``, default the process's), or ``.lakehouse`` in the
    checkout."""
    raw = (os.environ if environ is None else environ).get("LAKEHOUSE_ROOT")
    return Path(raw).expanduser().resolve() if raw else REPO_ROOT / ".lakehouse"


def conf_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder of the environment files (``LAKEHOUSE_CONF_DIR`` of ``environ``, default the
    process's, or ``conf/``)."""
    raw = (os.environ if environ is None else environ).get("LAKEHOUSE_CONF_DIR")
    return Path(raw).resolve() if raw else REPO_ROOT / "conf"


def _expand(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{root}", str(root))
    if isinstance(value, dict):
        return {k: _expand(v, root) for k, v in value.items()}
    return value


def _apply_overrides(raw: dict[str, Any], environ: dict[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(OVERRIDE_PREFIX):
            continue
        path = [part.lower() for part in name[len(OVERRIDE_PREFIX) :].split("__")]
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(f"{name}: {'.'.join(path)} does not name a setting")
        node[path[-1]] = value


def _format_errors(error: ValidationError, source: Path) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(file)"
        lines.append(f"  {key}: {item['msg']}")
    return f"invalid settings in {source}:\n" + "\n".join(lines)


def load_settings(env: str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load and validate the settings of ``env`` (default: ``LAKEHOUSE_ENV`` or ``local``).

    Every ``LAKEHOUSE_*`` variable (the environment's name, the root, the settings folder,
    the overrides) is read from ``environ``, default the process's environment.
    """
    environ = dict(os.environ if environ is None else environ)
    name = environment_name(env, environ)
    source = conf_dir(environ) / f"{name}.toml"
    if not source.is_file():
        raise SettingsError(f"no settings file for environment {name!r}: {source} is missing")
    try:
        raw = tomllib.loads(source.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source} is not valid TOML: {exc}") from exc
    _apply_overrides(raw, environ)
    root = lakehouse_root(environ)
    try:
        return Settings.model_validate(
            {**_expand(raw, root), "env": name, "root": root, "source": source}
        )
    except ValidationError as exc:
        raise SettingsError(_format_errors(exc, source)) from exc
