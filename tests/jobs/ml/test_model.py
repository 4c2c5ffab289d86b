"""The delay pipeline: what it reads, what it learns, how it scores."""

import datetime as dt

import pytest
from pyspark.sql import functions as F

from jobs.ml import evaluation
from jobs.ml.features import FEATURES, OUTCOME_COLUMNS, model_inputs, split_by_date
from jobs.ml.model import (
    PROBABILITY,
    Hyperparameters,
    delay_pipeline,
    feature_importances,
    input_columns,
    score,
)

CUTOFF = dt.date(2013, 3, 14)


@pytest.fixture(scope="module")
def fitted(features):
    train, holdout = (model_inputs(f) for f in split_by_date(features, CUTOFF, 7))
    return delay_pipeline(Hyperparameters(max_iter=8, max_depth=3)).fit(train), holdout


def test_the_split_trains_up_to_the_cutoff_and_holds_out_the_following_days(features):
    train, holdout = split_by_date(features, CUTOFF, 7)
    train_days = train.agg(F.min("flight_date"), F.max("flight_date")).first()
    hold_days = holdout.agg(F.min("flight_date"), F.max("flight_date")).first()
    assert tuple(train_days) == (dt.date(2013, 3, 1), CUTOFF)
    assert tuple(hold_days) == (dt.date(2013, 3, 15), dt.date(2013, 3, 21))
    assert train.where(F.col("is_delayed_15").isNull()).isEmpty()  # cancelled: no label


def test_no_outcome_or_post_departure_column_is_a_feature(fitted):
    model, holdout = fitted
    assert input_columns(model) == set(FEATURES)
    assert not input_columns(model) & set(OUTCOME_COLUMNS)
    # Scoring works with every outcome column gone: the model cannot be reading one.
    blind = holdout.drop(*(c for c in OUTCOME_COLUMNS if c in holdout.columns))
    assert score(model, blind).count() == holdout.count()


def test_the_model_learns_the_signal_and_beats_the_naive_baseline(features, fitted):
    model, holdout = fitted
    train, _ = (model_inputs(f) for f in split_by_date(features, CUTOFF, 7))
    baseline = evaluation.apply_baseline(evaluation.fit_baseline(train), holdout, "p")
    model_metrics = evaluation.evaluate(score(model, holdout), PROBABILITY)
    baseline_metrics = evaluation.evaluate(baseline, "p")
    assert model_metrics.roc_auc > 0.72  # the noise caps it near 0.77
    assert model_metrics.pr_auc > baseline_metrics.pr_auc + 0.2


def test_importances_name_every_feature_and_find_the_hour_and_the_rain(fitted):
    model, _ = fitted
    importances = feature_importances(model)
    assert set(importances) == set(FEATURES)
    assert sum(importances.values()) == pytest.approx(1.0)
    assert set(list(importances)[:2]) == {"sched_dep_hour_local", "precip_in"}


def test_unseen_categories_and_missing_numbers_are_still_scored(spark, fitted):
    model, holdout = fitted
    row = {**holdout.first().asDict(), "dest": "ZZZ", "carrier": "XX", "temp_f": None}
    odd = spark.createDataFrame([row], holdout.schema)
    [scored] = score(model, odd).collect()
    assert 0.0 <= scored[PROBABILITY] <= 1.0
