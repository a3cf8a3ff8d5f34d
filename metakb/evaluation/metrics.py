"""Metrics of an evaluation and their direction.

Classification: the primary metric is balanced accuracy (robust to class imbalance, the AutoML
benchmark's choice for classification); log loss and ROC AUC (one-vs-rest, macro) are computed
too when the model gives probabilities.

Regression: RMSE, MAE (lower is better) and R^2 (higher is better), each on the test fold.
The default metric for ranking and portfolios is **R^2** (:data:`DEFAULT_METRIC`): it is
scale-free, so values of datasets with targets in dollars and in millimetres can be averaged and
compared (raw RMSE/MAE cannot); on one test fold it is ``1 - RMSE^2 / Var(y_test)``, i.e. a
monotone map of the RMSE normalised by the target's spread, so it ranks configurations exactly
as normalised RMSE would while being the metric auto-sklearn and the AutoML benchmark use for
regression. R^2 has no lower bound (a wild model scores -1e6); consumers that average regrets
across datasets should clip it (e.g. at 0, the constant-mean predictor) -- stored values are raw.

A regression target is a float array (``metakb.data._task``); :func:`compute_scores` tells the
two tasks apart by that dtype, so one function serves the existing evaluate path.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, log_loss, r2_score, roc_auc_score

from metakb._convert import METRIC_DIRECTIONS as METRICS
from metakb._convert import higher_is_better

__all__ = ["METRICS", "TASK_METRICS", "DEFAULT_METRIC", "higher_is_better", "metric_task",
           "compute_scores", "regression_scores"]

# METRICS (name -> higher is better) and higher_is_better live in the leaf metakb._convert,
# the one rule of a metric's direction (the store reads it too, without importing evaluation).

#: The metrics of each task type's evaluations (``runtime``/``par10``/``error`` are ASlib's).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("balanced_accuracy", "accuracy", "roc_auc", "log_loss"),
    "regression": ("r2", "rmse", "mae"),
}

#: The primary metric (stored as an evaluation's value, used for ranking) of each task type.
DEFAULT_METRIC: dict[str, str] = {"classification": "balanced_accuracy", "regression": "r2"}


def metric_task(metric: str) -> str | None:
    """``regression`` or ``classification`` for a metric of one task, None for others (runtime)."""
    higher_is_better(metric)
    for task, names in TASK_METRICS.items():
        if metric in names:
            return task
    return None


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R^2 of predictions (R^2 is NaN on a constant test fold, where it is undefined)."""
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    error = y_pred - y_true
    scores = {"rmse": float(np.sqrt(np.mean(error ** 2))), "mae": float(np.mean(np.abs(error)))}
    if np.ptp(y_true) > 0 and np.isfinite(error).all():
        scores["r2"] = float(r2_score(y_true, y_pred))
    else:
        scores["r2"] = float("nan")
    return scores


def compute_scores(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
                   classes: Sequence[object]) -> dict[str, float]:
    """Scores of one test fold: regression's when ``y_true`` is a float array, else classification's.

    Classification: balanced accuracy, accuracy and, with probabilities, log loss and ROC AUC.
    Regression: see :func:`regression_scores` (``proba`` and ``classes`` are ignored).
    """
    if np.asarray(y_true).dtype.kind == "f":
        return regression_scores(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true" on small test folds
        balanced = float(balanced_accuracy_score(y_true, y_pred))
    scores = {
        "balanced_accuracy": balanced,
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
    }
    if proba is not None:
        proba = np.clip(np.asarray(proba, dtype=float), 1e-15, 1.0)
        proba = proba / proba.sum(axis=1, keepdims=True)
        scores["log_loss"] = float(log_loss(y_true, proba, labels=list(classes)))
        present = np.unique(y_true)
        if len(present) >= 2:
            if len(classes) == 2:
                scores["roc_auc"] = float(roc_auc_score(y_true, proba[:, 1]))
            elif len(present) == len(classes):
                scores["roc_auc"] = float(roc_auc_score(y_true, proba, multi_class="ovr",
                                                        average="macro", labels=list(classes)))
    return scores
