import datetime as dt
from pathlib import Path

import pytest

from jobs.io.session import MissingJarError, pinned_jars, resolved_jar_paths, spark_conf
from jobs.settings import SettingsError, load_settings


def test_local_settings_live_under_the_lakehouse_root(settings):
    assert settings.env == "local"
    assert settings.table_uri("silver", "flights") == f"{settings.root}/silver/flights"
    assert settings.storage.landing == f"{settings.root}/landing"


def test_an_override_from_the_environment_is_validated():
    loaded = load_settings("local", environ={"LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS": "3"})
    assert loaded.spark.shuffle_partitions == 3
    with pytest.raises(SettingsError, match=r"spark\.shuffle_partitions"):
        load_settings("local", environ={"LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS": "many"})


def test_an_unknown_key_is_named():
    with pytest.raises(SettingsError, match=r"spark\.shufle_partitions: Extra inputs"):
        load_settings("local", environ={"LAKEHOUSE__SPARK__SHUFLE_PARTITIONS": "3"})


def test_a_missing_key_is_named(tmp_path: Path):
    (tmp_path / "local.toml").write_text(
        '[storage]\ntables = "t"\nlanding = "l"\nevent_log = "e"\n'
        '[spark]\nmaster = "local[1]"\ndriver_memory = "1g"\nui_enabled = false\n'
        "[pipeline]\nfirst_date = 2013-01-01\nlast_date = 2013-01-02\n"
    )
    with pytest.raises(SettingsError, match=r"spark\.shuffle_partitions: Field required"):
        load_settings("local", environ={"LAKEHOUSE_CONF_DIR": str(tmp_path)})


def test_the_environment_given_names_the_profile_root_and_settings_folder(tmp_path, monkeypatch):
    """`load_settings(environ=...)` reads every LAKEHOUSE_* variable from the mapping it is
    given, not from the process (a command building another environment's settings)."""
    monkeypatch.setenv("LAKEHOUSE_ENV", "prod")
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "process"))
    given = {"LAKEHOUSE_ENV": "dev", "LAKEHOUSE_ROOT": str(tmp_path / "given")}

    loaded = load_settings(environ=given)

    assert (loaded.env, loaded.root) == ("dev", tmp_path / "given")
    assert loaded.dagster_home == tmp_path / "given" / "dagster"
    assert load_settings(environ={}).root != tmp_path / "process"


def test_an_unknown_environment_is_refused():
    with pytest.raises(SettingsError, match="LAKEHOUSE_ENV='staging'"):
        load_settings("staging")


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_environment_file_is_valid(env):
    assert load_settings(env, environ={}).env == env


def test_the_pom_pins_delta_s3a_and_jdbc_jars():
    names = {jar.artifact: jar.version for jar in pinned_jars()}
    assert names["delta-spark_2.12"].startswith("3.3.")
    assert names["delta-storage"] == names["delta-spark_2.12"]
    assert names["hadoop-aws"] == "3.3.4"
    assert "aws-java-sdk-bundle" in names and "postgresql" in names


def test_a_missing_jar_names_the_jar_and_the_fix(tmp_path: Path):
    with pytest.raises(MissingJarError, match=r"delta-spark_2\.12-3\.3\.\d+\.jar.*make jars"):
        resolved_jar_paths(tmp_path)


def test_session_conf_has_delta_utc_and_event_logs(settings):
    conf = spark_conf(settings, "app")
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.eventLog.enabled"] == "true"
    assert conf["spark.eventLog.dir"] == f"{settings.root}/spark-events"
    assert conf["spark.sql.shuffle.partitions"] == "2"
    assert len(conf["spark.jars"].split(",")) == len(pinned_jars())


def test_the_running_session_is_configured_by_the_builder(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"


@pytest.mark.parametrize(
    ("first", "last", "small"),
    [
        ("2013-06-15", "2013-06-15", True),  # a day the automation launches
        ("2013-06-01", "2013-07-01", True),  # 31 days, the limit
        ("2013-06-01", "2013-07-02", False),
        (None, None, False),  # not a run of days (training, maintenance)
    ],
)
def test_a_run_of_a_few_days_plans_its_queries_as_a_small_run(first, last, small):
    settings = load_settings("local", environ={})
    dates = [dt.date.fromisoformat(d) if d else None for d in (first, last)]
    conf = spark_conf(settings.for_range(*dates), "app")
    expected = ["1", "false", "false", "NO_CODEGEN"] if small else ["8", "true", "true", "FALLBACK"]
    keys = ["spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled"]
    keys += ["spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode"]
    assert [conf[key] for key in keys] == expected


def test_small_runs_can_be_turned_off():
    settings = load_settings("local", environ={"LAKEHOUSE__SPARK__SMALL_RUN__DAYS": "0"})
    day = dt.date(2013, 6, 15)
    assert settings.for_range(day, day) == settings
    assert settings.as_small_run() == settings  # nor do the commands that read little


def test_a_small_runs_driver_starts_with_its_own_options_after_the_configured_ones():
    environ = {"LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS": "-Dmine=1"}
    settings = load_settings("local", environ=environ)
    day = dt.date(2013, 6, 15)
    small = spark_conf(settings.for_range(day, day), "app")["spark.driver.extraJavaOptions"]
    assert "-Dmine=1 -XX:TieredStopAtLevel=1 -XX:+UseSerialGC" in small
    year = settings.for_range(dt.date(2013, 1, 1), dt.date(2013, 12, 31))
    configured = spark_conf(year, "app")["spark.driver.extraJavaOptions"]
    assert "-Dmine=1" in configured and "TieredStopAtLevel" not in configured


def test_two_garbage_collectors_for_a_small_runs_driver_are_refused():
    environ = {"LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS": "-XX:+UseG1GC"}
    with pytest.raises(SettingsError, match=r"small_run\.driver_java_options.*G1GC, SerialGC"):
        load_settings("local", environ=environ)
