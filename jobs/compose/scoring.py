"""Score days of flights with the champion model, point in time, and watch the scores.

A day is scored only by a model whose training cutoff is before it, so no prediction was
made by a model that saw its outcome. The scored range is audited (warnings, never
blocking): each numeric feature's drift from the training data (population stability
index) and, where the day's outcomes are known, the realized ROC AUC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from expectations.audit import CheckOutcome
from jobs.compose.builds import Build, timed
from jobs.io import model_registry
from jobs.io.model_registry import RegisteredVersion
from jobs.ml import evaluation
from jobs.ml.features import IDENTITY, LABEL, NUMERIC, is_labelled, model_inputs
from jobs.ml.model import PROBABILITY, score
from jobs.settings import MlSettings, Settings

PREDICTIONS = "ml/delay_predictions"
# The calendar drifts by construction (a model trained to October scores November), so
# drift is watched on what the calendar does not decide.
DRIFT_FEATURES = tuple(c for c in NUMERIC if c not in ("month", "day_of_week"))
DRIFT_CHECK = "features_match_training"
REALIZED_CHECK = "realized_roc_auc_is_acceptable"


class NoModelForDays(ValueError):
    """No registered model may score these days."""


def scoring_version(settings: Settings, start: dt.date) -> RegisteredVersion:
    """The champion, if it was trained on days before ``start``; otherwise say what to train."""
    ml = settings.ml
    champion = model_registry.champion(ml)
    if champion is None:
        raise NoModelForDays(
            f"model {ml.model_name} has no champion in {ml.tracking_uri}: materialize "
            "ml/delay_model first (`lakehouse train`)"
        )
    cutoff = dt.date.fromisoformat(champion.tag("training_cutoff"))
    if cutoff >= start:
        raise NoModelForDays(
            f"the champion ({ml.model_name} version {champion.version}) was trained on days up "
            f"to {cutoff}, so it may not score {start}: a day is scored only by a model trained "
            f"before it. Score days after {cutoff}, or train ml/delay_model with [ml] "
            f"training_cutoff before {start} (LAKEHOUSE__ML__TRAINING_CUTOFF) and promote it"
        )
    return champion


def predict(features: DataFrame, model: Any, version: RegisteredVersion) -> DataFrame:
    """One row per flight: its delay probability, the predicted label at the version's
    threshold, the model's name and version, and when it was scored."""
    threshold = float(version.tag("threshold"))
    scored = score(model, model_inputs(features))
    return scored.select(
        *IDENTITY,
        F.col(PROBABILITY),
        (F.col(PROBABILITY) >= F.lit(threshold)).alias("predicted_delayed"),
        F.lit(version.name).alias("model_name"),
        F.lit(version.version).alias("model_version"),
        F.current_timestamp().alias("scored_at"),
    )


@dataclass(frozen=True)
class ModelAudit:
    """Drift and realized quality of one scored range (warnings only)."""

    table: str
    psi: dict[str, float]
    psi_warn: float
    realized: evaluation.Metrics | None
    min_roc_auc: float
    version: int

    def blocking_failures(self) -> list[str]:
        return []  # a drifting day is still scored; the warning says so

    def drifting(self) -> dict[str, float]:
        return {f: v for f, v in self.psi.items() if v > self.psi_warn}

    def outcomes(self) -> list[CheckOutcome]:
        drifting = self.drifting()
        worst = sorted(self.psi.items(), key=lambda kv: -kv[1])
        drift = CheckOutcome(
            table=self.table,
            check_name=DRIFT_CHECK,
            passed=not drifting,
            blocking=False,
            description=(
                "drifting from the training data (PSI > "
                f"{self.psi_warn}): {', '.join(f'{f} {v:.2f}' for f, v in drifting.items())}"
                if drifting
                else None
            ),
            metadata={
                "model_version": self.version,
                "psi_warn": self.psi_warn,
                "max_psi": round(worst[0][1], 4) if worst else 0.0,
                "psi": "\n".join(f"- {f}: {v:.4f}" for f, v in worst),
            },
            markdown=("psi",),
        )
        if self.realized is None:
            realized = CheckOutcome(
                table=self.table,
                check_name=REALIZED_CHECK,
                passed=True,
                blocking=False,
                description="no outcomes known yet for these days",
                metadata={"model_version": self.version, "labelled_flights": 0},
            )
        else:
            auc = self.realized.roc_auc
            realized = CheckOutcome(
                table=self.table,
                check_name=REALIZED_CHECK,
                passed=auc >= self.min_roc_auc,
                blocking=False,
                description=None
                if auc >= self.min_roc_auc
                else f"realized ROC AUC {auc:.3f} is below {self.min_roc_auc}",
                metadata={
                    "model_version": self.version,
                    "labelled_flights": self.realized.rows,
                    **{k: round(v, 4) for k, v in self.realized.as_dict("realized_").items()},
                },
            )
        return [drift, realized]


def audit_predictions(
    ml: MlSettings, features: DataFrame, predictions: DataFrame, version: RegisteredVersion
) -> ModelAudit:
    """Drift of the scored features from the version's training reference, and the realized
    quality of the predictions where the outcome is known."""
    reference = model_registry.load_reference(version)
    edges = {c: reference[c]["edges"] for c in DRIFT_FEATURES if c in reference}
    current = evaluation.bin_shares(model_inputs(features), edges)
    psi = {c: evaluation.population_stability(reference[c]["shares"], current[c]) for c in edges}
    labelled = (
        predictions.join(model_inputs(features).select(*IDENTITY, LABEL), list(IDENTITY))
        .where(is_labelled())
    )  # fmt: skip
    realized = evaluation.evaluate(labelled, PROBABILITY) if not labelled.isEmpty() else None
    return ModelAudit(
        PREDICTIONS, psi, ml.drift_psi_warn, realized, ml.min_realized_roc_auc, version.version
    )


@timed
def delay_predictions(settings: Settings, features: DataFrame, start: dt.date) -> Build:
    """The scored range of ``features`` with its audits, ready to publish."""
    version = scoring_version(settings, start)
    model = model_registry.load_model(version)
    features = features.persist()  # scored, then read again by the drift and quality audit
    predictions = predict(features, model, version).persist()
    audit = audit_predictions(settings.ml, features, predictions, version)
    return Build({PREDICTIONS: predictions}, audits=[audit], held=[predictions, features])
