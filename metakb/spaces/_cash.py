"""The ``sklearn-cash`` search space: a CASH space over seven scikit-learn classifiers.

Combined algorithm selection and hyperparameter optimisation (Thornton et al. 2013): a top-level
``classifier`` choice, each classifier's hyperparameters active only under its choice, plus
preprocessing choices (numeric imputation, scaling, categorical encoding) shared by all.

Ranges follow auto-sklearn's classification components where they exist. Every classifier's
scikit-learn defaults form one configuration (:func:`model_defaults`) with the preprocessing
defaults (mean imputation as ``SimpleImputer``, standard scaling, one-hot encoding). Where a
scikit-learn default is 0 on a log-scale range (``l2_regularization``), the lower bound
``1e-10`` stands in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    Integer,
)

__all__ = ["NAME", "VERSION", "CLASSIFIERS", "build_space", "model_defaults"]

NAME = "sklearn-cash"
VERSION = "1"
CLASSIFIERS = (
    "hist_gradient_boosting",
    "random_forest",
    "extra_trees",
    "logistic_regression",
    "svc",
    "k_neighbors",
    "mlp",
)


def _model_hyperparameters() -> dict[str, list[Any]]:
    """Each classifier's hyperparameters, named ``<classifier>:<hyperparameter>``."""
    hgb = "hist_gradient_boosting"
    return {
        hgb: gradient_boosting_hyperparameters(),
        **{
            forest: [
                Integer(f"{forest}:n_estimators", (10, 500), default=100, log=True),
                Categorical(f"{forest}:criterion", ["gini", "entropy"], default="gini"),
                Categorical(f"{forest}:max_features", ["sqrt", "log2", "0.25", "0.5", "0.75", "1.0"],
                            default="sqrt"),
                Integer(f"{forest}:min_samples_split", (2, 20), default=2),
                Integer(f"{forest}:min_samples_leaf", (1, 20), default=1),
                Categorical(f"{forest}:bootstrap", ["true", "false"],
                            default="true" if forest == "random_forest" else "false"),
            ]
            for forest in ("random_forest", "extra_trees")
        },
        "logistic_regression": [
            Float("logistic_regression:C", (1e-4, 1e4), default=1.0, log=True),
            Categorical("logistic_regression:class_weight", ["none", "balanced"], default="none"),
        ],
        "svc": [
            Float("svc:C", (0.03125, 32768.0), default=1.0, log=True),
            Categorical("svc:gamma_mode", ["scale", "value"], default="scale"),
            Float("svc:gamma", (3.0517578125e-05, 8.0), default=0.1, log=True),
            Categorical("svc:class_weight", ["none", "balanced"], default="none"),
        ],
        **neighbour_and_mlp_hyperparameters(),
    }


def gradient_boosting_hyperparameters() -> list[Any]:
    """HistGradientBoosting's hyperparameters, the same for classifiers and regressors."""
    hgb = "hist_gradient_boosting"
    return [
        Float(f"{hgb}:learning_rate", (0.01, 1.0), default=0.1, log=True),
        Integer(f"{hgb}:max_iter", (10, 500), default=100, log=True),
        Integer(f"{hgb}:max_leaf_nodes", (3, 2047), default=31, log=True),
        Integer(f"{hgb}:min_samples_leaf", (1, 200), default=20, log=True),
        Float(f"{hgb}:l2_regularization", (1e-10, 1.0), default=1e-10, log=True),
    ]


def neighbour_and_mlp_hyperparameters() -> dict[str, list[Any]]:
    """The k-nearest-neighbours and MLP hyperparameters, the same for classifiers and regressors."""
    return {
        "k_neighbors": [
            Integer("k_neighbors:n_neighbors", (1, 100), default=5, log=True),
            Categorical("k_neighbors:weights", ["uniform", "distance"], default="uniform"),
            Categorical("k_neighbors:p", ["1", "2"], default="2"),
        ],
        "mlp": [
            Integer("mlp:n_layers", (1, 3), default=1),
            Integer("mlp:n_units", (16, 256), default=100, log=True),
            Float("mlp:alpha", (1e-7, 1e-1), default=1e-4, log=True),
            Float("mlp:learning_rate_init", (1e-4, 0.5), default=1e-3, log=True),
            Categorical("mlp:activation", ["relu", "tanh"], default="relu"),
        ],
    }


def build_space(seed: int | None = None) -> ConfigurationSpace:
    """The ``sklearn-cash`` ConfigSpace, with every model hyperparameter conditional on its choice."""
    return build_cash_space(NAME, "classifier", CLASSIFIERS, _model_hyperparameters(), [], seed=seed)


def build_cash_space(name: str, choice: str, models: Sequence[str], hyperparameters: dict[str, list[Any]],
                     extra: list[Any], *, seed: int | None) -> ConfigurationSpace:
    """A CASH space: the model ``choice``, the shared preprocessing (plus ``extra`` choices), and
    every model's hyperparameters active only for that model (an SVM's ``gamma`` only when its
    ``gamma_mode`` is ``value``)."""
    space = ConfigurationSpace(name=name, seed=seed)
    chooser = Categorical(choice, list(models), default="hist_gradient_boosting")
    space.add([
        chooser,
        Categorical("numeric_imputer", ["mean", "median", "most_frequent"], default="mean"),
        Categorical("scaler", ["none", "standard", "robust", "minmax", "quantile"], default="standard"),
        Categorical("categorical_encoding", ["one_hot", "ordinal"], default="one_hot"),
        *extra,
    ])
    for model, group in hyperparameters.items():
        space.add(group)
        space.add([EqualsCondition(hp, chooser, model) for hp in group if not hp.name.endswith(":gamma")])
        gamma = f"{model}:gamma"
        if gamma in space:
            space.add(EqualsCondition(space[gamma], space[f"{model}:gamma_mode"], "value"))
    return space


def model_defaults() -> dict[str, dict[str, Any]]:
    """For every classifier, the configuration holding its scikit-learn defaults."""
    return defaults_per_model(build_space(), "classifier", CLASSIFIERS, _model_hyperparameters())


def defaults_per_model(space: ConfigurationSpace, choice: str, models: Sequence[str],
                       hyperparameters: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """For every model of a CASH space, its scikit-learn defaults with the shared choices' defaults."""
    base = dict(space.get_default_configuration())
    shared = {k: v for k, v in base.items() if k != choice and ":" not in k}
    defaults = {}
    for model in models:
        config: dict[str, Any] = {choice: model, **shared}
        for hp in hyperparameters[model]:
            if hp.name.endswith(":gamma"):
                continue  # inactive: gamma_mode defaults to 'scale'
            config[hp.name] = hp.default_value
        defaults[model] = config
    return defaults
