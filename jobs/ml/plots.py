"""The training run's figures: ROC curve, calibration and feature importance.

Built from the small aggregates of :mod:`jobs.ml.evaluation` (never from rows), as
matplotlib figures the tracking code logs as PNGs.
"""

from __future__ import annotations

# Figure objects, never pyplot: no display and no global state on a driver or a CI machine.
from matplotlib.figure import Figure

from jobs.ml.evaluation import roc_points

Histogram = list[tuple[int, int, int, float]]


def roc_figure(curves: dict[str, Histogram]) -> Figure:
    """ROC curves of the model and the baseline on the holdout."""
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for name, hist in curves.items():
        xs, ys = zip(*roc_points(hist), strict=True)
        ax.plot(xs, ys, label=name)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, holdout")
    ax.legend(loc="lower right")
    return fig


def calibration_figure(curves: dict[str, Histogram], bins: int = 10) -> Figure:
    """Mean predicted probability against the observed late share, in ``bins`` buckets."""
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for name, hist in curves.items():
        width = max(1, (max(h[0] for h in hist) + 1) // bins) if hist else 1
        grouped: dict[int, list[float]] = {}
        for bucket, pos, neg, mean_p in hist:
            g = grouped.setdefault(bucket // width, [0.0, 0.0, 0.0])
            g[0], g[1], g[2] = g[0] + pos, g[1] + neg, g[2] + mean_p * (pos + neg)
        xs = [g[2] / (g[0] + g[1]) for g in grouped.values() if g[0] + g[1]]
        ys = [g[0] / (g[0] + g[1]) for g in grouped.values() if g[0] + g[1]]
        ax.plot(xs, ys, marker="o", label=name)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="mean predicted probability", ylabel="observed late share",
           title="Calibration, holdout")  # fmt: skip
    ax.legend(loc="upper left")
    return fig


def importance_figure(importances: dict[str, float]) -> Figure:
    """Horizontal bars of each feature's importance, largest on top."""
    names, weights = list(importances), list(importances.values())
    fig = Figure(figsize=(6, 0.3 * len(names) + 1))
    ax = fig.subplots()
    ax.barh(names[::-1], weights[::-1])
    ax.set(xlabel="share of split gain", title="Feature importance")
    fig.tight_layout()
    return fig
