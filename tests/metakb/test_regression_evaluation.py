"""Regression metrics, their directions, the regression protocol, and evaluation end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, ShuffleSplit

from metakb.data import table_from_frame
from metakb.data._task import as_task_table
from metakb.errors import ConfigError
from metakb.evaluation import (
    Protocol,
    budget_rows,
    compute_scores,
    evaluate_configuration,
    higher_is_better,
    split_indices,
    subsample_rows,
)
from metakb.evaluation.metrics import DEFAULT_METRIC, TASK_METRICS, metric_task, regression_scores
from metakb.spaces import get_search_space


def test_metric_directions():
    assert higher_is_better("r2") is True
    assert higher_is_better("rmse") is False
    assert higher_is_better("mae") is False
    assert DEFAULT_METRIC == {"classification": "balanced_accuracy", "regression": "r2"}
    assert metric_task("r2") == "regression" and metric_task("balanced_accuracy") == "classification"
    assert metric_task("runtime") is None
    assert set(TASK_METRICS["regression"]) == {"r2", "rmse", "mae"}


def test_regression_scores_hand_computed():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 2.0, 4.0, 2.0])     # errors 0, 0, 1, -2
    scores = regression_scores(y, pred)
    assert scores["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert scores["mae"] == pytest.approx(3 / 4)
    assert scores["r2"] == pytest.approx(1 - 5 / 5)  # SS_res = 5, SS_tot = 5
    # a better prediction has higher R^2 and lower RMSE/MAE: the directions agree
    better = regression_scores(y, np.array([1.0, 2.0, 3.5, 3.5]))
    assert better["r2"] > scores["r2"] and better["rmse"] < scores["rmse"] and better["mae"] < scores["mae"]
    assert regression_scores(y, y)["r2"] == 1.0
    assert regression_scores(y, np.full(4, y.mean()))["r2"] == 0.0
    assert np.isnan(regression_scores(np.ones(3), np.zeros(3))["r2"])
    # compute_scores dispatches on the float target
    assert compute_scores(y, pred, None, []) == scores
    assert "balanced_accuracy" in compute_scores(np.array(["a", "b"]), np.array(["a", "a"]), None, ["a", "b"])


def test_protocol_for_task():
    protocol = Protocol.for_task("cv:3:max_rows=1500", "regression")
    assert protocol.metric == "r2" and protocol.task == "regression" and protocol.higher_is_better
    assert protocol.key() == "cv:3:max_rows=1500"
    assert Protocol.for_task("holdout:0.33", "classification").metric == "balanced_accuracy"
    with pytest.raises(ConfigError, match="task must be one of"):
        Protocol.for_task("cv:3", "ranking")


def test_regression_folds_are_plain_shuffled_kfold():
    y = np.repeat([1.0, 2.0, 3.0], 20)   # few distinct values: a classifier's split would stratify
    protocol = Protocol.for_task("cv:3", "regression")
    got = split_indices(y, protocol, seed=7)
    expected = list(KFold(3, shuffle=True, random_state=7).split(np.zeros(60)))
    assert len(got) == 3
    for (a, b), (c, d) in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    holdout = split_indices(y, Protocol.for_task("holdout:0.25", "regression"), seed=1)
    ref = next(ShuffleSplit(1, test_size=0.25, random_state=1).split(np.zeros(60)))
    np.testing.assert_array_equal(holdout[0][1], ref[1])


def test_regression_subsample_is_random_not_stratified():
    y = np.concatenate([np.zeros(90), np.ones(10)]).astype(float)
    keep = subsample_rows(y, 10, seed=0)
    ref = np.sort(next(ShuffleSplit(1, train_size=10, random_state=0).split(np.zeros(100)))[0])
    np.testing.assert_array_equal(keep, ref)
    # budget rows: a share of the rows (no per-class floor, which would keep all of them)
    y = np.arange(100, dtype=float)
    assert len(budget_rows(np.arange(100), y, 0.1, seed=0)) == 10


def test_metric_of_the_other_task_is_refused():
    with pytest.raises(ConfigError, match="'r2' is a regression metric but the target is class labels"):
        split_indices(np.array(["a", "b"] * 5), Protocol.for_task("cv:2", "regression"), seed=0)
    with pytest.raises(ConfigError, match="'balanced_accuracy' is a classification metric but the target "
                                          "is continuous"):
        split_indices(np.arange(10, dtype=float), Protocol.parse("cv:2"), seed=0)


def _table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["target"] = 2.0 * frame["a"] - frame["b"] + 0.5 * rng.normal(size=n) + 5.0
    return as_task_table(table_from_frame(frame, "target", name="toy"))


def test_evaluate_regression_configuration_end_to_end():
    table = _table()
    protocol = Protocol.for_task("cv:3:max_rows=200", "regression")
    config = get_search_space("sklearn-cash-regression").defaults()["ridge"]
    result = evaluate_configuration(table, config, protocol=protocol, seed=3)
    assert result.status == "ok", result.error
    assert set(result.scores) == {"r2", "rmse", "mae"}
    assert result.value == result.scores["r2"]
    # the same numbers by hand: random 200-row subsample, shuffled 3-fold, standard-scaled ridge
    keep = np.sort(next(ShuffleSplit(1, train_size=200, random_state=3).split(np.zeros(300)))[0])
    X, y = table.X.to_numpy()[keep], table.y[keep]
    r2 = []
    for train, test in KFold(3, shuffle=True, random_state=3).split(X):
        mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
        ym, ys = y[train].mean(), y[train].std()
        model = Ridge(alpha=1.0).fit((X[train] - mean) / sd, (y[train] - ym) / ys)
        pred = model.predict((X[test] - mean) / sd) * ys + ym
        r2.append(1 - np.sum((y[test] - pred) ** 2) / np.sum((y[test] - y[test].mean()) ** 2))
    assert result.value == pytest.approx(float(np.mean(r2)), rel=1e-9)
    assert result.value > 0.9


def test_evaluate_regression_with_iteration_budget():
    table = _table(120)
    protocol = Protocol.for_task("holdout:0.33", "regression")
    config = get_search_space("sklearn-cash-regression").defaults()["hist_gradient_boosting"]
    low = evaluate_configuration(table, config, protocol=protocol, budget=0.1, budget_mode="iterations")
    rows = evaluate_configuration(table, config, protocol=protocol, budget=0.5)
    assert low.status == "ok" and rows.status == "ok"
    assert np.isfinite(low.scores["rmse"]) and np.isfinite(rows.scores["rmse"])


def test_overflowing_predictions_are_a_crashed_evaluation_that_can_be_stored():
    """A target near 1e155 makes squared errors overflow: the evaluation is recorded, not fatal."""
    import json

    from metakb.store import KnowledgeBase

    table = _table(120)
    table = type(table)(**{**table.__dict__, "y": table.y * 1e155})
    protocol = Protocol.for_task("holdout:0.33", "regression")
    config = get_search_space("sklearn-cash-regression").defaults()["ridge"]
    result = evaluate_configuration(table, config, protocol=protocol)
    assert result.status == "crashed"
    assert "r2 could not be computed" in result.error
    assert all(np.isfinite(v) for v in result.scores.values())
    json.dumps(result.to_record(), allow_nan=False)
    with KnowledgeBase(":memory:") as kb:
        space_id = kb.add_space("s", "1", "{}", origin="test")
        (cid,) = kb.add_configurations(space_id, [config], origin="test")
        did = kb.add_dataset("big", "h", source="test", origin="test", task_type="regression")
        kb.add_evaluations([{"dataset_id": did, "configuration_id": cid, "budget": 1.0, "protocol": protocol.key(),
                             "seed": 0, "metric": "r2", "higher_is_better": True, "origin": "test",
                             **result.to_record()}])
        assert kb.evaluations()["status"].tolist() == ["crashed"]
