"""MLflow, configured from the settings: the experiment's runs and the model registry.

Every profile has a real store (``[ml] tracking_uri``): SQLite and an artifact folder under
the lakehouse root (local), a tracking server (dev, prod). Nothing is ever written to the
working directory: the URI and the experiment's artifact location are always set.
Champion and challenger are registry aliases; each version carries the training cutoff,
the holdout, its threshold and its holdout metrics as tags, so scoring and ``lakehouse
model`` need nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.settings import MlSettings

CHAMPION, CHALLENGER = "champion", "challenger"
REFERENCE_ARTIFACT = "drift_reference.json"  # training distributions, for drift checks
# What the model's assets and job import: MLflow (about 2 s), imported while the JVM starts
# (jobs/io/session.py: import_meanwhile).
MODEL_IMPORTS = ("mlflow",)
# How this project starts an MLflow server (`lakehouse mlflow-ui`, the dev server): MLflow 3
# otherwise also starts a job runner, a huey consumer with five worker processes, for its
# GenAI jobs (LLM judges, prompt optimization), which a model registry never runs. A value
# the user set in the environment wins.
SERVER_ENVIRONMENT = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


@dataclass(frozen=True)
class RegisteredVersion:
    """One registered version as scoring and the CLI see it."""

    name: str
    version: int
    run_id: str
    aliases: tuple[str, ...]
    tags: Mapping[str, str]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def tag(self, key: str) -> str:
        try:
            return self.tags[key]
        except KeyError:
            raise KeyError(f"model {self.name} version {self.version} has no tag {key!r}") from None


def _configure(ml: MlSettings) -> None:
    """Point this process's MLflow at the profile's store (creating the SQLite folder)."""
    import mlflow

    if ml.tracking_uri.startswith("sqlite:///"):
        Path(ml.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(ml.tracking_uri)
    mlflow.set_registry_uri(ml.tracking_uri)
    # Quiet progress bars and no environment inference (requirements are given).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def client(ml: MlSettings) -> Any:
    """An ``MlflowClient`` on the profile's tracking and registry store."""
    from mlflow import MlflowClient

    _configure(ml)
    return MlflowClient(tracking_uri=ml.tracking_uri, registry_uri=ml.tracking_uri)


def experiment_id(ml: MlSettings) -> str:
    """The experiment's id, created with its artifact location on first use."""
    c = client(ml)
    found = c.get_experiment_by_name(ml.experiment)
    if found is not None:
        return str(found.experiment_id)
    location = ml.artifact_location
    if location and "://" not in location:
        Path(location).mkdir(parents=True, exist_ok=True)
        location = Path(location).resolve().as_uri()
    return str(c.create_experiment(ml.experiment, artifact_location=location))


@contextmanager
def training_run(ml: MlSettings, run_name: str, tags: Mapping[str, str]) -> Iterator[str]:
    """An active MLflow run in the experiment; yields its id."""
    import mlflow

    experiment = experiment_id(ml)
    with mlflow.start_run(experiment_id=experiment, run_name=run_name, tags=dict(tags)) as run:
        yield run.info.run_id


def log_outcome(
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    figures: Mapping[str, Any],
    reference: Mapping[str, Any],
) -> None:
    """Log the active run's parameters, metrics, PNG figures and drift reference."""
    import mlflow

    mlflow.log_params(dict(params))
    mlflow.log_metrics(dict(metrics))
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
    mlflow.log_dict(dict(reference), REFERENCE_ARTIFACT)


def register_model(
    ml: MlSettings, model: Any, input_example: Any, tags: Mapping[str, str]
) -> RegisteredVersion:
    """Log the fitted Spark pipeline of the active run with its signature and an input
    example, register it as a new version, tag it and give it the challenger alias."""
    import mlflow
    import mlflow.spark
    import numpy as np
    import pyspark
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, np.full(len(input_example), 0.5))
    info = mlflow.spark.log_model(
        model,
        "model",
        registered_model_name=ml.model_name,
        signature=signature,
        input_example=input_example,
        pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
    )
    version = str(info.registered_model_version)
    c = client(ml)
    for key, value in tags.items():
        c.set_model_version_tag(ml.model_name, version, key, value)
    c.set_registered_model_alias(ml.model_name, CHALLENGER, version)
    return get_version(ml, int(version))


def promote(ml: MlSettings, version: int) -> None:
    """Make ``version`` the champion."""
    client(ml).set_registered_model_alias(ml.model_name, CHAMPION, str(version))


def get_version(ml: MlSettings, version: int) -> RegisteredVersion:
    mv = client(ml).get_model_version(ml.model_name, str(version))
    return _registered(mv)


def champion(ml: MlSettings) -> RegisteredVersion | None:
    """The version holding the champion alias, or None before the first promotion."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client(ml).get_model_version_by_alias(ml.model_name, CHAMPION)
    except MlflowException:
        return None
    return _registered(mv)


def versions(ml: MlSettings) -> list[RegisteredVersion]:
    """Every registered version of the model, newest first."""
    from mlflow.exceptions import MlflowException

    c = client(ml)
    try:
        aliases = c.get_registered_model(ml.model_name).aliases or {}
    except MlflowException:
        return []  # not registered yet
    found = c.search_model_versions(f"name = '{ml.model_name}'")
    by_version: dict[int, list[str]] = {}
    for alias, version in aliases.items():  # search results leave aliases out on SQL stores
        by_version.setdefault(int(version), []).append(alias)
    return sorted(
        (
            RegisteredVersion(
                name=mv.name,
                version=int(mv.version),
                run_id=mv.run_id,
                aliases=tuple(sorted(by_version.get(int(mv.version), []))),
                tags=dict(mv.tags or {}),
            )
            for mv in found
        ),
        key=lambda v: -v.version,
    )


def load_model(version: RegisteredVersion) -> Any:
    """The registered Spark ``PipelineModel``."""
    import mlflow.spark

    return mlflow.spark.load_model(version.uri)


def load_reference(version: RegisteredVersion) -> dict[str, Any]:
    """The training distributions logged with ``version``."""
    import mlflow

    text = mlflow.artifacts.load_text(f"runs:/{version.run_id}/{REFERENCE_ARTIFACT}")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _registered(mv: Any) -> RegisteredVersion:
    return RegisteredVersion(
        name=mv.name,
        version=int(mv.version),
        run_id=mv.run_id,
        aliases=tuple(mv.aliases or ()),
        tags=dict(mv.tags or {}),
    )
