"""The model's commands: train, score, the registry, and the MLflow UI."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from assets.commands.pipeline import materialize
from jobs.settings import Settings


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Materialize ml/delay_model: one training run, judged and registered."""
    ml = settings.ml
    print(
        f"training {ml.model_name} on days up to {ml.training_cutoff}, holdout "
        f"{ml.holdout_days} days; MLflow at {ml.tracking_uri}"
    )
    args.start, args.end = None, None
    return materialize(args, settings, "key:ml/delay_model", ranged=False)


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """Materialize ml/delay_predictions; by default every day after the champion's cutoff
    through the last day of gold/flight_features."""
    if args.end is None:
        from jobs.io import delta_log

        path = settings.table_uri("gold", "flight_features")
        summary = delta_log.table_summary(path, "flight_date", settings.s3)
        if summary is None:
            raise SystemExit(f"no gold/flight_features at {path}: run `lakehouse run` first")
        args.end = summary.last
    if args.start is None:
        from jobs.io import model_registry

        champion = model_registry.champion(settings.ml)
        if champion is None:
            raise SystemExit(f"{settings.ml.model_name} has no champion: run `lakehouse train`")
        cutoff = dt.date.fromisoformat(champion.tag("training_cutoff"))
        args.start = cutoff + dt.timedelta(days=1)
        print(f"scoring from {args.start}: the day after version {champion.version}'s cutoff")
    return materialize(args, settings, "key:ml/delay_predictions")


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    """Print the registry: versions, aliases, holdout metrics, cutoff, decision."""
    from jobs.io import model_registry

    ml = settings.ml
    found = model_registry.versions(ml)
    print(f"{ml.model_name} in {ml.tracking_uri}")
    if not found:
        print("  no versions yet: run `lakehouse train`")
        return 0
    print(f"  {'version':>7}  {'aliases':20} {'cutoff':10}  {'PR AUC':>6} {'ROC AUC':>7} "
          f"{'baseline PR':>11}  decision")  # fmt: skip
    for v in found:
        tags = v.tags
        print(
            f"  {v.version:>7}  {','.join(v.aliases) or '-':20} "
            f"{tags.get('training_cutoff', '?'):10}  {tags.get('pr_auc', '?'):>6} "
            f"{tags.get('roc_auc', '?'):>7} {tags.get('baseline_pr_auc', '?'):>11}  "
            f"{tags.get('decision', '')}"
        )
    return 0


def cmd_mlflow_ui(args: argparse.Namespace, settings: Settings) -> int:
    """Open the MLflow UI on this profile's store (a server of its own for local SQLite)."""
    uri = settings.ml.tracking_uri
    if not uri.startswith("sqlite:"):
        print(f"the {settings.env} profile's MLflow is a tracking server: open {uri}")
        return 0
    from jobs.io import model_registry

    model_registry.experiment_id(settings.ml)  # creates the store and the experiment if new
    print(f"MLflow UI on {uri}: open http://127.0.0.1:{args.port}", flush=True)
    command = [
        sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
        "--host", "127.0.0.1", "--port", str(args.port),
    ]  # fmt: skip
    os.execve(command[0], command, {**model_registry.SERVER_ENVIRONMENT, **os.environ})
    return 0  # not reached
