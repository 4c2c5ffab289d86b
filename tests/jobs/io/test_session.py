"""The one session builder's configuration, resolved without starting Spark."""

import json
import os
import re
import subprocess
import sys

import pytest

from jobs.io.class_archive import archive_path
from jobs.io.session import REDACTION_REGEX, jars_dir, spark_conf
from jobs.settings import conf_dir, load_settings


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


LISTENERS = r"""
import json, os, socket, sys, tempfile
from pathlib import Path
from jobs.io.session import build_spark_session
from jobs.settings import load_settings

def listening(pid):
    # Sockets the process holds (/proc/PID/fd) that listen (/proc/net/tcp*, state 0A).
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                raw, port = fields[1].split(":")
                packed = bytes.fromhex(raw)
                if family == socket.AF_INET:
                    packed = packed[::-1]
                else:  # four little-endian 32-bit words
                    packed = b"".join(packed[i:i + 4][::-1] for i in range(0, 16, 4))
                found.append(f"{socket.inet_ntop(family, packed)}:{int(port, 16)}")
    return found

# A module that says which thread imported it, for import_meanwhile.
modules = tempfile.mkdtemp()
Path(modules, "says_its_thread.py").write_text(
    "import threading\nTHREAD = threading.current_thread().name\n")
sys.path.insert(0, modules)
spark = build_spark_session(load_settings(), "bind-check",
                            import_meanwhile=["no_such_module_anywhere", "says_its_thread"])
imported = sys.modules.get("says_its_thread")
jvm = spark.sparkContext._gateway.proc.pid
runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
print(json.dumps({"ui": spark.sparkContext.uiWebUrl, "listening": sorted(listening(jvm)),
                  "jvm_options": list(runtime.getInputArguments()),
                  "imported_by": imported.THREAD if imported else None}))
spark.stop()
"""


@pytest.fixture(scope="module")
def driver() -> dict:
    """A local driver started in a process of its own, as `lakehouse run` starts one (Spark
    UI on, driver options from the environment): its UI, listening sockets and JVM options."""
    env = {k: v for k, v in os.environ.items() if k != "SPARK_LOCAL_IP"}
    env["LAKEHOUSE__SPARK__UI_ENABLED"] = "true"
    env["LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS"] = "-XX:TieredStopAtLevel=1 -Dlakehouse.check=1"
    done = subprocess.run(
        [sys.executable, "-c", LISTENERS], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}


def test_the_driver_jvm_starts_with_the_configured_options_and_the_class_archive(driver):
    assert {"-XX:TieredStopAtLevel=1", "-Dlakehouse.check=1"} <= set(driver["jvm_options"])
    archive = [o for o in driver["jvm_options"] if o.startswith("-XX:SharedArchiveFile=")]
    assert archive == [f"-XX:SharedArchiveFile={archive_path(jars_dir())}"]


def test_modules_asked_for_are_imported_beside_the_starting_jvm_and_a_missing_one_is_skipped(
    driver,
):
    # Imported by the builder's thread before the session came back, and a module that
    # cannot be imported (the first asked for) neither failed the session nor stopped it.
    assert driver["imported_by"] == "import-meanwhile"


def test_a_local_driver_starts_with_the_checkouts_log_config_and_prints_no_start_up_lines(
    driver,
):
    config = [o for o in driver["jvm_options"] if o.startswith("-Dlog4j2.configurationFile=")]
    assert config == [f"-Dlog4j2.configurationFile={(conf_dir() / 'log4j2.properties').as_uri()}"]
    assert "NativeCodeLoader" not in driver["stderr"], driver["stderr"]
    assert "Setting default log level" not in driver["stderr"], driver["stderr"]


def test_clusters_emr_and_settings_that_choose_their_own_log_config_keep_theirs():
    cluster = load_settings("local", environ={"LAKEHOUSE__SPARK__MASTER": "spark://h:7077"})
    for settings in (cluster, load_settings("prod", environ={})):
        assert "log4j2" not in spark_conf(settings, "x").get("spark.driver.extraJavaOptions", "")
    own = "-Dlog4j2.configurationFile=file:/etc/spark/log4j2.properties"
    chosen = load_settings(environ={"LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS": own})
    options = spark_conf(chosen, "x")["spark.driver.extraJavaOptions"].split()
    assert [o for o in options if "log4j2" in o] == [own]


def test_driver_java_options_join_those_spark_conf_sets():
    settings = load_settings(environ={"LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS": "-Dtwo=2"})
    settings.spark.conf["spark.driver.extraJavaOptions"] = "-Done=1"
    options = spark_conf(settings, "x")["spark.driver.extraJavaOptions"].split()
    assert options[:2] == ["-Done=1", "-Dtwo=2"]


def test_a_local_driver_and_its_ui_listen_on_this_machine_only(driver):
    """With the Spark UI on (as `lakehouse run` has it), nothing binds a public interface."""
    seen = driver
    assert seen["ui"].startswith("http://127.0.0.1:") or seen["ui"].startswith("http://localhost:")
    addresses = {address.rsplit(":", 1)[0] for address in seen["listening"]}
    assert addresses and addresses <= {"127.0.0.1", "::ffff:127.0.0.1"}, seen["listening"]
