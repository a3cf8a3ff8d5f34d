"""Protocols, metrics and in-process evaluation, checked against scikit-learn computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from threadpoolctl import threadpool_limits

from metakb.errors import ConfigError
from metakb.evaluation import (
    METRICS,
    Protocol,
    budget_rows,
    compute_scores,
    evaluate_configuration,
    higher_is_better,
    prepare_table,
    split_indices,
    subsample_rows,
)
from metakb.spaces import get_search_space, make_pipeline

DEFAULTS = get_search_space("sklearn-cash").defaults()


@pytest.fixture(autouse=True)
def _one_thread():
    """One BLAS/OpenMP thread, as in the evaluation workers (OpenMP spinning on a busy machine is slow)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def appendicitis(pmlb_dir):
    from metakb.data import load_pmlb

    return load_pmlb(pmlb_dir / "appendicitis")  # 106 rows, 2 classes


# ---------------------------------------------------------------------- protocol
@pytest.mark.parametrize("text", ["holdout:0.33", "holdout:0.2:max_rows=500", "cv:5", "cv:3:max_rows=1500"])
def test_protocol_key_round_trip(text):
    assert Protocol.parse(text).key() == text


def test_protocol_fields():
    protocol = Protocol.parse("cv:3:max_rows=100", metric="log_loss")
    assert (protocol.kind, protocol.param, protocol.max_rows, protocol.metric) == ("cv", 3.0, 100, "log_loss")
    assert protocol.higher_is_better is False
    assert Protocol().key() == "holdout:0.33"


@pytest.mark.parametrize("text", ["holdout", "kfold:5", "cv:5:rows=3", "holdout:0.3:max_rows=-1", ""])
def test_protocol_parse_refuses_bad_text(text):
    with pytest.raises(ConfigError, match="protocol must look like"):
        Protocol.parse(text)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "bootstrap"}, "kind"),
    ({"kind": "holdout", "param": 1.0}, "test fraction"),
    ({"kind": "holdout", "param": 0.0}, "test fraction"),
    ({"kind": "cv", "param": 1}, "folds"),
    ({"kind": "cv", "param": 2.5}, "folds"),
    ({"max_rows": -1}, "max_rows"),
    ({"metric": "f1_weird"}, "unknown metric"),
])
def test_protocol_validation(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Protocol(**kwargs)


def test_metric_directions():
    assert higher_is_better("balanced_accuracy") and higher_is_better("roc_auc")
    assert not higher_is_better("log_loss")
    assert set(METRICS) >= {"balanced_accuracy", "accuracy", "roc_auc", "log_loss"}
    with pytest.raises(ConfigError, match="'f1'"):
        higher_is_better("f1")


# ---------------------------------------------------------------------- metrics by hand
def test_compute_scores_binary_by_hand():
    y_true = np.array(["a", "a", "b", "b"])
    y_pred = np.array(["a", "b", "b", "b"])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    scores = compute_scores(y_true, y_pred, proba, ["a", "b"])
    assert scores["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert scores["accuracy"] == pytest.approx(0.75)
    expected_loss = -np.mean(np.log([0.9, 0.4, 0.8, 0.7]))
    assert scores["log_loss"] == pytest.approx(expected_loss)
    # positives (b) scored 0.8, 0.7; negatives 0.1, 0.6: every positive above every negative
    assert scores["roc_auc"] == pytest.approx(1.0)


def test_compute_scores_without_probabilities():
    scores = compute_scores(np.array([0, 1, 2]), np.array([0, 1, 1]), None, [0, 1, 2])
    assert set(scores) == {"balanced_accuracy", "accuracy"}
    assert scores["balanced_accuracy"] == pytest.approx(2 / 3)


def test_compute_scores_clips_zero_probabilities():
    scores = compute_scores(np.array([0, 1]), np.array([1, 1]), np.array([[0.0, 1.0], [0.0, 1.0]]), [0, 1])
    assert math.isfinite(scores["log_loss"]) and scores["log_loss"] > 10


# ---------------------------------------------------------------------- rows, splits, budgets
def test_subsample_rows_is_stratified_and_seeded():
    y = np.array(["a"] * 900 + ["b"] * 100)
    keep = subsample_rows(y, 200, seed=1)
    assert len(keep) == 200 and len(np.unique(keep)) == 200
    assert np.all(np.diff(keep) > 0)
    assert (y[keep] == "b").sum() == 20
    assert np.array_equal(keep, subsample_rows(y, 200, seed=1))
    assert not np.array_equal(keep, subsample_rows(y, 200, seed=2))
    assert np.array_equal(subsample_rows(y, 0, seed=1), np.arange(1000))
    assert np.array_equal(subsample_rows(y, 5000, seed=1), np.arange(1000))


def test_split_indices_match_scikit_learn():
    y = np.array([0, 1] * 30)
    (train, test), = split_indices(y, Protocol("holdout", 0.25), seed=4)
    ref_train, ref_test = next(StratifiedShuffleSplit(1, test_size=0.25, random_state=4).split(np.zeros(60), y))
    assert np.array_equal(train, ref_train) and np.array_equal(test, ref_test)
    folds = split_indices(y, Protocol("cv", 3), seed=4)
    reference = list(StratifiedKFold(3, shuffle=True, random_state=4).split(np.zeros(60), y))
    assert len(folds) == 3
    for (a, b), (c, d) in zip(folds, reference, strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d)


def test_split_falls_back_when_a_class_is_too_small():
    y = np.array([0] * 10 + [1])
    folds = split_indices(y, Protocol("cv", 3), seed=0)
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(11))


def test_budget_rows():
    y = np.array([0, 1] * 50)
    train = np.arange(0, 80)
    half = budget_rows(train, y, 0.5, seed=0)
    assert len(half) == 40 and set(half) <= set(train)
    assert (y[half] == 0).sum() == 20
    assert np.array_equal(budget_rows(train, y, 1.0, seed=0), train)
    assert len(budget_rows(train, y, 0.001, seed=0)) == 4  # at least two rows per class
    for bad in (0.0, -0.1, 1.01):
        with pytest.raises(ConfigError, match="budget"):
            budget_rows(train, y, bad, seed=0)


# ---------------------------------------------------------------------- evaluate in process
def test_holdout_evaluation_equals_a_hand_run_pipeline(appendicitis):
    table = appendicitis
    config = DEFAULTS["logistic_regression"]
    result = evaluate_configuration(table, config, protocol=Protocol("holdout", 0.33), seed=3)
    assert result.status == "ok" and result.error is None
    (train, test), = StratifiedShuffleSplit(1, test_size=0.33, random_state=3).split(np.zeros(table.n_rows), table.y)
    pipeline = make_pipeline(config, table.categorical, seed=3, n_rows=len(train))
    pipeline.fit(table.X.iloc[train], table.y[train])
    expected = balanced_accuracy_score(table.y[test], pipeline.predict(table.X.iloc[test]))
    assert result.value == pytest.approx(expected)
    assert result.scores["balanced_accuracy"] == result.value
    assert set(result.scores) == {"balanced_accuracy", "accuracy", "log_loss", "roc_auc"}
    assert result.fit_seconds > 0
    assert result.to_record()["status"] == "ok"


def test_cv_evaluation_averages_the_folds(appendicitis):
    table = appendicitis
    config = DEFAULTS["k_neighbors"]
    result = evaluate_configuration(table, config, protocol=Protocol("cv", 3), seed=1)
    folds = StratifiedKFold(3, shuffle=True, random_state=1).split(np.zeros(table.n_rows), table.y)
    expected = []
    for train, test in folds:
        pipeline = make_pipeline(config, table.categorical, seed=1, n_rows=len(train))
        pipeline.fit(table.X.iloc[train], table.y[train])
        expected.append(balanced_accuracy_score(table.y[test], pipeline.predict(table.X.iloc[test])))
    assert result.value == pytest.approx(np.mean(expected))


def test_evaluation_is_seeded(appendicitis):
    config = DEFAULTS["random_forest"]
    protocol = Protocol("holdout", 0.33)
    a = evaluate_configuration(appendicitis, config, protocol=protocol, seed=5, budget=0.5)
    b = evaluate_configuration(appendicitis, config, protocol=protocol, seed=5, budget=0.5)
    assert a.status == b.status == "ok"
    assert a.scores == b.scores


def test_iteration_budget_changes_the_model(appendicitis):
    config = DEFAULTS["random_forest"]
    protocol = Protocol("holdout", 0.33)
    full = evaluate_configuration(appendicitis, config, protocol=protocol, seed=0)
    small = evaluate_configuration(appendicitis, config, protocol=protocol, seed=0, budget=0.02,
                                   budget_mode="iterations")
    assert full.status == small.status == "ok"
    assert full.scores != small.scores  # 2 trees instead of 100


def test_model_failure_is_recorded_not_raised(appendicitis):
    broken = {k: v for k, v in DEFAULTS["svc"].items() if k != "svc:C"}
    result = evaluate_configuration(appendicitis, broken, protocol=Protocol(), seed=0)
    assert result.status == "crashed" and result.value is None
    assert "svc:C" in result.error


def test_prepare_table_caps_rows(appendicitis):
    capped = prepare_table(appendicitis, Protocol(max_rows=50), seed=0)
    assert capped.n_rows == 50 and capped.notes["subsampled_rows"] == 50
    assert prepare_table(appendicitis, Protocol(), seed=0) is appendicitis
