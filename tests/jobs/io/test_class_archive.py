"""The driver JVM's class archive: made by `make setup`, mapped by local JVMs only."""

import subprocess
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs.io.class_archive import ARCHIVE_NAME, java_options, with_driver_options
from jobs.io.session import jars_dir, pinned_jars, spark_conf
from jobs.settings import Settings, load_settings

OPTIONS = "spark.driver.extraJavaOptions"


@pytest.fixture
def jars_with_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A jars folder holding this checkout's jars and an archive (``LAKEHOUSE_JARS_DIR``)."""
    for jar in pinned_jars():
        (tmp_path / jar.file_name).symlink_to(jars_dir() / jar.file_name)
    (tmp_path / ARCHIVE_NAME).write_bytes(b"")
    monkeypatch.setenv("LAKEHOUSE_JARS_DIR", str(tmp_path))
    return tmp_path


def test_no_archive_no_options(tmp_path):
    assert java_options(tmp_path) == ""


def test_local_masters_map_the_archive_quietly(jars_with_archive):
    for env in ("local", "dev"):
        options = spark_conf(load_settings(env, environ={}), "app")[OPTIONS]
        assert f"-XX:SharedArchiveFile={jars_with_archive / ARCHIVE_NAME}" in options
        assert "-Xshare:auto" in options  # an archive this JVM cannot use is skipped
        assert "-Xlog:cds=off" in options


def options_besides_logging(settings: Settings) -> list[str]:
    """The driver's JVM options, less the log configuration a local driver also gets."""
    options = spark_conf(settings, "app")[OPTIONS].split()
    return [o for o in options if not o.startswith("-Dlog4j2.configurationFile=")]


def test_options_of_the_settings_are_kept_and_an_archive_they_name_wins(jars_with_archive):
    local = load_settings("local", environ={})
    options = spark_conf(with_driver_options(local, "-Dlakehouse=1"), "app")[OPTIONS]
    assert options.startswith("-Dlakehouse=1 -XX:SharedArchiveFile=")
    theirs = with_driver_options(local, "-XX:SharedArchiveFile=/other.jsa")
    assert options_besides_logging(theirs) == ["-XX:SharedArchiveFile=/other.jsa"]
    for own in ("-Xshare:off", "-XX:ArchiveClassesAtExit=/dump.jsa"):  # sharing chosen
        assert options_besides_logging(with_driver_options(local, own)) == [own]
    # A word that merely contains "Archive" chooses nothing.
    named = spark_conf(with_driver_options(local, "-Dmy.Archive=1"), "app")[OPTIONS]
    assert named.startswith("-Dmy.Archive=1 -XX:SharedArchiveFile=")


def test_clusters_and_emr_never_see_this_machines_archive(jars_with_archive):
    cluster = {"LAKEHOUSE__SPARK__MASTER": "spark://127.0.0.1:7077"}
    assert OPTIONS not in spark_conf(load_settings("local", environ=cluster), "app")
    assert OPTIONS not in spark_conf(load_settings("prod", environ={}), "app")


def test_the_test_sessions_jvm_maps_the_archive_setup_made(spark: SparkSession):
    archive = jars_dir() / ARCHIVE_NAME
    assert archive.is_file(), "make setup makes the archive (python -m jobs.io.class_archive)"
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    arguments = list(
        jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    )
    assert f"-XX:SharedArchiveFile={archive}" in arguments
    # A JVM like the session's (same java, same class path) with -Xshare:on refuses to start
    # when it cannot map the archive (another JDK, other jars, not an archive), where the
    # session's -Xshare:auto would quietly go without it.
    system = jvm.java.lang.System
    java = Path(str(system.getProperty("java.home"))) / "bin" / "java"
    class_path = str(system.getProperty("java.class.path"))
    mapped = subprocess.run(
        [str(java), f"-XX:SharedArchiveFile={archive}", "-Xshare:on", "-cp", class_path,
         "-version"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert "sharing" in mapped.stderr
