"""The prod profile resolved without AWS: the Spark conf EMR gets and the Dagster instance file."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config

from jobs.io.session import REDACTION_REGEX, spark_conf
from jobs.settings import REPO_ROOT, load_settings

PROD_INSTANCE = REPO_ROOT / "conf" / "dagster" / "prod"


@pytest.fixture(scope="module")
def prod_conf() -> dict[str, str]:
    return spark_conf(load_settings("prod", environ={}), "silver_job")


def test_s3a_uses_the_aws_credential_chain_and_no_keys(prod_conf):
    assert (
        prod_conf["spark.hadoop.fs.s3a.aws.credentials.provider"]
        == "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
    )
    assert not [key for key in prod_conf if "access.key" in key or "secret.key" in key]
    assert "spark.hadoop.fs.s3a.endpoint" not in prod_conf  # AWS's regional endpoint


def test_every_object_is_encrypted_with_the_configured_kms_key(prod_conf):
    assert prod_conf["spark.hadoop.fs.s3a.encryption.algorithm"] == "SSE-KMS"
    assert prod_conf["spark.hadoop.fs.s3a.encryption.key"].startswith("arn:aws:kms:us-east-1:")


def test_delta_commits_through_the_dynamodb_log_store(prod_conf):
    for scheme in ("s3a", "s3"):
        assert prod_conf[f"spark.delta.logStore.{scheme}.impl"] == (
            "io.delta.storage.S3DynamoDBLogStore"
        )
    store = "spark.io.delta.storage.S3DynamoDBLogStore.ddb"
    assert prod_conf[f"{store}.tableName"] == "flights_lakehouse_delta_log"
    assert prod_conf[f"{store}.region"] == "us-east-1"


def test_emr_settings_and_jars_left_to_spark_submit(prod_conf):
    assert prod_conf["spark.master"] == "yarn"
    assert prod_conf["spark.dynamicAllocation.enabled"] == "true"
    assert prod_conf["spark.eventLog.dir"] == "s3a://flights-lakehouse-prod/spark-events"
    assert prod_conf["spark.redaction.regex"] == REDACTION_REGEX
    assert "spark.jars" not in prod_conf  # EMR gets them from spark-submit --jars


def _validate(module: str, cls: str, config: Any) -> None:
    configurable = getattr(importlib.import_module(module), cls)
    result = validate_config(configurable.config_type(), config)
    assert result.success, [error.message for error in result.errors]


def test_the_instance_file_is_valid_dagster_config():
    config, _ = dagster_instance_config(str(PROD_INSTANCE))
    for section in ("run_coordinator", "run_launcher", "compute_logs"):
        entry = config[section]
        _validate(entry["module"], entry["class"], entry.get("config", {}))
    from dagster_postgres.utils import pg_config

    assert validate_config(pg_config(), config["storage"]["postgres"]).success


def test_the_instance_uses_postgres_queued_runs_pools_and_ecs():
    raw = yaml.safe_load((PROD_INSTANCE / "dagster.yaml").read_text())
    assert raw["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert raw["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert raw["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    assert raw["concurrency"]["pools"]["default_limit"] >= 1
    assert raw["run_launcher"]["class"] == "EcsRunLauncher"
