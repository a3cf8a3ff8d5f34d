"""From a dataset to a fitted model: warm-started AutoML estimators and their safe model files.

``AutoMLClassifier`` and ``AutoMLRegressor`` (scikit-learn estimators, one shared flow) search
with BOHB, warm-started from the knowledge base, select on a protocol fitted to the data size,
build a greedy ensemble (Caruana et al. 2004) and refit on every row; :func:`save_model` /
:func:`load_model` write and read either with ``skops.io`` restricted to an explicit list of
trusted types (never pickle).
"""

from __future__ import annotations

from metakb.automl._ensemble import (
    balanced_accuracy_of_proba,
    ensemble_selection,
    r2_of_predictions,
)
from metakb.automl._estimator import WARM_START_AUTO, AutoMLClassifier, FittedPipelines
from metakb.automl._model_io import MODEL_FORMAT, TRUSTED_TYPES, MetaKBModel, load_model, save_model
from metakb.automl._protocol import selection_protocol
from metakb.automl._regressor import AutoMLRegressor, FittedRegressionPipelines

__all__ = [
    "AutoMLClassifier",
    "AutoMLRegressor",
    "FittedPipelines",
    "FittedRegressionPipelines",
    "MetaKBModel",
    "MODEL_FORMAT",
    "TRUSTED_TYPES",
    "WARM_START_AUTO",
    "balanced_accuracy_of_proba",
    "ensemble_selection",
    "load_model",
    "r2_of_predictions",
    "save_model",
    "selection_protocol",
]
