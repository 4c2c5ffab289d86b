"""Metrics, the naive baseline, thresholds, promotion and drift: small frames, known answers."""

import math

import pytest

from jobs.ml import evaluation
from jobs.ml.features import LABEL


def scored(spark, rows):
    return spark.createDataFrame(rows, f"p DOUBLE, {LABEL} DOUBLE")


def test_a_perfect_ranking_scores_one_and_its_losses_follow_the_definitions(spark):
    m = evaluation.evaluate(scored(spark, [(0.9, 1.0), (0.8, 1.0), (0.3, 0.0), (0.1, 0.0)]), "p")
    assert m.roc_auc == pytest.approx(1.0)
    assert m.pr_auc == pytest.approx(1.0)
    expected_log_loss = -(math.log(0.9) + math.log(0.8) + math.log(0.7) + math.log(0.9)) / 4
    assert m.log_loss == pytest.approx(expected_log_loss)
    assert m.brier == pytest.approx((0.01 + 0.04 + 0.09 + 0.01) / 4)
    assert (m.rows, m.positive_rate) == (4, 0.5)


def test_a_reversed_ranking_scores_zero_roc_auc(spark):
    m = evaluation.evaluate(scored(spark, [(0.1, 1.0), (0.9, 0.0)]), "p")
    assert m.roc_auc == pytest.approx(0.0)


def test_evaluating_nothing_says_the_window_is_empty(spark):
    with pytest.raises(ValueError, match="no labelled flights"):
        evaluation.evaluate(scored(spark, []), "p")


def test_the_baseline_is_the_late_share_per_carrier_and_hour_shrunk_to_the_overall(spark):
    train = spark.createDataFrame(
        [("UA", 8, 1.0)] * 30 + [("UA", 8, 0.0)] * 10 + [("AA", 8, 0.0)] * 40,
        f"carrier STRING, sched_dep_hour_local INT, {LABEL} DOUBLE",
    )
    flights = spark.createDataFrame(
        [("UA", 8), ("AA", 8), ("B6", 8)], "carrier STRING, sched_dep_hour_local INT"
    )
    fitted = evaluation.apply_baseline(evaluation.fit_baseline(train), flights, "baseline")
    assert fitted.columns == [*flights.columns, "baseline"]
    p = {r["carrier"]: r["baseline"] for r in fitted.collect()}
    prior = evaluation.BASELINE_PRIOR
    assert p["UA"] == pytest.approx((30 + prior * 0.375) / (40 + prior))
    assert p["AA"] == pytest.approx((0 + prior * 0.375) / (40 + prior))
    assert p["B6"] == pytest.approx(0.375)  # never seen: the overall share


def test_roc_points_run_from_the_origin_to_one_one_and_the_threshold_maximizes_f1():
    # bucket, positives, negatives, mean p: positives sit in the high buckets.
    hist = [(10, 0, 50, 0.1), (50, 5, 10, 0.5), (90, 20, 2, 0.9)]
    points = evaluation.roc_points(hist)
    assert points[0] == (0.0, 0.0) and points[-1] == pytest.approx((1.0, 1.0))
    assert points[1] == pytest.approx((2 / 62, 20 / 25))
    # At 0.9: tp 20, fp 2 -> F1 40/47; at 0.5: tp 25, fp 12 -> F1 50/62 (lower).
    assert evaluation.best_threshold(hist) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("challenger", "baseline", "champion", "promote", "reason"),
    [
        (0.40, 0.30, None, True, "no champion yet"),
        (0.29, 0.30, None, False, "does not beat the baseline"),
        (0.45, 0.30, 0.40, True, ">= champion's"),
        (0.402, 0.30, 0.40, False, "< champion's"),
        (0.45, 0.50, 0.40, False, "does not beat the baseline"),
    ],
)
def test_a_challenger_is_promoted_only_when_it_beats_baseline_and_champion_by_the_margin(
    challenger, baseline, champion, promote, reason
):
    decision = evaluation.decide_promotion(challenger, baseline, champion, margin=0.005)
    assert decision.promote is promote
    assert reason in decision.reason


def test_the_stability_index_is_zero_for_the_same_distribution_and_grows_with_shift():
    same = evaluation.population_stability([0.25] * 4, [0.25] * 4)
    shifted = evaluation.population_stability([0.25] * 4, [0.1, 0.2, 0.3, 0.4])
    moved = evaluation.population_stability([0.25] * 4, [0.0, 0.0, 0.5, 0.5])
    assert same == 0.0 and 0 < shifted < 0.25 < moved


def test_bin_shares_count_missing_values_in_a_bin_of_their_own(spark):
    frame = spark.createDataFrame([(1.0,), (2.0,), (5.0,), (None,)], "x DOUBLE")
    assert evaluation.bin_shares(frame, {"x": [1.5, 3.0]}) == {"x": [0.25, 0.25, 0.25, 0.25]}


def test_bin_shares_bin_each_column_by_its_own_edges(spark):
    frame = spark.createDataFrame(
        [(1.0, 10.0), (2.0, None), (5.0, 30.0), (6.0, 40.0)], "x DOUBLE, y DOUBLE"
    )
    shares = evaluation.bin_shares(frame, {"x": [1.5, 3.0], "y": [35.0]})
    assert shares == {"x": [0.25, 0.25, 0.5, 0.0], "y": [0.5, 0.25, 0.25]}
    assert evaluation.bin_shares(frame.limit(0), {"x": [1.5]}) == {"x": [0.0, 0.0, 0.0]}


def test_the_reference_holds_decile_edges_and_training_shares(spark):
    frame = spark.createDataFrame([(float(i),) for i in range(100)], "x DOUBLE")
    ref = evaluation.distribution_reference(frame, ("x",))["x"]
    assert len(ref["edges"]) == 9
    assert ref["shares"][:10] == pytest.approx([0.1] * 10, abs=0.02)
    assert ref["shares"][-1] == 0.0  # nothing missing


def test_a_tie_up_to_rounding_is_as_good_as_the_champion():
    champion, challenger = 0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1  # 0.6000000000000001 and 0.6
    assert challenger < champion
    assert evaluation.decide_promotion(challenger, 0.2, champion, margin=0.0).promote
    assert not evaluation.decide_promotion(challenger - 1e-6, 0.2, champion, margin=0.0).promote
