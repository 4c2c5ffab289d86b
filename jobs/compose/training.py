"""Train the departure-delay model, judge it against the baseline and the champion on the
same holdout, and record everything in MLflow. Called by the Dagster asset
``ml/delay_model`` and the ``ml`` spark-submit job alike."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from expectations.audit import CheckOutcome
from jobs.compose.builds import Build
from jobs.io import delta_io, model_registry, table_io
from jobs.ml import evaluation
from jobs.ml.evaluation import Metrics
from jobs.ml.features import NUMERIC, model_inputs, split_by_date, training_window
from jobs.ml.model import PROBABILITY, Hyperparameters, delay_pipeline, feature_importances, score
from jobs.settings import Settings
from jobs.tables import table

FEATURES_TABLE = "gold/flight_features"
MODEL = "ml/delay_model"
BASELINE = "baseline_probability"
INPUT_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class TrainingReport:
    """What one training run did, as metadata, logs and the CLI show it."""

    model_name: str
    version: int
    run_id: str
    training_cutoff: str
    holdout: str  # first..last day evaluated
    feature_table_version: int
    train_rows: int
    holdout_rows: int
    threshold: float
    model: dict[str, float]
    baseline: dict[str, float]
    champion_before: int | None
    champion_pr_auc: float | None  # the previous champion on this same holdout
    promoted: bool
    reason: str
    champion_after: int | None
    train_seconds: float
    tracking_uri: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MissingTrainingData(ValueError):
    """The features do not cover the training window or its holdout."""


def read_features(spark: SparkSession, settings: Settings, end: dt.date) -> tuple[DataFrame, int]:
    """The feature table up to ``end``, and its Delta version (a training run's input)."""
    features = table(FEATURES_TABLE)
    path = settings.table_uri(*features.path)
    frame = table_io.read_input(spark, settings, features, settings.pipeline.first_date, end)
    return frame, delta_io.last_commit(spark, path).version


def train_delay_model(spark: SparkSession, settings: Settings) -> TrainingReport:
    """Fit the pipeline on the days up to the cutoff, evaluate it, the naive baseline and the
    current champion on the holdout after it, register the new version as challenger and
    promote it when it wins (:func:`jobs.ml.evaluation.decide_promotion`)."""
    ml = settings.ml
    began = time.monotonic()
    (_, cutoff), (hold_start, hold_end) = training_window(ml.training_cutoff, ml.holdout_days)
    features, feature_version = read_features(spark, settings, hold_end)
    train, holdout = (
        model_inputs(f).persist() for f in split_by_date(features, cutoff, ml.holdout_days)
    )
    try:
        train_rows, holdout_rows = train.count(), holdout.count()
        if not train_rows or not holdout_rows:
            raise MissingTrainingData(
                f"{FEATURES_TABLE} has {train_rows:,} labelled flights up to the cutoff {cutoff} "
                f"and {holdout_rows:,} in the holdout {hold_start}..{hold_end}: materialize "
                f"{FEATURES_TABLE} for {settings.pipeline.first_date}..{hold_end}, or move "
                "[ml] training_cutoff / holdout_days (LAKEHOUSE__ML__TRAINING_CUTOFF)"
            )
        params = Hyperparameters(ml.max_iter, ml.max_depth)
        model = delay_pipeline(params).fit(train)
        scored = score(model, holdout).persist()
        baseline = evaluation.apply_baseline(evaluation.fit_baseline(train), holdout, BASELINE)
        model_metrics = evaluation.evaluate(scored, PROBABILITY)
        baseline_metrics = evaluation.evaluate(baseline, BASELINE)
        current = model_registry.champion(ml)
        champion_metrics = (
            evaluation.evaluate(score(model_registry.load_model(current), holdout), PROBABILITY)
            if current
            else None
        )
        decision = evaluation.decide_promotion(
            model_metrics.pr_auc,
            baseline_metrics.pr_auc,
            champion_metrics.pr_auc if champion_metrics else None,
            ml.promotion_margin,
        )
        curves = {
            "model": evaluation.histogram(scored, PROBABILITY),
            "baseline": evaluation.histogram(baseline, BASELINE),
        }
        threshold = evaluation.best_threshold(curves["model"])
        importances = feature_importances(model)
        reference = evaluation.distribution_reference(train, NUMERIC)
        example = train.drop("is_delayed_15").limit(INPUT_EXAMPLE_ROWS).toPandas()
        scored.unpersist()
    finally:
        train.unpersist()
        holdout.unpersist()
    window = {
        "training_cutoff": cutoff.isoformat(),
        "holdout": f"{hold_start}..{hold_end}",
        "feature_table": settings.table_uri(*table(FEATURES_TABLE).path),
        "feature_table_version": str(feature_version),
    }
    # matplotlib costs 1.5 s to import: only a training run pays it, not every process that
    # loads the Dagster definitions.
    from jobs.ml import plots

    with model_registry.training_run(ml, f"train to {cutoff}", window) as run_id:
        model_registry.log_outcome(
            params={**asdict(params), "algorithm": "spark.ml GBTClassifier",
                    "train_rows": train_rows, "holdout_rows": holdout_rows},
            metrics={
                **model_metrics.as_dict(), **baseline_metrics.as_dict("baseline_"),
                **(champion_metrics.as_dict("champion_") if champion_metrics else {}),
                "threshold": threshold,
            },
            figures={
                "roc": plots.roc_figure(curves),
                "calibration": plots.calibration_figure(curves),
                "feature_importance": plots.importance_figure(importances),
            },
            reference=reference,
        )  # fmt: skip
        version = model_registry.register_model(
            ml,
            model,
            example,
            {
                **window,
                "threshold": f"{threshold:.2f}",
                "pr_auc": f"{model_metrics.pr_auc:.4f}",
                "roc_auc": f"{model_metrics.roc_auc:.4f}",
                "baseline_pr_auc": f"{baseline_metrics.pr_auc:.4f}",
                "decision": decision.reason,
            },
        )
    if decision.promote:
        model_registry.promote(ml, version.version)
    return TrainingReport(
        model_name=ml.model_name,
        version=version.version,
        run_id=run_id,
        training_cutoff=cutoff.isoformat(),
        holdout=f"{hold_start}..{hold_end}",
        feature_table_version=feature_version,
        train_rows=train_rows,
        holdout_rows=holdout_rows,
        threshold=threshold,
        model=_rounded(model_metrics),
        baseline=_rounded(baseline_metrics),
        champion_before=current.version if current else None,
        champion_pr_auc=round(champion_metrics.pr_auc, 4) if champion_metrics else None,
        promoted=decision.promote,
        reason=decision.reason,
        champion_after=version.version
        if decision.promote
        else current.version
        if current
        else None,
        train_seconds=round(time.monotonic() - began, 1),
        tracking_uri=ml.tracking_uri,
    )


def _rounded(metrics: Metrics) -> dict[str, float]:
    return {k: round(v, 4) for k, v in metrics.as_dict().items()}


PROMOTION_CHECK = "beats_champion_and_baseline"


@dataclass(frozen=True)
class PromotionAudit:
    """The promotion decision of a training run, as an audit (never blocking: a challenger
    that loses is still registered, and the champion stays)."""

    report: TrainingReport

    def blocking_failures(self) -> list[str]:
        return []

    def outcomes(self) -> list[CheckOutcome]:
        return [promotion_outcome(self.report)]


def training_build(spark: SparkSession, settings: Settings) -> Build:
    """A training run as a build: no table output, the promotion audit, the model report."""
    report = train_delay_model(spark, settings)
    return Build({}, audits=[PromotionAudit(report)], reports={MODEL: training_metadata(report)})


def promotion_outcome(report: TrainingReport) -> CheckOutcome:
    """The promotion decision as a (warning) asset check of ``ml/delay_model``."""
    return CheckOutcome(
        table=MODEL,
        check_name=PROMOTION_CHECK,
        passed=report.promoted,
        blocking=False,
        description=report.reason,
        metadata={
            "challenger_version": report.version,
            "challenger_pr_auc": report.model["pr_auc"],
            "baseline_pr_auc": report.baseline["pr_auc"],
            "champion_version_before": report.champion_before or 0,
            "champion_pr_auc_same_holdout": report.champion_pr_auc or 0.0,
            "champion_version": report.champion_after or 0,
        },
    )


def training_metadata(report: TrainingReport) -> dict[str, dict[str, Any]]:
    """What a training run reports, as ``{key: {"raw_value", "type"}}`` (Pipes' plain form)."""
    entries: dict[str, tuple[Any, str]] = {
        "model_version": (report.version, "int"),
        "champion_version": (report.champion_after or 0, "int"),
        "promoted": (report.promoted, "bool"),
        "decision": (report.reason, "text"),
        "training_cutoff": (report.training_cutoff, "text"),
        "holdout": (report.holdout, "text"),
        "feature_table_version": (report.feature_table_version, "int"),
        "train_rows": (report.train_rows, "int"),
        "holdout_rows": (report.holdout_rows, "int"),
        "threshold": (report.threshold, "float"),
        "train_seconds": (report.train_seconds, "float"),
        "mlflow_run_id": (report.run_id, "text"),
        "model_uri": (f"models:/{report.model_name}/{report.version}", "text"),
        "metrics": (_metrics_table(report), "md"),
    }
    for name, value in report.model.items():
        entries[f"holdout_{name}"] = (value, "float")
    return table_io.plain_metadata(entries)


def _metrics_table(report: TrainingReport) -> str:
    names = ("roc_auc", "pr_auc", "log_loss", "brier")
    champion = f"{report.champion_pr_auc:.4f}" if report.champion_pr_auc is not None else "-"
    rows = [f"| {n} | {report.model[n]:.4f} | {report.baseline[n]:.4f} |" for n in names]
    return "\n".join(
        [
            f"Holdout {report.holdout} ({report.holdout_rows:,} flights); previous champion's "
            f"PR AUC there: {champion}",
            "",
            "| metric | model | naive baseline |",
            "|---|---|---|",
            *rows,
        ]
    )
