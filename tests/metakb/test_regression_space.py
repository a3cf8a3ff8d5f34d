"""The sklearn-cash-regression space, its pipelines and the space/task check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    ExtraTreesRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.svm import SVR

from metakb.errors import ConfigError, SpaceError
from metakb.spaces import (
    check_space_task,
    get_search_space,
    make_pipeline,
    sample_configurations,
    space_task,
    spaces_for_task,
    validate_configuration,
)
from metakb.spaces._cash_regression import REGRESSORS, TargetTransformRegressor

SPACE = "sklearn-cash-regression"


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["u", "v", "w"], size=n).astype(object)})
    X.loc[3, "a"] = np.nan
    y = 3.0 * X["b"].to_numpy() + (X["c"] == "u").to_numpy() + 0.1 * rng.normal(size=n) + 10.0
    return X, y, np.array([False, False, True])


def test_registered_with_its_task():
    spec = get_search_space(SPACE)
    assert spec.task == "regression" and space_task("sklearn-cash") == "classification"
    assert spaces_for_task("regression") == [SPACE]
    space = spec.build()
    assert list(space["regressor"].choices) == list(REGRESSORS)
    assert set(space["target_transform"].choices) == {"none", "log1p", "quantile"}
    # conditions: a ridge configuration activates only ridge's hyperparameters
    ridge = spec.defaults()["ridge"]
    assert {k for k in ridge if ":" in k} == {"ridge:alpha"}


_SKLEARN = {
    "hist_gradient_boosting": HistGradientBoostingRegressor, "random_forest": RandomForestRegressor,
    "extra_trees": ExtraTreesRegressor, "ridge": Ridge, "elastic_net": ElasticNet, "svr": SVR,
    "k_neighbors": KNeighborsRegressor, "mlp": MLPRegressor,
}
_RENAMED = {"n_layers": None, "n_units": None, "gamma_mode": None, "bootstrap": None, "p": None,
            "max_features": None, "l2_regularization": None}


@pytest.mark.parametrize("model", REGRESSORS)
def test_defaults_are_sklearn_defaults_and_valid(model):
    spec = get_search_space(SPACE)
    config = spec.defaults()[model]
    validate_configuration(spec.build(), config)
    reference = _SKLEARN[model]().get_params()
    for key, value in config.items():
        if ":" not in key:
            continue
        param = key.split(":", 1)[1]
        if param in _RENAMED:
            continue
        assert reference[param] == value, (model, param)
    if model in ("random_forest", "extra_trees"):
        assert float(config[f"{model}:max_features"]) == reference["max_features"]
        assert (config[f"{model}:bootstrap"] == "true") == reference["bootstrap"]
    if model == "mlp":
        assert (config["mlp:n_units"],) * config["mlp:n_layers"] == reference["hidden_layer_sizes"]
    assert config["target_transform"] == "none"


@pytest.mark.parametrize("model", REGRESSORS)
def test_every_default_pipeline_fits_and_predicts(model):
    X, y, categorical = _data()
    config = get_search_space(SPACE).defaults()[model]
    pipe = make_pipeline(config, categorical, seed=0, n_rows=60).fit(X.iloc[:60], y[:60])
    pred = pipe.predict(X.iloc[60:])
    assert pred.shape == (20,) and np.isfinite(pred).all()
    assert isinstance(pipe[-1], TargetTransformRegressor)


# a sampled MLP may stop at its (budget-scaled) iteration cap: expected, not this test's subject
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sampled_configurations_build():
    spec = get_search_space(SPACE)
    X, y, categorical = _data()
    for config in sample_configurations(spec.build(), 12, seed=3):
        pipe = make_pipeline(config, categorical, seed=1, iteration_fraction=0.2, n_rows=60)
        pipe.fit(X.iloc[:60], y[:60])
        assert np.isfinite(pipe.predict(X.iloc[60:])).all()


def test_target_transforms():
    X = np.arange(40, dtype=float)[:, None]
    y = np.expm1(X.ravel() / 10.0)  # log1p(y) = x / 10 exactly
    model = TargetTransformRegressor(Ridge(alpha=1e-8), "log1p").fit(X, y)
    assert model.transform_used_ == "log1p"
    # log1p(y) is linear in x, so the back-transformed linear fit recovers y
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-6, atol=1e-9)
    # standardised: the inner model saw mean 0, sd 1
    z = np.log1p(y)
    assert model.mean_ == pytest.approx(z.mean()) and model.scale_ == pytest.approx(z.std())
    negative = TargetTransformRegressor(Ridge(), "log1p").fit(X, y - 100.0)
    assert negative.transform_used_ == "none"
    quantile = TargetTransformRegressor(KNeighborsRegressor(1), "quantile").fit(X, y)
    np.testing.assert_allclose(quantile.predict(X), y, rtol=1e-6)
    with pytest.raises(SpaceError, match="target_transform must be one of"):
        TargetTransformRegressor(Ridge(), "sqrt").fit(X, y)


def test_affine_invariance_of_ridge_after_standardising():
    X, y, categorical = _data()
    config = get_search_space(SPACE).defaults()["ridge"]
    a = make_pipeline(config, categorical).fit(X, y).predict(X)
    b = make_pipeline(config, categorical).fit(X, 1000.0 * y - 5.0).predict(X)
    np.testing.assert_allclose(b, 1000.0 * a - 5.0, rtol=1e-9, atol=1e-6)


def test_space_task_check_is_one_line():
    check_space_task(SPACE, "regression")
    check_space_task("sklearn-cash", "classification")
    with pytest.raises(SpaceError, match="is for classification but dataset 'pollen' is a regression task; "
                                         r"use one of \['sklearn-cash-regression'\]"):
        check_space_task("sklearn-cash", "regression", dataset="pollen")
    with pytest.raises(SpaceError, match="is for regression but the dataset is a classification task"):
        check_space_task(SPACE, "classification")
    with pytest.raises(ConfigError, match="task must be one of"):
        check_space_task(SPACE, "ranking")


def test_bad_regression_configuration():
    _, _, categorical = _data()
    with pytest.raises(SpaceError, match="regressor must be one of"):
        make_pipeline({"regressor": "lasso"}, categorical)
    config = dict(get_search_space(SPACE).defaults()["ridge"])
    del config["ridge:alpha"]
    with pytest.raises(SpaceError, match="lacks hyperparameter 'ridge:alpha'"):
        make_pipeline(config, categorical)
