"""The spark-submit wrappers: package, submit and history (one command each, see README).

    spark-submit/package [--code-only]
    spark-submit/submit JOB --env ENV --start D --end D [--target local|emr|emr-serverless]
                        [--dry-run] [--packaged] [--wait] [-- job options]
    spark-submit/history --env ENV [--port 18080] [--background | --stop]

No pipeline logic lives here: a job is ``jobs/entrypoints/<JOB>_job.py``, run by ``spark-submit``
locally (``local[*]`` from the environment's settings) or on EMR, where it is an EMR step
(add-job-flow-steps) or an EMR Serverless job run (start-job-run). ``--dry-run`` prints
the exact command or API request and contacts nothing. Exit codes propagate.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devservers.tools import tool  # noqa: E402
from jobs.entrypoints.submission import (  # noqa: E402
    DIST,
    JOBS,
    PIPES_ENTRY,
    VENV_ARCHIVE,
    SubmissionError,
    emr_serverless_request,
    emr_settings,
    emr_step_request,
    is_standalone,
    local_command,
    local_environment,
)
from jobs.io.session import (  # noqa: E402
    LOOPBACK,
    REDACTION_REGEX,
    jars_dir,
    resolved_jar_paths,
    s3a_conf,
)
from jobs.settings import Settings, lakehouse_root, load_settings  # noqa: E402

CODE_PACKAGES = ("jobs", "expectations")  # what the entry points import


# ---------------------------------------------------------------- package
def build_code_zip(target: Path) -> Path:
    """Zip the packages the jobs import, for ``--py-files``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in CODE_PACKAGES:
            for source in sorted((REPO / package).rglob("*.py")):
                info = zipfile.ZipInfo(str(source.relative_to(REPO)), (2013, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, source.read_bytes())  # fixed times: same code, same zip
    return target


def job_requirements() -> list[str]:
    """Locked versions of the ``spark-job`` group, minus what the cluster's Spark provides."""
    exported = subprocess.run(
        [str(tool("uv")), "export", "--frozen", "--only-group", "spark-job", "--no-hashes",
         "--no-emit-project", "--no-header", "--no-annotate"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    provided = ("pyspark==", "py4j==")
    return [line for line in exported.splitlines() if line and not line.startswith(provided)]


def build_venv_archive(target: Path) -> Path:
    """A packed virtualenv (venv-pack) with the job requirements, for ``spark.archives``."""
    work = target.parent / "job-venv"
    shutil.rmtree(work, ignore_errors=True)
    requirements = target.parent / "job-requirements.txt"
    requirements.write_text("\n".join(job_requirements()) + "\n")
    uv = str(tool("uv"))
    # The machine's Python 3.11 (EMR's); uv never downloads an interpreter of its own here.
    subprocess.run([uv, "venv", "--python", "3.11", "--no-python-downloads", "--quiet", str(work)],
                   check=True)  # fmt: skip
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--python", str(work / "bin" / "python"),
         "-r", str(requirements)],
        check=True,
    )  # fmt: skip
    target.unlink(missing_ok=True)
    venv_pack = Path(sys.executable).parent / "venv-pack"
    subprocess.run(
        [str(venv_pack), "--prefix", str(work), "--output", str(target), "--quiet"], check=True
    )
    shutil.rmtree(work)
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package(dist: Path, code_only: bool, settings: Settings) -> dict[str, Any]:
    """Build everything a cluster needs into ``dist``; returns the manifest."""
    dist.mkdir(parents=True, exist_ok=True)
    files = [build_code_zip(dist / "code.zip")]
    scripts = [REPO / "jobs" / "entrypoints" / f"{job}_job.py" for job in JOBS]
    for script in [*scripts, REPO / "spark-submit" / PIPES_ENTRY]:
        entry = dist / "jobs" / script.name
        entry.parent.mkdir(exist_ok=True)
        shutil.copy(script, entry)
        files.append(entry)
    for conf in sorted([*(REPO / "conf").glob("*.toml"), REPO / "conf" / "pom.xml"]):
        (dist / "conf").mkdir(exist_ok=True)
        files.append(Path(shutil.copy(conf, dist / "conf" / conf.name)))
    for name in settings.emr.ship_jars if settings.emr else []:
        (dist / "jars").mkdir(exist_ok=True)
        files.append(Path(shutil.copy(jars_dir() / name, dist / "jars" / name)))
    if not code_only:
        files.append(build_venv_archive(dist / VENV_ARCHIVE))
    manifest = {str(f.relative_to(dist)): _sha256(f) for f in files}
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


# ---------------------------------------------------------------- submit
def job_arguments(args: argparse.Namespace, env: str) -> list[str]:
    """What the entry point gets after its script: the same locally and on EMR."""
    span = ["--start", args.start.isoformat(), "--end", args.end.isoformat()]
    return ["--env", env, *span, *args.job_args]


def upload_package(settings: Settings, dist: Path) -> None:
    """Copy ``dist`` (built by ``package``) to ``[emr] code_uri``."""
    import boto3

    from jobs.io.objectstore import split_uri

    manifest = dist / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"error: no package in {dist}: run spark-submit/package first")
    bucket, prefix = split_uri(emr_settings(settings).code_uri)
    client = boto3.client("s3", region_name=emr_settings(settings).region)
    for name in [*json.loads(manifest.read_text()), "manifest.json"]:
        client.upload_file(str(dist / name), bucket, f"{prefix.rstrip('/')}/{name}")
        print(f"uploaded {name} to s3://{bucket}/{prefix.rstrip('/')}/{name}")


def wait_for_step(settings: Settings, cluster_id: str, step_id: str) -> int:
    import boto3

    client = boto3.client("emr", region_name=emr_settings(settings).region)
    while True:
        state = client.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]["Status"]
        if state["State"] in ("COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"):
            print(f"step {step_id}: {state['State']} {state.get('FailureDetails', '')}")
            return 0 if state["State"] == "COMPLETED" else 1
        time.sleep(15)


def wait_for_job_run(settings: Settings, application_id: str, run_id: str) -> int:
    import boto3

    client = boto3.client("emr-serverless", region_name=emr_settings(settings).region)
    while True:
        run = client.get_job_run(applicationId=application_id, jobRunId=run_id)["jobRun"]
        if run["state"] in ("SUCCESS", "FAILED", "CANCELLED"):
            print(f"job run {run_id}: {run['state']} {run.get('stateDetails', '')}")
            return 0 if run["state"] == "SUCCESS" else 1
        time.sleep(15)


def event_log_hint(settings: Settings) -> str:
    return f"event log: {settings.storage.event_log} (spark-submit/history --env {settings.env})"


def submit(args: argparse.Namespace) -> int:
    # Command-line choices go through the settings loader's overrides, like any setting.
    overrides = {
        f"LAKEHOUSE__EMR__{name.upper()}": value
        for name, value in (
            ("cluster_id", args.cluster_id),
            ("application_id", args.application_id),
        )
        if value
    }
    settings = load_settings(args.env, {**os.environ, **overrides})
    job_args = job_arguments(args, settings.env)
    if args.target == "local":
        # The driver JVM starts here: a job of a few days starts it as a small run does.
        driver = settings.for_range(args.start, args.end)
        command = local_command(driver, args.job, job_args, args.packaged, args.pipes, args.dist)
        if args.dry_run:
            print(shlex.join(command))
            return 0
        print(event_log_hint(settings))
        env = local_environment(args.packaged, args.dist, is_standalone(settings))
        return subprocess.run(command, env=env).returncode
    serverless = args.target == "emr-serverless"
    build = emr_serverless_request if serverless else emr_step_request
    request = build(settings, args.job, job_args, args.pipes)
    if args.dry_run:
        api = "emr-serverless start-job-run" if serverless else "emr add-job-flow-steps"
        print(f"# {api} (region {emr_settings(settings).region})")
        print(json.dumps(request, indent=2))
        return 0
    import boto3

    upload_package(settings, args.dist)
    region = emr_settings(settings).region
    print(event_log_hint(settings))
    if serverless:
        run = boto3.client("emr-serverless", region_name=region).start_job_run(**request)
        print(f"EMR Serverless job run {run['jobRunId']} on {request['applicationId']}")
        return (
            wait_for_job_run(settings, request["applicationId"], run["jobRunId"])
            if args.wait
            else 0
        )
    step = boto3.client("emr", region_name=region).add_job_flow_steps(**request)
    step_id = step["StepIds"][0]
    print(f"EMR step {step_id} on {request['JobFlowId']}")
    return wait_for_step(settings, request["JobFlowId"], step_id) if args.wait else 0


# ---------------------------------------------------------------- history
def history_properties(settings: Settings, port: int) -> dict[str, str]:
    """Spark history server settings for the environment's event-log directory."""
    log_dir = settings.storage.event_log
    if "://" not in log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        log_dir = Path(log_dir).resolve().as_uri()
    return {
        "spark.history.fs.logDirectory": log_dir,
        "spark.history.ui.port": str(port),
        "spark.history.fs.update.interval": "2s",
        "spark.redaction.regex": REDACTION_REGEX,
        **s3a_conf(settings.s3),
    }


def history_dir(settings: Settings) -> Path:
    return lakehouse_root() / "history-server" / settings.env


def history(args: argparse.Namespace) -> int:
    settings = load_settings(args.env)
    folder = history_dir(settings)
    pid_file = folder / "pid"
    if args.stop:
        if pid_file.exists():
            pid = int(pid_file.read_text())
            pid_file.unlink()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            print(f"stopped the history server (pid {pid})")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    properties = folder / "history.properties"
    props = history_properties(settings, args.port)
    properties.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    command = [str(spark_class), "org.apache.spark.deploy.history.HistoryServer",
               "--properties-file", str(properties)]  # fmt: skip
    env = {**os.environ, "SPARK_DAEMON_CLASSPATH": os.pathsep.join(
        str(p) for p in resolved_jar_paths()), "SPARK_LOCAL_IP": args.host}  # fmt: skip
    url = f"http://{args.host}:{args.port}"
    print(f"Spark history server on {url} reading {props['spark.history.fs.logDirectory']}")
    if not args.background:
        return subprocess.run(command, env=env).returncode
    with open(folder / "server.log", "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    pid_file.write_text(str(process.pid))
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/api/v1/applications", timeout=1):
                print(f"ready; stop it with spark-submit/history --env {settings.env} --stop")
                return 0
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    print(f"error: the history server did not start; log {folder / 'server.log'}", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark-submit/<command>", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    pkg = sub.add_parser("package", help="build dist/: code zip, entry points, conf, jars, venv")
    pkg.add_argument("--env", default=None, help="profile whose [emr] ship_jars to include")
    pkg.add_argument("--code-only", action="store_true", help="skip the packed virtualenv")
    pkg.add_argument("--dist", type=Path, default=DIST, help="output folder (default dist/)")
    run = sub.add_parser("submit", help="run a job locally or on EMR")
    run.add_argument("job", choices=JOBS)
    run.add_argument("--env", default=None, help="settings profile (LAKEHOUSE_ENV)")
    # Dates are checked here, naming the option, before any command or request is built.
    run.add_argument("--start", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    run.add_argument("--end", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    run.add_argument("--target", choices=["local", "emr", "emr-serverless"], default="local")
    run.add_argument("--dry-run", action="store_true", help="print the command or request only")
    run.add_argument("--packaged", action="store_true", help="local: run dist/ like EMR does")
    run.add_argument("--dist", type=Path, default=DIST, help="package folder (default dist/)")
    run.add_argument("--wait", action="store_true", help="EMR: wait and exit with its result")
    run.add_argument(
        "--pipes", action="store_true", help="report to Dagster (what the Pipes assets run)"
    )
    run.add_argument("--cluster-id", help="EMR cluster (default [emr] cluster_id)")
    run.add_argument("--application-id", help="EMR Serverless app (default [emr] application_id)")
    run.epilog = "Options after -- go to the job unchanged, e.g. -- --tables silver/flights"
    hist = sub.add_parser("history", help="start the Spark history server on the event logs")
    hist.add_argument("--env", default=None, help="settings profile (LAKEHOUSE_ENV)")
    hist.add_argument("--port", type=int, default=18080)
    hist.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default: this machine only; on EMR reach it by SSH tunnel)",
    )
    hist.add_argument("--background", action="store_true", help="detach; stop with --stop")
    hist.add_argument("--stop", action="store_true", help="stop a background server")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    job_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = build_parser().parse_args(argv[: len(argv) - len(job_args) - (1 if job_args else 0)])
    args.job_args = job_args
    if args.command == "package":
        settings = load_settings(args.env)
        manifest = package(args.dist, args.code_only, settings)
        for name in sorted(manifest):
            size = (args.dist / name).stat().st_size
            print(f"  {name:40} {size / 1e6:8.1f} MB")
        print(f"packaged into {args.dist}; spark-submit/submit --target emr uploads it")
        return 0
    if args.command == "submit":
        try:
            return submit(args)
        except SubmissionError as exc:  # settings or a package a target cannot run with
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return history(args)


if __name__ == "__main__":
    sys.exit(main())
