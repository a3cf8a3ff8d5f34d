"""The ``sklearn-cash-regression`` search space and its pipeline builder: CASH over eight regressors.

Combined algorithm selection and hyperparameter optimisation (Thornton et al. 2013) for a
continuous target: a top-level ``regressor`` choice, each regressor's hyperparameters active
only under its choice, the preprocessing choices of the classification space (numeric
imputation, scaling, categorical encoding, built by the same code) and a ``target_transform``
choice:

* ``none`` -- the target as it is;
* ``log1p`` -- ``log(1 + y)`` when every training target is >= 0 (a right-skewed positive
  quantity: prices, counts); on a training fold with a negative target it falls back to
  ``none`` (the fitted estimator's ``transform_used_`` says which was used);
* ``quantile`` -- a quantile transform of ``y`` to a normal distribution.

After the chosen transform the target is always standardised (training mean and standard
deviation), and predictions are mapped back through both. Standardising leaves the trees',
kNN's and Ridge's predictions unchanged (they are equivariant to an affine map of ``y``) but
makes the scale-dependent hyperparameters -- SVR's ``epsilon``, ElasticNet's ``alpha``, the
MLP's initial learning rate -- mean the same on every dataset, which a knowledge base shared
across datasets needs.

Ranges follow auto-sklearn's regression components where they exist; the forests have no
``criterion`` choice (scikit-learn 1.9 deprecates ``friedman_mse`` as equal to squared error,
``absolute_error`` is quadratic in the rows and ``poisson`` needs a positive target). Every regressor's
scikit-learn defaults form one configuration (:func:`model_defaults`) with the preprocessing
defaults of the classification space and ``target_transform=none``; where a scikit-learn
default is 0 on a log-scale range (``l2_regularization``) the lower bound ``1e-10`` stands in.

References: Thornton, Hutter, Hoos, Leyton-Brown (2013), Auto-WEKA: combined selection and
hyperparameter optimization of classification algorithms, KDD; Feurer et al. (2015), Efficient
and robust automated machine learning, NeurIPS (auto-sklearn's regression components).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import (
    ExtraTreesRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer
from sklearn.svm import SVR

from metakb.errors import SpaceError
from metakb.spaces._cash import (
    build_cash_space,
    defaults_per_model,
    gradient_boosting_hyperparameters,
    neighbour_and_mlp_hyperparameters,
)

__all__ = ["NAME", "VERSION", "TASK", "REGRESSORS", "TARGET_TRANSFORMS", "build_space", "model_defaults",
           "make_regression_pipeline", "TargetTransformRegressor"]

NAME = "sklearn-cash-regression"
VERSION = "1"
TASK = "regression"
REGRESSORS = (
    "hist_gradient_boosting",
    "random_forest",
    "extra_trees",
    "ridge",
    "elastic_net",
    "svr",
    "k_neighbors",
    "mlp",
)
TARGET_TRANSFORMS = ("none", "log1p", "quantile")


def _model_hyperparameters() -> dict[str, list[Any]]:
    """Each regressor's hyperparameters, named ``<regressor>:<hyperparameter>``."""
    hgb = "hist_gradient_boosting"
    return {
        hgb: gradient_boosting_hyperparameters(),
        **{
            forest: [
                Integer(f"{forest}:n_estimators", (10, 500), default=100, log=True),
                Categorical(f"{forest}:max_features", ["sqrt", "log2", "0.25", "0.5", "0.75", "1.0"],
                            default="1.0"),
                Integer(f"{forest}:min_samples_split", (2, 20), default=2),
                Integer(f"{forest}:min_samples_leaf", (1, 20), default=1),
                Categorical(f"{forest}:bootstrap", ["true", "false"],
                            default="true" if forest == "random_forest" else "false"),
            ]
            for forest in ("random_forest", "extra_trees")
        },
        "ridge": [
            Float("ridge:alpha", (1e-5, 1e3), default=1.0, log=True),
        ],
        "elastic_net": [
            Float("elastic_net:alpha", (1e-5, 10.0), default=1.0, log=True),
            Float("elastic_net:l1_ratio", (0.0, 1.0), default=0.5),
        ],
        "svr": [
            Float("svr:C", (0.03125, 32768.0), default=1.0, log=True),
            Float("svr:epsilon", (1e-3, 1.0), default=0.1, log=True),
            Categorical("svr:gamma_mode", ["scale", "value"], default="scale"),
            Float("svr:gamma", (3.0517578125e-05, 8.0), default=0.1, log=True),
        ],
        **neighbour_and_mlp_hyperparameters(),
    }


def build_space(seed: int | None = None) -> ConfigurationSpace:
    """The ``sklearn-cash-regression`` ConfigSpace, every model hyperparameter conditional on its choice."""
    transform = Categorical("target_transform", list(TARGET_TRANSFORMS), default="none")
    return build_cash_space(NAME, "regressor", REGRESSORS, _model_hyperparameters(), [transform], seed=seed)


def model_defaults() -> dict[str, dict[str, Any]]:
    """For every regressor, the configuration holding its scikit-learn defaults."""
    return defaults_per_model(build_space(), "regressor", REGRESSORS, _model_hyperparameters())


class TargetTransformRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A regressor fitted on a transformed, standardised target; predictions mapped back.

    Args:
        regressor: the scikit-learn regressor to fit (cloned).
        transform: ``none``, ``log1p`` (falls back to ``none`` when a training target is
            negative) or ``quantile`` (to a normal distribution).
        seed: random state of the quantile transform's subsample.

    Attributes:
        regressor_: the fitted clone.
        transform_used_: the transform actually applied.
        mean_, scale_: the standardisation of the transformed training target.
    """

    def __init__(self, regressor: Any = None, transform: str = "none", seed: int = 0) -> None:
        self.regressor = regressor
        self.transform = transform
        self.seed = seed

    def fit(self, X: Any, y: Any) -> TargetTransformRegressor:
        """Transform ``y`` (floats), standardise it and fit the regressor on it."""
        if self.transform not in TARGET_TRANSFORMS:
            raise SpaceError(f"target_transform must be one of {list(TARGET_TRANSFORMS)}, got {self.transform!r}")
        if self.regressor is None:
            raise SpaceError("TargetTransformRegressor needs a regressor, got None")
        target = np.asarray(y, dtype=float).ravel()
        used = self.transform
        if used == "log1p" and target.min() < 0:
            used = "none"
        self.transform_used_ = used
        self.quantile_: QuantileTransformer | None = None
        if used == "log1p":
            z = np.log1p(target)
        elif used == "quantile":
            self.quantile_ = QuantileTransformer(n_quantiles=max(2, min(1000, target.size)),
                                                 output_distribution="normal", random_state=self.seed)
            z = self.quantile_.fit_transform(target[:, None]).ravel()
        else:
            z = target
        self.mean_ = float(z.mean())
        sd = float(z.std())
        self.scale_ = sd if sd > 0 else 1.0
        self.regressor_ = clone(self.regressor).fit(X, (z - self.mean_) / self.scale_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the regressor on the original scale of the target."""
        z = np.asarray(self.regressor_.predict(X), dtype=float).ravel() * self.scale_ + self.mean_
        if self.transform_used_ == "log1p":
            return np.expm1(np.minimum(z, 700.0))  # beyond exp(700) a float overflows
        if self.transform_used_ == "quantile":
            assert self.quantile_ is not None
            return self.quantile_.inverse_transform(z[:, None]).ravel()
        return z


def make_regression_pipeline(config: Mapping[str, Any], categorical: Sequence[bool], *, seed: int = 0,
                             iteration_fraction: float = 1.0, n_rows: int | None = None) -> Pipeline:
    """The scikit-learn pipeline of one ``sklearn-cash-regression`` configuration.

    ``ColumnTransformer(numeric: impute -> scale, categorical: impute -> encode)`` (the
    classification space's preprocessing) followed by the regressor inside a
    :class:`TargetTransformRegressor`.

    Args:
        config: active hyperparameter values of the space.
        categorical: for every input column, whether it is categorical.
        seed: random state of every stochastic step.
        iteration_fraction: share in (0, 1] of the regressor's iteration budget.
        n_rows: training rows, to cap ``n_neighbors`` and quantiles on tiny data.

    Raises:
        SpaceError: the configuration names no known regressor or misses a hyperparameter.
    """
    from metakb.spaces._pipeline import _preprocessor

    model = config.get("regressor")
    if model not in REGRESSORS:
        raise SpaceError(f"configuration regressor must be one of {list(REGRESSORS)}, got {model!r}")
    if not 0.0 < iteration_fraction <= 1.0:
        raise SpaceError(f"iteration_fraction must be in (0, 1], got {iteration_fraction}")
    try:
        preprocess = _preprocessor(config, categorical, seed, n_rows)
        regressor = _regressor(str(model), config, seed, iteration_fraction, n_rows)
        transform = config["target_transform"]
    except KeyError as exc:
        raise SpaceError(f"configuration of {model!r} lacks hyperparameter {exc.args[0]!r}") from exc
    if transform not in TARGET_TRANSFORMS:
        raise SpaceError(f"target_transform must be one of {list(TARGET_TRANSFORMS)}, got {transform!r}")
    return Pipeline([("preprocess", preprocess),
                     ("regressor", TargetTransformRegressor(regressor, transform, seed))])


def _scaled(value: int, fraction: float) -> int:
    return max(1, int(round(value * fraction)))


def _regressor(model: str, c: Mapping[str, Any], seed: int, fraction: float, n_rows: int | None) -> Any:
    if model == "hist_gradient_boosting":
        p = "hist_gradient_boosting:"
        return HistGradientBoostingRegressor(
            learning_rate=c[p + "learning_rate"], max_iter=_scaled(c[p + "max_iter"], fraction),
            max_leaf_nodes=c[p + "max_leaf_nodes"], min_samples_leaf=c[p + "min_samples_leaf"],
            l2_regularization=c[p + "l2_regularization"], early_stopping=False, random_state=seed)
    if model in ("random_forest", "extra_trees"):
        p = model + ":"
        features = c[p + "max_features"]
        cls = RandomForestRegressor if model == "random_forest" else ExtraTreesRegressor
        return cls(
            n_estimators=_scaled(c[p + "n_estimators"], fraction),
            max_features=features if features in ("sqrt", "log2") else float(features),
            min_samples_split=c[p + "min_samples_split"], min_samples_leaf=c[p + "min_samples_leaf"],
            bootstrap=c[p + "bootstrap"] == "true", random_state=seed, n_jobs=1)
    if model == "ridge":
        return Ridge(alpha=c["ridge:alpha"])
    if model == "elastic_net":
        return ElasticNet(alpha=c["elastic_net:alpha"], l1_ratio=c["elastic_net:l1_ratio"],
                          max_iter=_scaled(1000, fraction), random_state=seed)
    if model == "svr":
        gamma = "scale" if c["svr:gamma_mode"] == "scale" else c["svr:gamma"]
        return SVR(C=c["svr:C"], epsilon=c["svr:epsilon"], gamma=gamma, cache_size=500)
    if model == "k_neighbors":
        neighbours = c["k_neighbors:n_neighbors"]
        if n_rows:
            neighbours = min(neighbours, max(1, n_rows - 1))
        return KNeighborsRegressor(n_neighbors=neighbours, weights=c["k_neighbors:weights"],
                                   p=int(c["k_neighbors:p"]))
    p = "mlp:"
    return MLPRegressor(
        hidden_layer_sizes=(c[p + "n_units"],) * c[p + "n_layers"], alpha=c[p + "alpha"],
        learning_rate_init=c[p + "learning_rate_init"], activation=c[p + "activation"],
        max_iter=_scaled(200, fraction), random_state=seed)
