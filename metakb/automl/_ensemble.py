"""Greedy ensemble selection with replacement over the candidates' out-of-fold outputs.

One function, :func:`ensemble_selection`, serves both tasks: it averages the members' outputs
(weighted by how often each was chosen) and scores the mean with a higher-is-better function.
The classifier averages class probabilities and scores the arg-max class by balanced accuracy
(:func:`balanced_accuracy_of_proba`); the regressor averages predictions and scores them by R²
(:func:`r2_of_predictions`), i.e. it minimises the squared error of the mean prediction.

References: Caruana, Niculescu-Mizil, Crew, Ksikes (2004), "Ensemble selection from libraries of
models", ICML; as used by auto-sklearn (Feurer et al. 2015).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from metakb.errors import ConfigError

__all__ = ["ensemble_selection", "balanced_accuracy_of_proba", "r2_of_predictions"]


def balanced_accuracy_of_proba(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Balanced accuracy of the arg-max class (``y_true`` holds column indices of ``proba``)."""
    return float(balanced_accuracy_score(y_true, np.argmax(proba, axis=1)))


def r2_of_predictions(y_true: np.ndarray, predictions: np.ndarray) -> float:
    """R² = 1 - SSE / SST of ``predictions`` (a monotone map of their squared error).

    On a constant ``y_true``, where R² is undefined (SST = 0), minus the mean squared error,
    which ranks predictions the same way.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    error = np.asarray(predictions, dtype=float).ravel() - y
    sse = float(np.dot(error, error))
    deviation = y - y.mean()
    sst = float(np.dot(deviation, deviation))
    return 1.0 - sse / sst if sst > 0 else -sse / max(len(y), 1)


def ensemble_selection(predictions: np.ndarray, y_true: np.ndarray, size: int, *,
                       score: Callable[[np.ndarray, np.ndarray], float] = balanced_accuracy_of_proba
                       ) -> np.ndarray:
    """Weights of Caruana et al.'s greedy forward selection with replacement.

    Starting from the empty ensemble, ``size`` times the model whose addition gives the best
    score of the ensemble's output -- the mean of its members' outputs, each counted as often
    as it was chosen -- is added (a model may be added again, which is how it gains weight);
    ties go to the model listed first (the caller lists them best first). The weights are how
    often each model was chosen, divided by ``size``.

    Args:
        predictions: the models' out-of-fold outputs, shape (n_models, n_rows) or
            (n_models, n_rows, n_outputs): class probabilities for a classifier, predicted
            values for a regressor.
        y_true: per row, what ``score`` compares the mean output with: the true class as a
            column index of the probabilities, or the true value.
        size: the number of selection rounds (>= 1); 1 picks the single best model.
        score: higher-is-better score of (y_true, mean output): by default the balanced
            accuracy of the arg-max class; :func:`r2_of_predictions` for a regression.

    Returns:
        one weight per model, summing to 1.
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
        raise ConfigError(f"ensemble size must be an int in [1, inf); got {size!r}")
    predictions = np.asarray(predictions, dtype=float)
    if predictions.ndim not in (2, 3) or predictions.shape[0] == 0:
        raise ConfigError("predictions must have shape (n_models >= 1, n_rows[, n_outputs]); "
                          f"got {predictions.shape}")
    if predictions.shape[1] != len(y_true):
        raise ConfigError(f"predictions cover {predictions.shape[1]} rows but y_true has {len(y_true)}")
    counts = np.zeros(predictions.shape[0], dtype=int)
    total = np.zeros(predictions.shape[1:])
    for step in range(1, size + 1):
        candidates = [score(y_true, (total + p) / step) for p in predictions]
        best = int(np.argmax(candidates))  # first of the ties
        counts[best] += 1
        total += predictions[best]
    return counts / size
