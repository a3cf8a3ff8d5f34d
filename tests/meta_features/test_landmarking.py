"""The vectorised landmark learners against scikit-learn's own (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from meta_features._landmarking import _nearest_1d, _one_nn, _stump


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

    from meta_features._landmarking import _lda

    rng = np.random.default_rng(2)
    X, X_te = rng.normal(size=shape), rng.normal(size=(30, shape[1]))
    y = rng.integers(0, 3, size=shape[0])
    assert (_lda(X, y, X_te) == LinearDiscriminantAnalysis().fit(X, y).predict(X_te)).all()


def test_sorted_once_stump_equals_a_stump_per_fold():
    from meta_features._landmarking import _stump_sorted

    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, size=(50, 3)).astype(float)
    y = rng.integers(0, 3, size=50)
    order = np.argsort(X.T, axis=1).T
    train = rng.random(50) < 0.8
    keep = train[order.T]
    train_order = order.T[keep].reshape(3, -1).T
    X_te = rng.normal(size=(20, 3)) * 2
    assert (_stump_sorted(X, y, train_order, X_te) == _stump(X[train], y[train], X_te)).all()
