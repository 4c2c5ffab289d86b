"""Local-disk writes through the file system `make setup` compiles: no `chmod` child
process per file, the same permissions as Hadoop's own local file system."""

import datetime as dt
import stat
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs.io import delta_io, local_fs
from jobs.io.session import jars_dir, spark_conf
from jobs.settings import load_settings

HADOOP_LOCAL = "org.apache.hadoop.fs.LocalFileSystem"


def test_local_masters_write_file_urls_through_the_compiled_file_system():
    conf = spark_conf(load_settings("local", environ={}), "app")
    jar = local_fs.jar_path(jars_dir())
    assert jar.is_file(), "make setup compiles it (python -m jobs.io.local_fs)"
    assert conf["spark.driver.extraClassPath"] == str(jar)
    assert conf["spark.hadoop.fs.file.impl"] == local_fs.FILE_SYSTEM
    assert conf["spark.hadoop.fs.AbstractFileSystem.file.impl"] == local_fs.FILE_CONTEXT


def test_clusters_emr_and_settings_that_choose_their_own_never_get_it():
    cluster = load_settings("local", environ={"LAKEHOUSE__SPARK__MASTER": "spark://h:7077"})
    for settings in (cluster, load_settings("prod", environ={})):
        conf = spark_conf(settings, "app")
        assert "spark.hadoop.fs.file.impl" not in conf
        assert "spark.driver.extraClassPath" not in conf
    own = load_settings("local", environ={})
    own.spark.conf["spark.hadoop.fs.file.impl"] = HADOOP_LOCAL
    assert spark_conf(own, "app")["spark.hadoop.fs.file.impl"] == HADOOP_LOCAL


def test_no_jar_no_change(tmp_path):
    assert local_fs.spark_conf(tmp_path) == {}


def _file_systems(spark: SparkSession) -> tuple:
    """(ours, Hadoop's) for file://, new instances outside Hadoop's cache."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    uri = jvm.java.net.URI("file:///")
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    theirs = jvm.org.apache.hadoop.conf.Configuration(conf)
    theirs.set("fs.file.impl", HADOOP_LOCAL)
    FileSystem = jvm.org.apache.hadoop.fs.FileSystem
    return FileSystem.newInstance(uri, conf), FileSystem.newInstance(uri, theirs), jvm


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_session_creates_files_and_folders_with_hadoops_permissions(spark, tmp_path):
    ours, theirs, jvm = _file_systems(spark)
    assert ours.getClass().getName() == local_fs.FILE_SYSTEM
    assert theirs.getClass().getName() == HADOOP_LOCAL
    modes = {}
    for name, fs in (("ours", ours), ("theirs", theirs)):
        folder = tmp_path / name
        out = fs.create(jvm.org.apache.hadoop.fs.Path(f"file://{folder}/deep/file.bin"))
        out.write(b"rows")
        out.close()
        chosen = folder / "chosen"
        chosen.write_bytes(b"")
        fs.setPermission(
            jvm.org.apache.hadoop.fs.Path(f"file://{chosen}"),
            jvm.org.apache.hadoop.fs.permission.FsPermission(int("0751", 8)),
        )
        checksum = folder / "deep" / ".file.bin.crc"
        made = (folder / "deep", folder / "deep" / "file.bin", checksum, chosen)
        modes[name] = [_mode(p) for p in made]
        assert (folder / "deep" / "file.bin").read_bytes() == b"rows"
    assert modes["ours"] == modes["theirs"]
    assert modes["ours"][3] == 0o751


def test_delta_commits_go_through_it_too(spark, tmp_path):
    """Delta writes its commit files through FileContext, which has its own setting."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    uri = jvm.java.net.URI("file:///")
    context = jvm.org.apache.hadoop.fs.FileContext.getFileContext(uri, conf)
    assert context.getDefaultFileSystem().getClass().getName() == local_fs.FILE_CONTEXT
    day = dt.date(2013, 1, 1)
    rows = spark.createDataFrame([(day, 1)], "d date, n int")
    table = tmp_path / "table"
    delta_io.write_range(rows, str(table), "d", day, day)
    delta_io.write_range(rows, str(table), "d", day, day)  # replaces the day: commit 1
    assert delta_io.read_table(spark, str(table)).collect() == [(day, 1)]
    commits = sorted(p.name for p in (table / "_delta_log").glob("*.json"))
    assert commits == ["00000000000000000000.json", "00000000000000000001.json"]
    assert _mode(table / "_delta_log" / commits[1]) == _mode(next(table.glob("d=*/*.parquet")))


def test_a_machine_without_javac_is_told_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(local_fs.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="javac not found: install a JDK"):
        local_fs.make(tmp_path)


def test_link_statuses_are_hadoops_own(spark, tmp_path):
    """Renames through FileContext (Delta's commits) ask for link statuses: ours answers
    as Hadoop's does for files, folders, links and missing paths."""
    ours, theirs, jvm = _file_systems(spark)
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_bytes(b"rows")
    (tmp_path / "link").symlink_to(tmp_path / "file")

    def status(fs, name: str) -> tuple:
        found = fs.getFileLinkStatus(jvm.org.apache.hadoop.fs.Path(f"file://{tmp_path / name}"))
        return (found.getPath().toString(), found.getLen(), found.isDirectory(),
                found.isSymlink(), found.getModificationTime(), found.getPermission().toShort(),
                found.getOwner(), found.getGroup())  # fmt: skip

    for name in ("folder", "file", "link"):
        assert status(ours, name) == status(theirs, name)
    assert status(ours, "file")[1:4] == (4, False, False)
    for fs in (ours, theirs):
        with pytest.raises(Exception, match="FileNotFoundException"):
            status(fs, "missing")
