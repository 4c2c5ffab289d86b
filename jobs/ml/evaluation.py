"""How good a probability column is, the naive baseline it must beat, and whether a new
version replaces the champion. Spark aggregates only; nothing here reads or writes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.ml.features import LABEL

EPSILON = 1e-6  # probabilities are clipped to [eps, 1 - eps] for the log loss
BINS = 100  # probability buckets behind the ROC curve, calibration and threshold
BASELINE_KEYS = ("carrier", "sched_dep_hour_local")
BASELINE_PRIOR = 20.0  # pseudo-flights pulling a thin carrier-hour cell to the overall rate


@dataclass(frozen=True)
class Metrics:
    """Scores of one probability column on one set of labelled flights."""

    roc_auc: float
    pr_auc: float
    log_loss: float
    brier: float
    rows: int
    positive_rate: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": float(v) for k, v in self.__dict__.items()}


def evaluate(scored: DataFrame, probability: str) -> Metrics:
    """ROC AUC, PR AUC, log loss and Brier score of ``probability`` against the label."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator  # not with the definitions

    if scored.isEmpty():
        raise ValueError("nothing to evaluate: no labelled flights in the evaluation window")
    evaluator = BinaryClassificationEvaluator(rawPredictionCol=probability, labelCol=LABEL)
    p = F.least(F.greatest(F.col(probability), F.lit(EPSILON)), F.lit(1 - EPSILON))
    y = F.col(LABEL)
    sums = scored.agg(
        F.avg(-(y * F.log(p) + (1 - y) * F.log(1 - p))).alias("log_loss"),
        F.avg((F.col(probability) - y) ** 2).alias("brier"),
        F.count(F.lit(1)).alias("rows"),
        F.avg(y).alias("positive_rate"),
    ).first()
    assert sums is not None
    return Metrics(
        roc_auc=evaluator.evaluate(scored, {evaluator.metricName: "areaUnderROC"}),
        pr_auc=evaluator.evaluate(scored, {evaluator.metricName: "areaUnderPR"}),
        log_loss=float(sums["log_loss"]),
        brier=float(sums["brier"]),
        rows=int(sums["rows"]),
        positive_rate=float(sums["positive_rate"]),
    )


def fit_baseline(train: DataFrame) -> DataFrame:
    """The naive model: the share of late departures per carrier and scheduled hour on the
    training days, shrunk towards the overall share where a cell has few flights."""
    overall = train.agg(F.avg(LABEL)).first()
    assert overall is not None
    prior = float(overall[0])
    return train.groupBy(*BASELINE_KEYS).agg(
        (
            (F.sum(LABEL) + F.lit(BASELINE_PRIOR * prior))
            / (F.count(F.lit(1)) + F.lit(BASELINE_PRIOR))
        ).alias("__cell_share"),
        F.lit(prior).alias("__overall_share"),
    )


def apply_baseline(baseline: DataFrame, flights: DataFrame, probability: str) -> DataFrame:
    """``flights`` with the baseline's probability (the overall share for unseen cells)."""
    overall = baseline.select("__overall_share").limit(1)
    return (
        flights.join(F.broadcast(baseline.drop("__overall_share")), list(BASELINE_KEYS), "left")
        .crossJoin(F.broadcast(overall))
        .withColumn(probability, F.coalesce("__cell_share", "__overall_share"))
        .drop("__cell_share", "__overall_share")
    )


def _bucket(probability: str) -> Column:
    return F.least(F.floor(F.col(probability) * BINS), F.lit(BINS - 1)).cast("int")


def histogram(scored: DataFrame, probability: str) -> list[tuple[int, int, int, float]]:
    """Per probability bucket: (bucket, positives, negatives, mean probability), ascending."""
    rows = (
        scored.groupBy(_bucket(probability).alias("bucket"))
        .agg(
            F.sum(LABEL).cast("long").alias("pos"),
            F.sum(1 - F.col(LABEL)).cast("long").alias("neg"),
            F.avg(probability).alias("mean_p"),
        )
        .orderBy("bucket")
        .collect()
    )
    return [(r["bucket"], r["pos"], r["neg"], r["mean_p"]) for r in rows]


def roc_points(hist: list[tuple[int, int, int, float]]) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) as the threshold falls bucket by bucket."""
    pos, neg = sum(h[1] for h in hist) or 1, sum(h[2] for h in hist) or 1
    points, tp, fp = [(0.0, 0.0)], 0, 0
    for _, p, n, _ in reversed(hist):
        tp, fp = tp + p, fp + n
        points.append((fp / neg, tp / pos))
    return points


def best_threshold(hist: list[tuple[int, int, int, float]]) -> float:
    """The bucket edge that maximizes F1: flights at or above it are predicted late."""
    total_pos = sum(h[1] for h in hist)
    best, threshold, tp, fp = -1.0, 0.5, 0, 0
    for bucket, p, n, _ in reversed(hist):
        tp, fp = tp + p, fp + n
        f1 = 2 * tp / (tp + fp + total_pos) if tp else 0.0
        if f1 > best:
            best, threshold = f1, bucket / BINS
    return threshold


@dataclass(frozen=True)
class Decision:
    """Whether the challenger replaces the champion, and why."""

    promote: bool
    reason: str


# Two trainings on the same data and seed can differ in the last bits: Spark adds up the
# partitions' statistics in the order their tasks finish. A PR AUC that close is a tie.
ROUNDING = 1e-9


def decide_promotion(
    challenger_pr_auc: float,
    baseline_pr_auc: float,
    champion_pr_auc: float | None,
    margin: float,
) -> Decision:
    """A challenger is promoted when it beats the naive baseline and, if there is a champion,
    beats the champion's PR AUC on the same holdout by at least ``margin``."""
    if challenger_pr_auc <= baseline_pr_auc:
        return Decision(
            False,
            f"PR AUC {challenger_pr_auc:.4f} does not beat the baseline's {baseline_pr_auc:.4f}",
        )
    if champion_pr_auc is None:
        return Decision(
            True,
            f"no champion yet: PR AUC {challenger_pr_auc:.4f} beats the baseline's "
            f"{baseline_pr_auc:.4f}",
        )
    needed = champion_pr_auc + margin
    if challenger_pr_auc >= needed - ROUNDING:
        return Decision(
            True,
            f"PR AUC {challenger_pr_auc:.4f} >= champion's {champion_pr_auc:.4f} + margin {margin}",
        )
    return Decision(
        False,
        f"PR AUC {challenger_pr_auc:.4f} < champion's {champion_pr_auc:.4f} + margin {margin}",
    )


def population_stability(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two distributions over the same bins (shares)."""
    psi = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        psi += (a - e) * math.log(a / e)
    return psi


def _bin_index(column: str, edges: list[float]) -> Column:
    """0..len(edges) by which edges a value exceeds; len(edges) + 1 for a missing value."""
    value = F.col(column)
    index = sum((F.when(value > F.lit(e), 1).otherwise(0) for e in edges), F.lit(0))
    return F.when(value.isNull() | F.isnan(value), F.lit(len(edges) + 1)).otherwise(index)


def bin_shares(frame: DataFrame, edges: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per column: the share of rows in each bin of its ``edges`` (last bin: missing).

    Each row's bin is computed once per column and the (column, bin) pairs are counted: one
    aggregate per column and bin over the rows instead would plan and evaluate every
    column's binning once per bin (16 columns, 11 bins: 4 s of a small training run)."""
    if not edges:
        return {}
    pairs = F.array(*(
        F.struct(F.lit(c).alias("column"), _bin_index(c, e).alias("bin")) for c, e in edges.items()
    ))  # fmt: skip
    counted = frame.select(F.inline(pairs)).groupBy("column", "bin").count().collect()
    counts = {(r["column"], r["bin"]): int(r["count"]) for r in counted}
    first = next(iter(edges))  # every row falls in exactly one bin of each column
    total = max(sum(n for (c, _), n in counts.items() if c == first), 1)
    return {c: [counts.get((c, i), 0) / total for i in range(len(e) + 2)] for c, e in edges.items()}


def distribution_reference(
    frame: DataFrame, columns: tuple[str, ...], bins: int = 10
) -> dict[str, dict[str, list[float]]]:
    """Decile edges of each numeric column and the training shares in each bin: the
    reference a scored day's feature drift is measured against."""
    probabilities = [i / bins for i in range(1, bins)]
    quantiles = frame.approxQuantile(list(columns), probabilities, 0.001)
    edges = {c: sorted(set(q)) for c, q in zip(columns, quantiles, strict=True)}
    shares = bin_shares(frame, edges)
    return {c: {"edges": edges[c], "shares": shares[c]} for c in columns}
