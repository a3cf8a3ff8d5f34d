"""From a dataset to a fitted model: a warm-started AutoML estimator and its safe model files.

``AutoMLClassifier`` (scikit-learn estimator) searches with BOHB, warm-started from the
knowledge base, selects on a protocol fitted to the data size, builds a greedy ensemble
(Caruana et al. 2004) and refits on every row; :func:`save_model` / :func:`load_model` write and
read it with ``skops.io`` restricted to an explicit list of trusted types (never pickle).
"""

from __future__ import annotations

from metakb.automl._ensemble import balanced_accuracy_of_proba, ensemble_selection
from metakb.automl._estimator import WARM_START_AUTO, AutoMLClassifier, FittedPipelines
from metakb.automl._model_io import MODEL_FORMAT, TRUSTED_TYPES, MetaKBModel, load_model, save_model
from metakb.automl._protocol import selection_protocol

__all__ = [
    "AutoMLClassifier",
    "FittedPipelines",
    "MetaKBModel",
    "MODEL_FORMAT",
    "TRUSTED_TYPES",
    "WARM_START_AUTO",
    "balanced_accuracy_of_proba",
    "ensemble_selection",
    "load_model",
    "save_model",
    "selection_protocol",
]
