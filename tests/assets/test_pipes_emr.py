"""The prod Pipes wiring against AWS's API models: EMR Serverless cannot run here.

The asset's EMR Serverless client is a real boto3 client whose calls are answered by
botocore's Stubber (every request is validated against the service model); the Pipes
message bucket is a real MinIO. The stubbed job run fails, as nothing ran, and the test
checks what Dagster sent and that the failure reaches the run.
"""

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from assets.runs import failure_messages, materialize_range
from jobs.io.objectstore import ensure_bucket, s3_client
from jobs.settings import S3Settings, load_settings

START, END = dt.date(2013, 10, 1), dt.date(2013, 10, 2)
APP_ARN = "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00flightslake01"


@pytest.fixture
def emr_serverless(monkeypatch, minio_server):
    """Stubbed EMR Serverless and a MinIO-backed S3 for whatever boto3.client Pipes makes."""
    real_client = boto3.client
    emr = real_client("emr-serverless", region_name="us-east-1")
    s3_settings = S3Settings(
        endpoint=minio_server.endpoint,
        path_style_access=True,
        credentials="environment",
        create_buckets=True,
    )
    s3 = s3_client(s3_settings)
    ensure_bucket(s3_settings, "flights-lakehouse-prod", s3)
    clients = {"emr-serverless": emr, "s3": s3}
    monkeypatch.setattr(boto3, "client", lambda service, *a, **k: clients[service])
    sent: dict = {}
    emr.meta.events.register(
        "provide-client-params.emr-serverless.StartJobRun",
        lambda params, **_: sent.update(params),
    )
    run = {
        "applicationId": "00flightslake01",
        "jobRunId": "00runflights01",
        "arn": f"{APP_ARN}/jobruns/00runflights01",
        "createdBy": "arn:aws:iam::123456789012:user/dagster",
        "createdAt": dt.datetime(2026, 11, 29),
        "updatedAt": dt.datetime(2026, 11, 29),
        "executionRole": "arn:aws:iam::123456789012:role/flights-lakehouse-emr-job",
        "state": "FAILED",
        "stateDetails": "Job failed, please check complete logs in configured logging destination",
        "releaseLabel": "emr-7.5.0",
        "jobDriver": {"sparkSubmit": {"entryPoint": "s3://x/jobs/pipes_job.py"}},
    }
    with Stubber(emr) as stub:
        started = {k: run[k] for k in ("applicationId", "jobRunId", "arn")}
        stub.add_response("start_job_run", started)
        stub.add_response("get_job_run", {"jobRun": run})
        stub.add_response("get_dashboard_for_job_run", {"url": "https://dashboard.example/run"})
        yield sent


def test_a_prod_asset_starts_an_emr_serverless_pipes_job(emr_serverless):
    prod = load_settings("prod")
    assert prod.spark.runner == "pipes_emr_serverless"
    result = materialize_range(START, END, env="prod", selection="key:gold/route_daily")
    assert not result.success
    assert any("job failed" in m for m in failure_messages(result))
    sent = emr_serverless
    assert sent["applicationId"] == prod.emr.application_id
    assert sent["executionRoleArn"] == prod.emr.execution_role_arn
    driver = sent["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == f"{prod.emr.code_uri}/jobs/pipes_job.py"
    args = driver["entryPointArguments"]
    assert args[:7] == ["gold", "--env", "prod", "--start", "2013-10-01", "--end", "2013-10-02"]
    assert args[7:] == ["--tables", "gold/route_daily", "--run-id", result.run_id]
    params = driver["sparkSubmitParameters"]
    assert "--conf spark.emr-serverless.driverEnv.DAGSTER_PIPES_CONTEXT=" in params
    assert "--conf spark.emr-serverless.driverEnv.DAGSTER_PIPES_MESSAGES=" in params
    assert f"spark.archives={prod.emr.code_uri}/pyspark_venv.tar.gz#environment" in params
    assert sent["tags"]["dagster/run-id"] == result.run_id
