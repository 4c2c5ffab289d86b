"""The departure-delay classifier: a Spark ML pipeline, so it trains and scores wherever
Spark runs (in the Dagster process, under spark-submit, on EMR).

Gradient-boosted trees: delays depend on interactions (an evening departure in a
thunderstorm at one airport, a carrier's hub at rush hour) that trees find without
hand-made crosses, and their log-loss boosting gives usable probabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame

from jobs.ml.features import CATEGORICAL, LABEL, NUMERIC

# pyspark.ml (and pandas with it) is imported where a model is built or read, not with the
# Dagster definitions: every `lakehouse` command and launched run imports those (~0.7 s).
if TYPE_CHECKING:
    from pyspark.ml import Pipeline, PipelineModel

PROBABILITY = "delay_probability"
# Missing numbers (no gust reported, a plane without a build year) become a value below any
# real one: trees split it off as its own branch, and a column missing on every training
# day (wind gusts often are) cannot break the fit the way a median imputer would.
MISSING = -999.0
SEED = 2013  # the same data and settings train the same model


@dataclass(frozen=True)
class Hyperparameters:
    max_iter: int
    max_depth: int
    max_bins: int = 128  # at least the number of destinations (about 105) plus one
    step_size: float = 0.1
    # Leaves of at least 100 flights and 80 % row samples per tree: a few weeks of data hold
    # day-level shocks (a storm) that deeper, thinner leaves memorize and then mispredict.
    min_instances_per_node: int = 100
    subsampling_rate: float = 0.8


def _filled(column: str) -> str:
    return f"{column}__filled"


def _indexed(column: str) -> str:
    return f"{column}__index"


def delay_pipeline(params: Hyperparameters) -> Pipeline:
    """Unfitted pipeline: mark missing numbers, index categories (unseen ones get an index
    of their own), assemble, boost."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.feature import SQLTransformer, StringIndexer, VectorAssembler

    filled = ", ".join(
        f"nanvl(coalesce(`{c}`, {MISSING}), {MISSING}) AS `{_filled(c)}`" for c in NUMERIC
    )
    filler = SQLTransformer(statement=f"SELECT *, {filled} FROM __THIS__")
    indexers = [
        StringIndexer(inputCol=c, outputCol=_indexed(c), handleInvalid="keep") for c in CATEGORICAL
    ]
    assembler = VectorAssembler(inputCols=feature_vector_names(), outputCol="features")
    boosted = GBTClassifier(
        featuresCol="features",
        labelCol=LABEL,
        maxIter=params.max_iter,
        maxDepth=params.max_depth,
        maxBins=params.max_bins,
        stepSize=params.step_size,
        minInstancesPerNode=params.min_instances_per_node,
        subsamplingRate=params.subsampling_rate,
        seed=SEED,
    )
    return Pipeline(stages=[filler, *indexers, assembler, boosted])


def feature_vector_names() -> list[str]:
    """The assembled vector's slots, in order, named by the feature they come from."""
    return [*(_indexed(c) for c in CATEGORICAL), *(_filled(c) for c in NUMERIC)]


def delay_probability(scored: DataFrame) -> Column:
    """The probability of a delay of 15 minutes or more, from a scored frame."""
    from pyspark.ml.functions import vector_to_array

    return vector_to_array(scored["probability"])[1]


def score(model: PipelineModel, inputs: DataFrame) -> DataFrame:
    """``inputs`` with :data:`PROBABILITY`; the pipeline's working columns are dropped."""
    scored = model.transform(inputs)
    return scored.select(*inputs.columns, delay_probability(scored).alias(PROBABILITY))


def feature_importances(model: PipelineModel) -> dict[str, float]:
    """Each feature's share of the boosted trees' splits' gain, largest first."""
    from pyspark.ml.classification import GBTClassificationModel

    boosted = model.stages[-1]
    assert isinstance(boosted, GBTClassificationModel)
    names = [n.removesuffix("__filled").removesuffix("__index") for n in feature_vector_names()]
    weights = boosted.featureImportances.toArray()
    return dict(sorted(zip(names, map(float, weights), strict=True), key=lambda kv: -kv[1]))


def input_columns(model: PipelineModel) -> set[str]:
    """Every column the fitted pipeline reads from its input frame."""
    from pyspark.ml.feature import SQLTransformer

    read: set[str] = set()
    produced: set[str] = set()
    for stage in model.stages:
        if isinstance(stage, SQLTransformer):  # backticked names, but not the aliases
            statement = stage.getStatement()
            aliases = set(re.findall(r"AS `([^`]+)`", statement))
            read |= set(re.findall(r"`([^`]+)`", statement)) - aliases - produced
            produced |= aliases
        for param in ("inputCol", "inputCols", "featuresCol"):
            if stage.hasParam(param) and stage.isDefined(stage.getParam(param)):
                value = stage.getOrDefault(stage.getParam(param))
                read |= {value} if isinstance(value, str) else set(value)
        for param in ("outputCol", "outputCols"):
            if stage.hasParam(param) and stage.isDefined(stage.getParam(param)):
                value = stage.getOrDefault(stage.getParam(param))
                produced |= {value} if isinstance(value, str) else set(value)
    return read - produced
