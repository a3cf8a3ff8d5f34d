"""Turn a ``sklearn-cash`` configuration into a scikit-learn ``Pipeline``.

The pipeline is ``ColumnTransformer(numeric: impute -> scale, categorical: impute -> encode)``
followed by the classifier. Numeric columns are floats with NaN for missing values; categorical
columns are strings (or NaN). ``iteration_fraction`` scales the iteration budget of iterative
models (trees in a forest, boosting iterations, MLP epochs) for multi-fidelity optimisers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import SVC

from metakb.errors import SpaceError
from metakb.spaces._cash import CLASSIFIERS

__all__ = ["make_pipeline"]


def make_pipeline(config: Mapping[str, Any], categorical: Sequence[bool], *, seed: int = 0,
                  iteration_fraction: float = 1.0, n_rows: int | None = None) -> Pipeline:
    """The scikit-learn pipeline of one configuration.

    Args:
        config: active hyperparameter values of the ``sklearn-cash`` space.
        categorical: for every input column, whether it is categorical.
        seed: random state of every stochastic step.
        iteration_fraction: share in (0, 1] of the classifier's iteration budget.
        n_rows: training rows, to cap ``n_neighbors`` and quantiles on tiny data.

    Raises:
        SpaceError: the configuration names no known classifier or misses a hyperparameter.
    """
    model = config.get("classifier")
    if model not in CLASSIFIERS:
        raise SpaceError(f"configuration classifier must be one of {list(CLASSIFIERS)}, got {model!r}")
    if not 0.0 < iteration_fraction <= 1.0:
        raise SpaceError(f"iteration_fraction must be in (0, 1], got {iteration_fraction}")
    try:
        preprocess = _preprocessor(config, categorical, seed, n_rows)
        classifier = _classifier(model, config, seed, iteration_fraction, n_rows)
    except KeyError as exc:
        raise SpaceError(f"configuration of {model!r} lacks hyperparameter {exc.args[0]!r}") from exc
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def _scaler(name: str, seed: int, n_rows: int | None) -> Any:
    if name == "none":
        return "passthrough"
    if name == "quantile":
        quantiles = min(1000, n_rows) if n_rows else 1000
        return QuantileTransformer(n_quantiles=max(quantiles, 2), output_distribution="normal",
                                   random_state=seed)
    scalers = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}
    if name not in scalers:
        raise SpaceError(f"scaler must be one of none, standard, robust, minmax, quantile, got {name!r}")
    return scalers[name]()


def _preprocessor(config: Mapping[str, Any], categorical: Sequence[bool], seed: int,
                  n_rows: int | None) -> ColumnTransformer:
    mask = np.asarray(categorical, dtype=bool)
    numeric_columns = np.flatnonzero(~mask).tolist()
    categorical_columns = np.flatnonzero(mask).tolist()
    numeric = Pipeline([
        ("impute", SimpleImputer(strategy=config["numeric_imputer"], keep_empty_features=True)),
        ("scale", _scaler(config["scaler"], seed, n_rows)),
    ])
    if config["categorical_encoding"] == "one_hot":
        encoder: Any = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=32,
                                     sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    categorical_pipe = Pipeline([
        ("impute", SimpleImputer(strategy="constant", fill_value="__missing__", keep_empty_features=True)),
        ("encode", encoder),
    ])
    transformers = []
    if numeric_columns:
        transformers.append(("numeric", numeric, numeric_columns))
    if categorical_columns:
        transformers.append(("categorical", categorical_pipe, categorical_columns))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def _scaled(value: int, fraction: float) -> int:
    return max(1, int(round(value * fraction)))


def _classifier(model: str, c: Mapping[str, Any], seed: int, fraction: float,
                n_rows: int | None) -> Any:
    if model == "hist_gradient_boosting":
        p = "hist_gradient_boosting:"
        return HistGradientBoostingClassifier(
            learning_rate=c[p + "learning_rate"], max_iter=_scaled(c[p + "max_iter"], fraction),
            max_leaf_nodes=c[p + "max_leaf_nodes"], min_samples_leaf=c[p + "min_samples_leaf"],
            l2_regularization=c[p + "l2_regularization"], early_stopping=False, random_state=seed)
    if model in ("random_forest", "extra_trees"):
        p = model + ":"
        features = c[p + "max_features"]
        cls = RandomForestClassifier if model == "random_forest" else ExtraTreesClassifier
        return cls(
            n_estimators=_scaled(c[p + "n_estimators"], fraction), criterion=c[p + "criterion"],
            max_features=features if features in ("sqrt", "log2") else float(features),
            min_samples_split=c[p + "min_samples_split"], min_samples_leaf=c[p + "min_samples_leaf"],
            bootstrap=c[p + "bootstrap"] == "true", random_state=seed, n_jobs=1)
    if model == "logistic_regression":
        weight = c["logistic_regression:class_weight"]
        return LogisticRegression(C=c["logistic_regression:C"],
                                  class_weight=None if weight == "none" else weight,
                                  max_iter=_scaled(100, fraction), random_state=seed)
    if model == "svc":
        gamma = "scale" if c["svc:gamma_mode"] == "scale" else c["svc:gamma"]
        weight = c["svc:class_weight"]
        return SVC(C=c["svc:C"], gamma=gamma, class_weight=None if weight == "none" else weight,
                   random_state=seed, cache_size=500)
    if model == "k_neighbors":
        neighbours = c["k_neighbors:n_neighbors"]
        if n_rows:
            neighbours = min(neighbours, max(1, n_rows - 1))
        return KNeighborsClassifier(n_neighbors=neighbours, weights=c["k_neighbors:weights"],
                                    p=int(c["k_neighbors:p"]))
    p = "mlp:"
    return MLPClassifier(
        hidden_layer_sizes=(c[p + "n_units"],) * c[p + "n_layers"], alpha=c[p + "alpha"],
        learning_rate_init=c[p + "learning_rate_init"], activation=c[p + "activation"],
        max_iter=_scaled(200, fraction), random_state=seed)
