"""EMR cannot run here: the requests the wrapper sends are pinned and checked against
AWS's own API models (botocore validates every parameter before the stubbed call)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from jobs.settings import load_settings

RECORDED = Path(__file__).parent / "recorded"
ARGS = ["--env", "prod", "--start", "2013-01-01", "--end", "2013-01-31"]


@pytest.fixture(scope="module")
def prod():
    return load_settings("prod", environ={})


def test_the_emr_step_request_is_the_recorded_one(wrappers, prod):
    request = wrappers.emr_step_request(prod, "silver", ARGS)
    assert request == json.loads((RECORDED / "emr_add_job_flow_steps.json").read_text())


def test_the_serverless_request_is_the_recorded_one(wrappers, prod):
    request = wrappers.emr_serverless_request(prod, "silver", ARGS)
    assert request == json.loads((RECORDED / "emr_serverless_start_job_run.json").read_text())


def test_the_step_request_is_valid_for_the_emr_api(wrappers, prod):
    request = wrappers.emr_step_request(prod, "gold", ARGS)
    client = boto3.client("emr", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("add_job_flow_steps", {"StepIds": ["s-1"]}, request)
        assert client.add_job_flow_steps(**request)["StepIds"] == ["s-1"]


def test_the_serverless_request_is_valid_for_the_emr_serverless_api(wrappers, prod):
    request = wrappers.emr_serverless_request(prod, "gold", ARGS)
    client = boto3.client("emr-serverless", region_name="us-east-1")
    arn = f"arn:aws:emr-serverless:us-east-1:123456789012:/applications/{request['applicationId']}"
    reply = {
        "applicationId": request["applicationId"],
        "jobRunId": "r-1",
        "arn": arn + "/jobruns/r-1",
    }
    with Stubber(client) as stub:
        stub.add_response("start_job_run", reply, request)
        assert client.start_job_run(**request)["jobRunId"] == "r-1"


def test_the_job_runs_the_packaged_code_with_the_packed_python(wrappers, prod):
    args = wrappers.emr_step_request(prod, "bronze", ARGS)["Steps"][0]["HadoopJarStep"]["Args"]
    command = " ".join(args)
    code = prod.emr.code_uri
    assert args[:3] == ["spark-submit", "--deploy-mode", "cluster"]
    assert f"--py-files {code}/code.zip" in command
    assert f"spark.archives={code}/pyspark_venv.tar.gz#environment" in command
    assert "spark.yarn.appMasterEnv.PYSPARK_PYTHON=./environment/bin/python" in command
    assert f"--files {code}/conf/prod.toml" in command
    assert args[-7:] == [f"{code}/jobs/bronze_job.py", *ARGS]


def test_dry_run_prints_the_request_and_contacts_nothing(wrappers, capsys, monkeypatch):
    monkeypatch.delenv("LAKEHOUSE__SPARK__DRIVER_MEMORY")  # the test suite's own override
    argv = ["submit", "silver", "--env", "prod", "--start", "2013-01-01", "--end", "2013-01-31"]
    assert wrappers.main([*argv, "--target", "emr-serverless", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# emr-serverless start-job-run (region us-east-1)")
    printed = json.loads(out.split("\n", 1)[1])
    assert printed == json.loads((RECORDED / "emr_serverless_start_job_run.json").read_text())


def test_a_cluster_id_on_the_command_line_wins(wrappers, capsys):
    argv = ["submit", "gold", "--env", "prod", "--start", "2013-01-01", "--end", "2013-01-02"]
    assert wrappers.main([*argv, "--target", "emr", "--cluster-id", "j-OTHER", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["JobFlowId"] == "j-OTHER"


def test_a_transient_cluster_request_is_valid_for_the_emr_api(prod):
    from jobs.entrypoints.submission import emr_run_job_flow_request

    request = emr_run_job_flow_request(prod, "silver", ARGS, pipes=True)
    assert request["ReleaseLabel"].startswith("emr-7.")
    assert request["Steps"][0]["ActionOnFailure"] == "TERMINATE_CLUSTER"
    client = boto3.client("emr", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("run_job_flow", {"JobFlowId": "j-1"}, request)
        assert client.run_job_flow(**request)["JobFlowId"] == "j-1"


def test_pipes_runs_go_through_the_pipes_entry_point_with_the_layer_first(prod):
    from jobs.entrypoints.submission import emr_serverless_request

    driver = emr_serverless_request(prod, "gold", ARGS, pipes=True)["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == f"{prod.emr.code_uri}/jobs/pipes_job.py"
    assert driver["entryPointArguments"] == ["gold", *ARGS]
