"""The ML assets through Dagster on a real MLflow store (SQLite under the lakehouse root):
train (in process, and through Dagster Pipes), register, promote both ways, score point in
time, and say what is missing."""

import datetime as dt
import os
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from assets.runs import failure_messages, materialize_range
from jobs.entrypoints import runner
from jobs.io import delta_io, model_registry, table_io
from jobs.settings import load_settings
from jobs.tables import table
from tests.jobs.builders import synthetic_features

pytestmark = pytest.mark.slow

FIRST = dt.date(2013, 3, 1)
CUTOFF, HOLDOUT = dt.date(2013, 3, 14), 7
SMALL_MODEL = {  # a small, quick model on three weeks of synthetic flights
    "LAKEHOUSE__ML__TRAINING_CUTOFF": CUTOFF.isoformat(),
    "LAKEHOUSE__ML__HOLDOUT_DAYS": str(HOLDOUT),
    "LAKEHOUSE__ML__MAX_ITER": "6",
    "LAKEHOUSE__ML__MAX_DEPTH": "3",
}


@pytest.fixture(scope="module", autouse=True)
def small_model(lakehouse_root):
    before = {k: os.environ.get(k) for k in SMALL_MODEL}
    os.environ.update(SMALL_MODEL)
    yield
    for k, v in before.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def features(spark, small_model):
    settings = load_settings()
    frame = synthetic_features(spark, FIRST, 28)
    end = FIRST + dt.timedelta(days=27)
    table_io.write_table(settings, table("gold/flight_features"), frame, FIRST, end)
    return settings


def train(margin: str | None = None, runner: str | None = None):
    """Materialize ml/delay_model; ``runner`` "pipes_subprocess" trains through Dagster Pipes
    (a spark-submit of its own) instead of in this process."""
    overrides = {"LAKEHOUSE__ML__PROMOTION_MARGIN": margin, "LAKEHOUSE__SPARK__RUNNER": runner}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in overrides.items():
            if value is not None:
                patch.setenv(key, value)
        result = materialize_range(
            FIRST, FIRST, selection="key:ml/delay_model", instance=DagsterInstance.ephemeral()
        )
    assert result.success, failure_messages(result)
    [event] = result.get_asset_materialization_events()
    [check] = result.get_asset_check_evaluations()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}, check


@pytest.fixture(scope="module")
def first(features):
    return train()


@pytest.fixture(scope="module")
def second(first):
    return train()  # the same data and seed: the same PR AUC, which misses the margin


@pytest.fixture(scope="module")
def third(second):
    # no margin: as good as the champion is good enough; trained through Dagster Pipes, which
    # reports the same version, decision and check as the in-process asset
    return train(margin="0", runner="pipes_subprocess")


def test_the_first_version_becomes_champion_by_beating_the_baseline(first, features):
    meta, check = first
    assert (meta["model_version"], meta["champion_version"], meta["promoted"]) == (1, 1, True)
    assert "no champion yet" in meta["decision"]
    assert meta["holdout_pr_auc"] > 0.5
    assert check.passed and check.check_name == "beats_champion_and_baseline"
    assert (meta["training_cutoff"], meta["holdout"]) == ("2013-03-14", "2013-03-15..2013-03-21")
    ml = features.ml
    assert model_registry.champion(ml).version == 1


def test_a_version_that_does_not_beat_the_champion_by_the_margin_stays_challenger(second):
    meta, check = second
    assert (meta["model_version"], meta["champion_version"], meta["promoted"]) == (2, 1, False)
    assert "< champion's" in meta["decision"]
    assert not check.passed
    assert check.metadata["champion_pr_auc_same_holdout"].value == pytest.approx(
        check.metadata["challenger_pr_auc"].value
    )


def test_a_version_that_beats_the_champion_by_the_margin_is_promoted(third, features):
    meta, check = third
    assert (meta["model_version"], meta["champion_version"], meta["promoted"]) == (3, 3, True)
    assert check.passed and check.check_name == "beats_champion_and_baseline"
    by_version = {v.version: v.aliases for v in model_registry.versions(features.ml)}
    assert by_version == {3: ("challenger", "champion"), 2: (), 1: ()}


def test_every_run_is_tracked_under_the_lakehouse_root_with_plots_model_and_lineage(
    first, features, lakehouse_root, spark
):
    import mlflow
    from mlflow import MlflowClient

    ml = features.ml
    assert ml.tracking_uri == f"sqlite:///{lakehouse_root}/mlflow/mlflow.db"
    client = MlflowClient(ml.tracking_uri)
    run = client.get_run(first[0]["mlflow_run_id"])
    assert {"roc_auc", "pr_auc", "log_loss", "brier", "baseline_pr_auc"} <= set(run.data.metrics)
    assert run.data.params["max_iter"] == "6"
    assert run.data.tags["training_cutoff"] == "2013-03-14"
    features_path = features.table_uri("gold", "flight_features")
    version = delta_io.last_commit(spark, features_path).version
    assert run.data.tags["feature_table_version"] == str(version)
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {f"plots/{n}.png" for n in ("roc", "calibration", "feature_importance")}
    mlflow.set_tracking_uri(ml.tracking_uri)
    info = mlflow.models.get_model_info(f"models:/{ml.model_name}/1")
    assert {c.name for c in info.signature.inputs.inputs} >= {"carrier", "temp_f"}
    assert info.saved_input_example_info is not None
    assert model_registry.get_version(ml, 1).tag("threshold")
    assert list(Path(lakehouse_root, "mlflow", "artifacts").iterdir())
    assert not Path("mlflow.db").exists() and not Path("mlruns").exists()


def test_scoring_uses_the_champion_point_in_time(third, features, spark):
    day1, day2 = CUTOFF + dt.timedelta(days=1), CUTOFF + dt.timedelta(days=2)
    result = materialize_range(day1, day2, selection="key:ml/delay_predictions")
    assert result.success, failure_messages(result)
    scored = delta_io.read_table(spark, features.table_uri("ml", "delay_predictions"))
    rows = scored.collect()
    assert len(rows) == 2 * 120
    assert {(r["model_name"], r["model_version"]) for r in rows} == {("flights_delay", 3)}
    assert all(0.0 <= r["delay_probability"] <= 1.0 for r in rows)
    threshold = float(model_registry.get_version(features.ml, 3).tag("threshold"))
    assert all(r["predicted_delayed"] == (r["delay_probability"] >= threshold) for r in rows)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {"features_match_training", "realized_roc_auc_is_acceptable"}
    assert checks["realized_roc_auc_is_acceptable"].metadata["realized_roc_auc"].value > 0.6
    keys = {e.materialization.asset_key for e in result.get_asset_materialization_events()}
    assert keys == {AssetKey(["ml", "delay_predictions"])}


def test_a_day_the_champion_may_have_seen_is_refused_with_what_to_train(third):
    result = materialize_range(CUTOFF, CUTOFF, selection="key:ml/delay_predictions")
    assert not result.success
    message = "\n".join(failure_messages(result))
    assert "trained on days up to 2013-03-14, so it may not score 2013-03-14" in message
    assert "training_cutoff before 2013-03-14" in message


def test_without_a_champion_scoring_says_to_train_first(features, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE__ML__MODEL_NAME", "never_trained")
    day = CUTOFF + dt.timedelta(days=3)
    result = materialize_range(day, day, selection="key:ml/delay_predictions")
    assert not result.success
    assert "has no champion" in "\n".join(failure_messages(result))
    assert "materialize ml/delay_model first" in "\n".join(failure_messages(result))


def test_the_ml_spark_submit_job_scores_with_the_same_code(third, features, spark, capsys):
    day = CUTOFF + dt.timedelta(days=5)
    args = ["--start", day.isoformat(), "--end", day.isoformat()]
    assert runner.main("ml", [*args, "--tables", "ml/delay_predictions"]) == 0
    assert "ml/delay_predictions" in capsys.readouterr().out
    scored = delta_io.read_range(
        spark, features.table_uri("ml", "delay_predictions"), "flight_date", day, day
    )
    assert scored.count() == 120
    # A range before the champion's cutoff fails with exit 1 and the same message.
    early = ["--start", CUTOFF.isoformat(), "--end", CUTOFF.isoformat()]
    assert runner.main("ml", [*early, "--tables", "ml/delay_predictions"]) == 1
    assert "may not score 2013-03-14" in capsys.readouterr().err
