"""AutoMLRegressor (#22): fit/predict round trip, model files, bad targets, zero-shot, self-exclusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.automl import AutoMLClassifier, AutoMLRegressor, load_model, save_model
from metakb.errors import ConfigError, DataError, SpaceError

SPACE = "sklearn-cash-regression"


def _data(n: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "colour": rng.choice(["red", "blue"], n).astype(object)})
    y = 3.0 * X["a"].to_numpy() + 2.0 * (X["colour"] == "red") + 0.1 * rng.normal(size=n)
    return X, y


def test_fit_predict_round_trip_and_model_file(kb, tmp_path: Path) -> None:
    X, y = _data()
    est = AutoMLRegressor(time_budget=None, n_evaluations=4, warm_start="none", kb=kb,
                          ensemble_size=3)
    assert est.fit(X, y) is est
    assert est.protocol_ == "cv:5" and est.warm_start_ == "none"
    predicted = est.predict(X)
    assert predicted.dtype == np.float64 and predicted.shape == (80,)
    assert est.score(X, y) > 0.5  # R², on the training rows of a nearly linear problem
    stored = kb.evaluations(run_id=est.run_id_)
    assert len(stored) == len(est.leaderboard_) == 4
    assert set(stored["metric"]) == {"r2"}  # the search scored R², not balanced accuracy
    assert list(est.leaderboard_.columns) == ["configuration", "regressor", "score", "budget",
                                              "fit_seconds", "status"]
    assert set(est.cv_results_) >= {"params", "mean_test_score", "rank_test_score", "mean_fit_time"}
    assert est.best_config_ == est.leaderboard_["configuration"].iloc[0]
    assert "regressor" in est.best_config_ and isinstance(est.best_score_, float)
    assert abs(sum(w for w, _ in est.ensemble_) - 1.0) < 1e-9
    assert est.training_hash_ and est.feature_names_in_.tolist() == ["a", "b", "colour"]
    assert not hasattr(est, "classes_")
    # the model file records its task; the reloaded model predicts exactly the same numbers
    model = load_model(save_model(est, tmp_path / "reg.skops"))
    assert model.task == "regression" and model.metadata["task"] == "regression"
    assert model.metadata["training_hash"] == est.training_hash_ and model.classes_ is None
    np.testing.assert_array_equal(model.predict(X), predicted)
    with pytest.raises(ConfigError, match="no class probabilities"):
        model.predict_proba(X)


@pytest.mark.parametrize(("y", "match"), [
    (np.full(30, 4.2), "is constant"),
    (np.full(30, np.nan), "no values"),
    (np.r_[np.arange(29.0), np.inf], "infinite values"),
    (np.r_[np.arange(29.0), -np.inf], "infinite values"),
    (np.r_[np.arange(29.0), np.nan], "missing values"),
    (np.array(["yes", "no"] * 15, dtype=object), "non-numeric values such as 'yes'"),
    (np.array(["low", "high"] * 15), "non-numeric values such as 'low'")])
def test_an_unusable_target_is_one_line_data_error(y: np.ndarray, match: str) -> None:
    X, _ = _data(30)
    with pytest.raises(DataError, match=match) as info:
        AutoMLRegressor(kb=":memory:").fit(X, y)
    assert "\n" not in str(info.value)


def test_the_classifier_still_refuses_a_continuous_target() -> None:
    X, y = _data(30)
    with pytest.raises(DataError, match="continuous"):
        AutoMLClassifier(kb=":memory:").fit(X, y)


@pytest.mark.parametrize(("param", "value", "error", "match"), [
    ("space", "sklearn-cash", SpaceError, "sklearn-cash"),
    ("time_budget", 0, ConfigError, "AutoMLRegressor must be"),
    ("ensemble_size", 0, ConfigError, "ensemble_size")])
def test_bad_parameters_are_one_line_errors(param: str, value: object, error: type, match: str) -> None:
    X, y = _data(30)
    with pytest.raises(error, match=match):
        AutoMLRegressor(kb=":memory:", **{param: value}).fit(X, y)


# ---------------------------------------------------------------------- with a tiny regression KB
@pytest.fixture(scope="module")
def regression_kb(pmlb_dir: Path, tmp_path_factory):
    """Two small PMLB regressions evaluated on 4 configurations of the regression space."""
    from metakb.store import KnowledgeBase
    from metakb.workflows.build import build_from_pmlb

    path = tmp_path_factory.mktemp("regkb") / "kb.sqlite"
    with KnowledgeBase(path) as store:
        build_from_pmlb(store, pmlb_dir, space=SPACE, n_configs=4,
                        datasets=["1096_FacultySalaries", "192_vineyard"], progress=False)
        yield store


def test_zero_shot_and_self_exclusion(regression_kb, pmlb_dir: Path) -> None:
    from metakb.data import load_pmlb_task
    from metakb.workflows.optimize import _excluded
    from metakb.workflows.recommend import recommend

    table = load_pmlb_task(pmlb_dir / "192_vineyard")
    assert table.y.dtype == np.float64
    known = regression_kb.find_dataset(table.content_hash())
    assert known is not None and known["name"] == "192_vineyard"  # the training data is in the KB
    assert _excluded(regression_kb, table.content_hash(), []) == ["192_vineyard"]
    report = recommend(table, regression_kb, k=1, space=SPACE)
    assert {s["dataset"] for r in report.recommendations for s in r.sources} == {"1096_FacultySalaries"}
    # zero-shot: no search, the top-1 recommendation of the other dataset refitted
    est = AutoMLRegressor(n_evaluations=0, time_budget=None, kb=regression_kb).fit_table(table)
    assert est.run_id_ is None and est.best_config_ == report.recommendations[0].config
    assert est.leaderboard_["status"].tolist() == ["recommended"]
    assert est.ensemble_ == [(1.0, est.best_config_)]
    assert est.training_hash_ == table.content_hash()
    predicted = est.predict(table.X)
    assert predicted.dtype == np.float64 and np.all(np.isfinite(predicted))
    # the automatic warm start learns from other datasets only: with the other one excluded
    # nothing is left (the data itself is excluded by content), so the search starts cold
    est._check_params()
    est.training_hash_ = table.content_hash()
    assert est.set_params(warm_start="auto")._warm_start_used(regression_kb) == "knn"
    est.set_params(exclude_datasets=["1096_FacultySalaries"])
    assert est._warm_start_used(regression_kb) == "none"


def test_a_classification_only_kb_starts_a_regression_cold(kb) -> None:
    """``auto`` falls back to no warm start where the store holds no regression scores."""
    est = AutoMLRegressor(kb=kb)
    est.training_hash_ = "0" * 64
    assert est._warm_start_used(kb) == "none"
    assert est.set_params(warm_start=False)._warm_start_used(kb) == "none"
    assert est.set_params(warm_start="knn")._warm_start_used(kb) == "knn"


@pytest.mark.parametrize("estimator", [AutoMLRegressor(), AutoMLClassifier()])
def test_predicting_before_fit_is_a_not_fitted_error(estimator) -> None:
    from sklearn.exceptions import NotFittedError

    X, _ = _data(5)
    methods = ["predict", "score"] + (["predict_proba"] if hasattr(estimator, "predict_proba") else [])
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(X, *([np.zeros(5)] if method == "score" else []))
