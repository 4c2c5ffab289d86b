"""The Dockerfile cannot be built here (no engine): its pins must agree with the lock and pom."""

from __future__ import annotations

import re
import tomllib

import pytest

from jobs.io.session import pinned_jars
from jobs.settings import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines() if not line.startswith("#")
]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((REPO_ROOT / "uv.lock").read_text())


def arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert match, f"ARG {name} missing"
    return match.group(1)


def test_uv_is_the_version_the_makefile_installs():
    makefile = (REPO_ROOT / "Makefile").read_text()
    version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert version and arg("UV_IMAGE") == f"ghcr.io/astral-sh/uv:{version.group(1)}"


def test_python_is_the_version_the_lock_was_made_for():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11,<3.12"
    assert LOCK["requires-python"].startswith("==3.11") or "3.11" in LOCK["requires-python"]
    assert arg("PYTHON_IMAGE").startswith("python:3.11-")
    assert "python3.11" in DOCKERFILE  # the EMR image's interpreter too


def test_python_packages_come_only_from_the_lock():
    installs = [i for i in INSTRUCTIONS if re.search(r"\b(uv|pip) (sync|pip install|export)", i)]
    assert installs
    for line in installs:
        assert "--frozen" in line or "-r requirements.txt" in line, line
    assert not [i for i in INSTRUCTIONS if re.search(r"[A-Za-z0-9_.-]+==\d", i)], (
        "a pin outside uv.lock"
    )


def test_the_job_group_exists_in_the_lock():
    assert "spark-job" in PYPROJECT["dependency-groups"]
    project = next(p for p in LOCK["package"] if p["name"] == "flights-lakehouse")
    assert "spark-job" in project["dev-dependencies"]


def test_jars_come_from_the_pom_and_named_jars_are_pinned_there():
    assert "mvn -q -B -f conf/pom.xml package" in DOCKERFILE
    pinned = {jar.file_name for jar in pinned_jars()}
    named = set(re.findall(r"[\w.-]+-\d[\w.]*\.jar", DOCKERFILE))
    assert named and named <= pinned


def test_the_emr_image_is_an_emr_7_release_with_spark_3_5():
    assert re.fullmatch(r"emr-7\.\d+\.\d+", arg("EMR_RELEASE"))
    assert "public.ecr.aws/emr-serverless/spark/${EMR_RELEASE}" in DOCKERFILE


def test_the_code_location_serves_the_project_definitions_on_the_prod_instance():
    assert PYPROJECT["tool"]["dagster"]["module_name"] in DOCKERFILE
    assert "DAGSTER_HOME=/app/conf/dagster/prod" in DOCKERFILE
    assert (REPO_ROOT / "conf" / "dagster" / "prod" / "dagster.yaml").is_file()


def test_copied_sources_exist_and_local_artifacts_stay_out():
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for artifact in (".venv", ".jars", ".lakehouse", "dist", ".tools", ".git"):
        assert artifact in ignored
    for line in INSTRUCTIONS:
        if line.startswith("COPY") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), source
                assert source.split("/")[0] not in ignored, source


@pytest.mark.parametrize("stage", ["jars", "python-deps", "code-location", "emr"])
def test_every_stage_is_defined(stage):
    assert re.search(rf"^FROM \S+ AS {stage}$", DOCKERFILE, re.MULTILINE)


def test_the_prod_processes_bound_each_automation_tick_by_the_events_it_saw():
    # The prod instance's PostgreSQL storage has no class of ours to set it (the local one
    # does: assets/instance_storage.py), so the image sets it for the daemon.
    (seconds,) = re.findall(r"DAGSTER_AUTOMATION_TICK_SETTLE_SECONDS=([\d.]+)", DOCKERFILE)
    assert float(seconds) > 0
