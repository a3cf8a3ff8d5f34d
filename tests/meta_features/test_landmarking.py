"""The vectorised landmark learners against scikit-learn's own (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from meta_features._learners import nearest_1d as _nearest_1d
from meta_features._learners import one_nn as _one_nn
from meta_features._stump import stump as _stump


@pytest.mark.parametrize("case", range(20))
def test_stump_predicts_as_a_scikit_learn_stump(case):
    rng = np.random.default_rng(case)
    n, d, c = int(rng.integers(5, 60)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
    X = rng.integers(0, 5, size=(n, d)).astype(float) if case % 2 else rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    X_te = rng.normal(size=(25, d)) * 3
    ours = _stump(X, y, X_te)
    # scikit-learn breaks ties between attributes by a random order: one of its orders agrees
    assert any((DecisionTreeClassifier(max_depth=1, random_state=s).fit(X, y).predict(X_te) == ours).all()
               for s in range(10))


def test_stump_on_constant_data_is_a_leaf():
    X = np.ones((6, 2))
    assert (_stump(X, np.array([0, 1, 1, 1, 0, 1]), X) == 1).all()


def test_one_nn_matches_scikit_learn_without_ties():
    rng = np.random.default_rng(0)
    X, X_te = rng.normal(size=(80, 3)), rng.normal(size=(30, 3))
    y = rng.integers(0, 3, size=80)
    ref = KNeighborsClassifier(n_neighbors=1).fit(X, y).predict(X_te)
    assert (_one_nn(X, y, X_te) == ref).all()


def test_nearest_1d_takes_the_lowest_index_on_ties():
    x_tr = np.array([2.0, 0.0, 2.0, 4.0])
    assert list(_nearest_1d(x_tr, np.array([1.0, 2.0, 3.0, 5.0]))) == [0, 0, 0, 3]


@pytest.mark.parametrize("shape", [(80, 5), (40, 100)])
def test_lda_matches_scikit_learn_narrow_and_wide(shape):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from meta_features._learners import lda as _lda

    rng = np.random.default_rng(2)
    X, X_te = rng.normal(size=shape), rng.normal(size=(30, shape[1]))
    y = rng.integers(0, 3, size=shape[0])
    assert (_lda(X, y, X_te) == LinearDiscriminantAnalysis().fit(X, y).predict(X_te)).all()


def test_sorted_once_stump_equals_a_stump_per_fold():
    from meta_features._stump import stump_sorted as _stump_sorted

    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, size=(50, 3)).astype(float)
    y = rng.integers(0, 3, size=50)
    order = np.argsort(X.T, axis=1).T
    train = rng.random(50) < 0.8
    keep = train[order.T]
    train_order = order.T[keep].reshape(3, -1).T
    X_te = rng.normal(size=(20, 3)) * 2
    assert (_stump_sorted(X, y, train_order, X_te) == _stump(X[train], y[train], X_te)).all()


# ---------------------------------------------------------------------- fast paths
def _tied_data(seed: int, n: int = 120, d: int = 4, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Few distinct values per column (many ties), one column with values 1e-8 apart."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, size=(n, d)).astype(float)
    X[:, -1] = rng.integers(0, 3, size=n) * 1e-8 + rng.integers(0, 2, size=n)
    return X, rng.integers(0, c, size=n)


@pytest.mark.parametrize("seed", range(8))
def test_stump_table_equals_the_sorted_walk_on_every_fold(seed):
    from sklearn.model_selection import StratifiedKFold

    from meta_features._stump import StumpTable, stump_sorted

    X, y = _tied_data(seed)
    table = StumpTable(X, y, 4)
    for train, test in StratifiedKFold(5).split(X, y):
        order = np.argsort(X[train].T, axis=1).T
        expected = stump_sorted(X[train], y[train], order, X[test])
        assert (table.predict(X[test], exclude=test) == expected).all()


@pytest.mark.parametrize("seed", range(6))
def test_stump_table_matches_scikit_learn(seed):
    from meta_features._stump import StumpTable

    X, y = _tied_data(seed, n=60, d=2, c=3)
    X_te = np.random.default_rng(seed + 100).normal(size=(30, 2)) * 2
    ours = StumpTable(X, y, 3).predict(X_te)
    assert any((DecisionTreeClassifier(max_depth=1, random_state=s).fit(X, y).predict(X_te) == ours).all()
               for s in range(10))


def test_stump_table_with_a_class_missing_from_the_training_rows():
    from meta_features._stump import StumpTable

    X = np.array([[0.0], [0.0], [1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1, 2])
    table = StumpTable(X, y, 3)
    assert list(table.predict(X, exclude=np.array([4]))) == [0, 0, 1, 1, 1]
    assert list(table.predict(X, exclude=np.arange(1, 5))) == [0] * 5  # one row: a leaf


@pytest.mark.parametrize("ratio", [0.0, 1e9])
def test_fold_predictions_take_the_same_cut_on_both_paths(ratio, monkeypatch):
    from sklearn.model_selection import StratifiedKFold

    import meta_features._stump as stump_module

    rng = np.random.default_rng(7)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 3, size=200)])
    y = rng.integers(0, 3, size=200)
    splits = list(StratifiedKFold(10).split(X, y))
    reference = [stump_module.stump_sorted(X[tr], y[tr], np.argsort(X[tr].T, axis=1).T, X[te])
                 for tr, te in splits]
    monkeypatch.setattr(stump_module, "TABLE_RATIO", ratio)
    monkeypatch.setattr(stump_module, "TABLE_RATIO_BINARY", ratio)
    got = stump_module.fold_predictions(X, y, 3, splits)
    assert all((a == b).all() for a, b in zip(got, reference, strict=True))


def test_class_sums_equal_add_at_to_the_last_bit():
    from meta_features._learners import class_sums

    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 7)) * 10.0 ** rng.integers(-8, 8, size=(500, 7))
    codes = rng.integers(0, 5, size=500)
    expected = np.zeros((6, 7))
    np.add.at(expected, codes, X)
    assert np.array_equal(class_sums(X, codes, 6), expected)  # class 5 has no row: zeros


def _nearest_by_definition(X_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distances (small integers), the lowest index among the nearest."""
    dist = ((X_te[:, None, :] - X_tr[None, :, :]) ** 2).sum(2)
    return np.array([np.flatnonzero(row == row.min())[0] for row in dist])


@pytest.mark.parametrize("cells", [1, 7, 1 << 19])
def test_nearest_rows_takes_the_first_of_equidistant_rows_in_any_block_size(cells, monkeypatch):
    import meta_features._learners as learners

    rng = np.random.default_rng(5)
    X_tr = rng.integers(-2, 3, size=(150, 3)).astype(float)  # many exact ties and duplicates
    X_te = rng.integers(-2, 3, size=(60, 3)).astype(float)
    monkeypatch.setattr(learners, "BLOCK_CELLS", cells)
    assert (learners.nearest_rows(X_tr, X_te) == _nearest_by_definition(X_tr, X_te)).all()


def test_naive_bayes_matches_scikit_learn_with_many_classes():
    from sklearn.naive_bayes import GaussianNB

    from meta_features._learners import ClassStats, naive_bayes

    rng = np.random.default_rng(6)
    y = rng.integers(0, 12, size=300)
    X = rng.normal(size=(300, 5)) + y[:, None] * 0.3
    X_te = rng.normal(size=(80, 5)) * 2
    ref = GaussianNB().fit(X, y).predict(X_te)
    assert (naive_bayes(X, y, X_te) == ref).all()
    assert (naive_bayes(X, y, X_te, ClassStats(X, y)) == ref).all()
