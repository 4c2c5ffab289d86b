"""The one session builder's configuration, resolved without starting Spark."""

import re

import pytest

from jobs.io.session import REDACTION_REGEX, spark_conf
from jobs.settings import load_settings


def test_dev_reaches_minio_through_s3a_with_keys_from_the_environment():
    conf = spark_conf(load_settings("dev", environ={}), "bronze_job")
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith(
        "EnvironmentVariableCredentialsProvider"
    )


def test_the_endpoint_comes_from_the_environment_when_set():
    settings = load_settings("dev", environ={"LAKEHOUSE__S3__ENDPOINT": "https://s3.example:9443"})
    conf = spark_conf(settings, "bronze_job")
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "https://s3.example:9443"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"


@pytest.mark.parametrize(
    "key",
    [
        "spark.hadoop.fs.s3a.access.key",
        "spark.hadoop.fs.s3a.secret.key",
        "spark.hadoop.fs.s3a.session.token",
        "spark.executorEnv.AWS_ACCESS_KEY_ID",
        "spark.executorEnv.AWS_SECRET_ACCESS_KEY",
        "spark.yarn.appMasterEnv.AWS_SESSION_TOKEN",
        "spark.hadoop.fs.s3a.bucket.data.secret_key",
        "LAKEHOUSE_WAREHOUSE_PASSWORD",
    ],
)
def test_spark_redacts_every_spelling_of_a_credential(key):
    assert re.search(REDACTION_REGEX, key)


@pytest.mark.parametrize("key", ["spark.hadoop.fs.s3a.endpoint", "spark.app.name"])
def test_spark_keeps_settings_that_are_not_secret(key):
    assert not re.search(REDACTION_REGEX, key)
