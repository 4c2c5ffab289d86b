"""What a job submission is: the spark-submit command or the EMR request, built from settings.

Pure functions, no I/O: ``spark-submit/submit`` executes them (subprocess or boto3), and
the Dagster Pipes assets hand them to Dagster's Pipes clients, so a job is submitted the
same way from a shell and from Dagster. ``pipes=True`` runs the job through
``spark-submit/pipes_job.py``, which reports tables and checks back to Dagster.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from jobs.io.session import LOOPBACK, application_name, jars_dir, resolved_jar_paths, spark_conf
from jobs.settings import REPO_ROOT, EmrSettings, Settings, lakehouse_root

JOBS = ("bronze", "silver", "gold", "ml")
DIST = REPO_ROOT / "dist"  # spark-submit/package output (--dist to change)
VENV_ARCHIVE = "pyspark_venv.tar.gz"
PYTHON_IN_ARCHIVE = "./environment/bin/python"
EMR_ENV = {"LAKEHOUSE_CONF_DIR": ".", "LAKEHOUSE_ROOT": "/tmp/lakehouse"}  # conf via --files
PIPES_ENTRY = "pipes_job.py"


def entry_point(job: str, pipes: bool) -> tuple[str, list[str]]:
    """The script spark-submit runs (relative to the checkout or package) and its first args."""
    if pipes:
        return f"spark-submit/{PIPES_ENTRY}", [job]
    return f"jobs/entrypoints/{job}_job.py", []


def packaged_name(script: str) -> str:
    """Where ``spark-submit/package`` puts an entry script in ``dist/``."""
    return f"jobs/{Path(script).name}"


def local_command(
    settings: Settings,
    job: str,
    job_args: list[str],
    packaged: bool,
    pipes: bool = False,
    dist: Path = DIST,
) -> list[str]:
    """``spark-submit`` on this machine with the pinned jars and the project's interpreter."""
    spark_submit = Path(sys.executable).parent / "spark-submit"
    name = application_name(settings, f"{job}_job")
    command = [
        str(spark_submit),
        "--master", settings.spark.master,
        "--driver-memory", settings.spark.driver_memory,
        "--name", name,
        "--jars", ",".join(str(p) for p in resolved_jar_paths()),
        "--conf", f"spark.ui.enabled={str(settings.spark.ui_enabled).lower()}",
    ]  # fmt: skip
    # spark-submit starts the driver JVM before the job builds its session, so the options
    # the session would give it ([spark] driver_java_options, the class archive, the local
    # file system's jar) go here; spark-submit itself already reads local files through it.
    conf = spark_conf(settings, name)
    if conf.get("spark.driver.extraJavaOptions"):
        command += ["--driver-java-options", conf["spark.driver.extraJavaOptions"]]
    if conf.get("spark.driver.extraClassPath"):
        command += ["--driver-class-path", conf["spark.driver.extraClassPath"]]
    if conf.get("spark.hadoop.fs.file.impl"):
        command += ["--conf", f"spark.hadoop.fs.file.impl={conf['spark.hadoop.fs.file.impl']}"]
    script, leading = entry_point(job, pipes)
    if packaged and is_standalone(settings):
        # Executors on a standalone cluster get the packed venv, as EMR's do (client mode:
        # the driver runs here; local_environment points the executors at the archive).
        venv = dist / VENV_ARCHIVE
        if not venv.is_file():
            raise SubmissionError(
                f"{venv} is missing: a standalone cluster's executors need the packed venv "
                "(run spark-submit/package without --code-only)"
            )
        command += ["--archives", f"{venv}#environment"]
    if packaged:
        command += ["--py-files", str(dist / "code.zip"), str(dist / packaged_name(script))]
    else:
        command.append(str(REPO_ROOT / script))
    return command + leading + job_args


def is_standalone(settings: Settings) -> bool:
    """``[spark] master`` names a Spark standalone cluster (``spark://host:port``)."""
    return settings.spark.master.startswith("spark://")


def local_environment(
    packaged: bool, dist: Path = DIST, standalone: bool = False
) -> dict[str, str]:
    """The environment of a local spark-submit: this interpreter for the driver, and for the
    executors too, except packaged on a standalone cluster: the Python of the packed venv
    that ``--archives`` unpacks into each executor's folder."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    if packaged and standalone:
        env["PYSPARK_PYTHON"] = PYTHON_IN_ARCHIVE
    env.setdefault("SPARK_LOCAL_IP", LOOPBACK)  # the driver's UI on this machine only
    if not packaged:  # run from the checkout; a packaged run proves the zip is complete
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        return env
    # Like EMR: code from the zip, settings from the shipped conf folder; the checkout's
    # jars and lakehouse root stay where they are.
    env.pop("PYTHONPATH", None)
    env.setdefault("LAKEHOUSE_CONF_DIR", str(dist / "conf"))
    env.setdefault("LAKEHOUSE_JARS_DIR", str(jars_dir()))
    env.setdefault("LAKEHOUSE_ROOT", str(lakehouse_root()))
    return env


class SubmissionError(ValueError):
    """The settings lack what a target needs; the message names the setting."""


def emr_settings(settings: Settings) -> EmrSettings:
    """The ``[emr]`` section, which EMR targets require."""
    if settings.emr is None:
        raise SubmissionError(f"{settings.source} has no [emr] section: EMR targets need one")
    return settings.emr


def cluster_submit_parameters(settings: Settings, job: str, serverless: bool) -> list[str]:
    """spark-submit options for EMR: packed venv, code zip, conf file, jars, environment."""
    emr = emr_settings(settings)
    code = emr.code_uri.rstrip("/")
    jars = [f"{code}/jars/{name}" for name in emr.ship_jars] + list(emr.provided_jars)
    driver_env = "spark.emr-serverless.driverEnv" if serverless else "spark.yarn.appMasterEnv"
    confs = {
        "spark.app.name": application_name(settings, f"{job}_job"),
        "spark.archives": f"{code}/{VENV_ARCHIVE}#environment",
        f"{driver_env}.PYSPARK_PYTHON": PYTHON_IN_ARCHIVE,
        "spark.executorEnv.PYSPARK_PYTHON": PYTHON_IN_ARCHIVE,
        **{f"{driver_env}.{k}": v for k, v in {**EMR_ENV, "LAKEHOUSE_ENV": settings.env}.items()},
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": settings.storage.event_log,
    }
    params = [] if serverless else ["--deploy-mode", "cluster"]
    params += ["--py-files", f"{code}/code.zip", "--files", f"{code}/conf/{settings.env}.toml"]
    params += ["--jars", ",".join(jars)]
    for key, value in confs.items():
        params += ["--conf", f"{key}={value}"]
    return params


def run_name(job: str, job_args: list[str]) -> str:
    """How a step or job run is named in the EMR console: the job and its range."""
    return f"flights-lakehouse {job}_job {' '.join(job_args[2:6])}"


def _entry(settings: Settings, job: str, pipes: bool) -> tuple[str, list[str]]:
    """The packaged entry script's URI under ``[emr] code_uri`` and its first arguments."""
    script, leading = entry_point(job, pipes)
    return f"{emr_settings(settings).code_uri.rstrip('/')}/{packaged_name(script)}", leading


def _step(
    settings: Settings, job: str, job_args: list[str], pipes: bool, on_failure: str
) -> dict[str, Any]:
    """An EMR step running the job with ``spark-submit --deploy-mode cluster``."""
    entry, leading = _entry(settings, job, pipes)
    submit = cluster_submit_parameters(settings, job, False)
    return {
        "Name": run_name(job, job_args),
        "ActionOnFailure": on_failure,
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": ["spark-submit", *submit, entry, *leading, *job_args],
        },
    }


def emr_step_request(
    settings: Settings, job: str, job_args: list[str], pipes: bool = False
) -> dict[str, Any]:
    """The ``emr.add_job_flow_steps`` request running the job as a spark-submit step."""
    emr = emr_settings(settings)
    if not emr.cluster_id:
        raise SubmissionError("[emr] cluster_id is not set (or pass --cluster-id)")
    step = _step(settings, job, job_args, pipes, "CONTINUE")
    return {"JobFlowId": emr.cluster_id, "Steps": [step]}


def emr_serverless_request(
    settings: Settings, job: str, job_args: list[str], pipes: bool = False
) -> dict[str, Any]:
    """The ``emr-serverless.start_job_run`` request for the job."""
    emr = emr_settings(settings)
    if not (emr.application_id and emr.execution_role_arn):
        raise SubmissionError("[emr] application_id and execution_role_arn must be set")
    entry, leading = _entry(settings, job, pipes)
    request: dict[str, Any] = {
        "applicationId": emr.application_id,
        "executionRoleArn": emr.execution_role_arn,
        "name": run_name(job, job_args),
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": entry,
                "entryPointArguments": [*leading, *job_args],
                "sparkSubmitParameters": shlex.join(cluster_submit_parameters(settings, job, True)),
            }
        },
    }
    if emr.log_uri:
        request["configurationOverrides"] = {
            "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": emr.log_uri}}
        }
    return request


def emr_run_job_flow_request(
    settings: Settings, job: str, job_args: list[str], pipes: bool = False
) -> dict[str, Any]:
    """The ``emr.run_job_flow`` request: a transient cluster that runs the job and ends."""
    emr = emr_settings(settings)
    if not (emr.service_role and emr.instance_profile):
        raise SubmissionError("[emr] service_role and instance_profile must be set")
    step = _step(settings, job, job_args, pipes, "TERMINATE_CLUSTER")
    request: dict[str, Any] = {
        "Name": f"flights-lakehouse {job}_job",
        "ReleaseLabel": emr.release_label,
        "Applications": [{"Name": "Spark"}],
        "Instances": {
            "InstanceGroups": [
                {"InstanceRole": role, "InstanceType": emr.instance_type, "InstanceCount": n}
                for role, n in (("MASTER", 1), ("CORE", emr.core_instances))
            ],
            "KeepJobFlowAliveWhenNoSteps": False,
        },
        "Steps": [step],
        "JobFlowRole": emr.instance_profile,
        "ServiceRole": emr.service_role,
        "VisibleToAllUsers": True,
    }
    if emr.log_uri:
        request["LogUri"] = emr.log_uri
    return request
