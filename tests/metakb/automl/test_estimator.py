"""AutoMLClassifier: fit/predict round trip, stored evaluations, parameters, self-exclusion."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.automl import AutoMLClassifier
from metakb.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[3]


def _data(n: int = 90) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "colour": rng.choice(["red", "blue"], n).astype(object)})
    y = np.where(X["a"] + 0.3 * rng.normal(size=n) > 0, 7, 3)
    return X, y


def test_fit_predict_round_trip_stores_every_evaluation(kb) -> None:
    X, y = _data()
    est = AutoMLClassifier(time_budget=None, n_evaluations=4, warm_start="none", kb=kb,
                           ensemble_size=3)
    assert est.fit(X, y) is est
    assert est.protocol_ == "cv:5"  # 90 rows: cross-validation, not a holdout
    assert est.classes_.tolist() == [3, 7]
    predicted = est.predict(X)
    assert predicted.dtype == y.dtype and set(predicted) <= {3, 7}
    proba = est.predict_proba(X)
    assert proba.shape == (90, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert est.score(X, y) > 0.8  # a nearly linear problem, scored on its training rows
    stored = kb.evaluations(run_id=est.run_id_)
    assert len(stored) == len(est.leaderboard_) == 4
    assert list(est.leaderboard_.columns) == ["configuration", "classifier", "score", "budget",
                                              "fit_seconds", "status"]
    assert set(est.cv_results_) >= {"params", "mean_test_score", "rank_test_score", "mean_fit_time"}
    assert est.best_config_ == est.leaderboard_["configuration"].iloc[0]
    assert abs(sum(w for w, _ in est.ensemble_) - 1.0) < 1e-9
    assert est.training_hash_ and est.feature_names_in_.tolist() == ["a", "b", "colour"]


@pytest.mark.parametrize(("param", "value", "match"), [
    ("time_budget", 0, "time_budget"), ("time_budget", "abc", "time_budget"),
    ("n_evaluations", -1, "n_evaluations"), ("warm_start", "magic", "warm_start"),
    ("ensemble_size", 0, "ensemble_size"), ("n_jobs", 0, "n_jobs"),
    ("exclude_datasets", "iris", "exclude_datasets"), ("protocol", "cv:1", "folds")])
def test_bad_parameters_are_one_line_errors(param: str, value: object, match: str) -> None:
    X, y = _data(30)
    with pytest.raises(ConfigError, match=match):
        AutoMLClassifier(kb=":memory:", **{param: value}).fit(X, y)


def test_a_one_class_target_is_refused() -> None:
    X, _ = _data(30)
    with pytest.raises(DataError, match="single class"):
        AutoMLClassifier(kb=":memory:").fit(X, np.ones(30))


@pytest.fixture()
def shipped_kb(tmp_path: Path):
    from metakb.store import KnowledgeBase

    path = tmp_path / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", path)
    with KnowledgeBase(path) as store:
        yield store


def test_the_training_data_never_warm_starts_from_itself(shipped_kb, pmlb_dir: Path) -> None:
    from metakb.data._tables import load_pmlb
    from metakb.workflows.optimize import _excluded
    from metakb.workflows.recommend import recommend

    table = load_pmlb(pmlb_dir / "iris")
    assert shipped_kb.find_dataset(table.content_hash()) is not None  # iris is in the shipped KB
    assert _excluded(shipped_kb, table.content_hash(), ["wine_recognition"]) == ["iris", "wine_recognition"]
    report = recommend(table, shipped_kb, k=5, exclude_datasets=["wine_recognition"])
    sources = {s["dataset"] for r in report.recommendations for s in r.sources}
    assert sources and not sources & {"iris", "wine_recognition"}
    # zero-shot fit: the top-1 recommendation of the other datasets, refitted
    est = AutoMLClassifier(n_evaluations=0, time_budget=None, kb=shipped_kb,
                           exclude_datasets=["wine_recognition"]).fit_table(table)
    assert est.best_config_ == report.recommendations[0].config
    assert est.score(table.X, table.y) > 0.8
