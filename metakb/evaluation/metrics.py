"""Metrics of an evaluation and their direction.

The primary metric is balanced accuracy (robust to class imbalance, the AutoML benchmark's
choice for classification); log loss and ROC AUC (one-vs-rest, macro) are computed too when
the model gives probabilities.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, log_loss, roc_auc_score

from metakb._convert import METRIC_DIRECTIONS as METRICS
from metakb._convert import higher_is_better

__all__ = ["METRICS", "higher_is_better", "compute_scores"]

# METRICS (name -> higher is better) and higher_is_better live in the leaf metakb._convert,
# the one rule of a metric's direction (the store reads it too, without importing evaluation).


def compute_scores(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
                   classes: Sequence[object]) -> dict[str, float]:
    """Balanced accuracy, accuracy and, with probabilities, log loss and ROC AUC."""
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
