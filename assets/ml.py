"""ML assets: the departure-delay model (trained, judged and registered in MLflow) and the
daily predictions of its champion."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    MaterializeResult,
    Output,
    asset,
)
from pyspark.sql import DataFrame

from assets.gates import check_result, publish
from assets.metadata import render
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import LakehouseConfig, SparkResource
from assets.tables import asset_args, asset_key
from jobs.compose import scoring, training
from jobs.entrypoints.runner import metadata_line

MODEL = asset_key(training.MODEL)
# Bump when the model's code changes (features, pipeline, evaluation): automation retrains.
MODEL_CODE_VERSION = "gbt-1"


@asset(
    **asset_args(training.MODEL),
    deps=[asset_key(training.FEATURES_TABLE)],
    check_specs=[
        AssetCheckSpec(
            training.PROMOTION_CHECK,
            asset=MODEL,
            blocking=False,
            description="The new version beats the naive baseline and the champion's PR AUC on "
            "the same holdout by [ml] promotion_margin, and so became champion.",
        )
    ],
    code_version=MODEL_CODE_VERSION,
)
def delay_model(context: AssetExecutionContext, spark: SparkResource) -> MaterializeResult:
    """Train on the days up to the cutoff, evaluate on the holdout, register, maybe promote."""
    settings = spark.lakehouse.settings()
    build = training.training_build(spark.session("ml/delay_model"), settings)
    report = build.reports[training.MODEL]
    context.log.info(f"{training.MODEL}: {metadata_line(report)}")
    return MaterializeResult(
        metadata=render(report),
        check_results=[check_result(o) for o in build.check_outcomes()],
    )


@asset(
    **asset_args(scoring.PREDICTIONS),
    ins={"features": AssetIn(asset_key(training.FEATURES_TABLE))},
    deps=[MODEL],
    check_specs=[
        AssetCheckSpec(
            scoring.DRIFT_CHECK,
            asset=asset_key(scoring.PREDICTIONS),
            blocking=False,
            description="Population stability index of each numeric feature against the "
            "scoring model's training data; warns above [ml] drift_psi_warn.",
        ),
        AssetCheckSpec(
            scoring.REALIZED_CHECK,
            asset=asset_key(scoring.PREDICTIONS),
            blocking=False,
            description="ROC AUC of the day's predictions against the outcomes, once known; "
            "warns below [ml] min_realized_roc_auc.",
        ),
    ],
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
)
def delay_predictions(
    context: AssetExecutionContext, lakehouse: LakehouseConfig, features: DataFrame
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    """Score the range with the champion, if it was trained before the range's first day."""
    start, _ = partition_dates(context)
    yield from publish(scoring.delay_predictions(lakehouse.settings(), features, start))


ml_assets = [delay_model, delay_predictions]
