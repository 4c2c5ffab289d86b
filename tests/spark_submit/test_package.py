"""spark-submit/package: what goes to EMR is complete, locked and free of what EMR provides."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tomllib
import zipfile

import pytest

from jobs.settings import REPO_ROOT

pytestmark = pytest.mark.slow


def test_the_manifest_lists_every_file_with_its_checksum(dist):
    manifest = json.loads((dist / "manifest.json").read_text())
    for name in ("code.zip", "jobs/silver_job.py", "jobs/pipes_job.py", "conf/prod.toml"):
        assert len(manifest[name]) == 64, name
    assert "jars/delta-spark_2.12-3.3.3.jar" in manifest  # [emr] ship_jars of prod


def test_the_code_zip_holds_the_packages_the_jobs_import(dist):
    names = zipfile.ZipFile(dist / "code.zip").namelist()
    for module in ("jobs/entrypoints/runner.py", "jobs/compose/builds.py", "expectations/gate.py"):
        assert module in names
    assert not [n for n in names if n.startswith(("assets/", "tests/"))]


def test_the_venv_has_the_locked_job_packages_and_not_spark(dist):
    with tarfile.open(dist / "pyspark_venv.tar.gz") as archive:
        names = archive.getnames()
    site = "lib/python3.11/site-packages/"
    for package in ("great_expectations", "pydantic", "dagster_pipes", "delta", "boto3"):
        assert any(n.startswith(site + package + "/") for n in names), package
    assert not any(n.startswith(site + "pyspark/") for n in names)
    assert "bin/python" in names
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    gx = next(p["version"] for p in lock["package"] if p["name"] == "great-expectations")
    requirements = (dist / "job-requirements.txt").read_text()
    assert f"great-expectations=={gx}" in requirements and "pyspark==" not in requirements


def test_a_code_only_package_leaves_the_venv_out(tmp_path):
    """For a cluster that brings its own Python (``--code-only``): code, conf and jars only."""
    done = subprocess.run(
        [str(REPO_ROOT / "spark-submit" / "package"), "--code-only", "--dist", str(tmp_path)],
        env={**os.environ, "LAKEHOUSE_ENV": "local"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "code.zip" in manifest and "jobs/silver_job.py" in manifest
    assert not [name for name in manifest if name.endswith(".tar.gz")]
    assert not (tmp_path / "pyspark_venv.tar.gz").exists()
