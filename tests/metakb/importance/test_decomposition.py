"""The exact decomposition of one tree against brute force over a fine grid of the cube."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from metakb.importance._decomposition import decompose_tree


@pytest.fixture(scope="module")
def tree_and_grid():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 3))
    x[:, 2] = (rng.integers(0, 4, 300) + 0.5) / 4  # a categorical dimension with 4 codes
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 3 * x[:, 0] * x[:, 1] + (x[:, 2] > 0.5) * x[:, 0]
    tree = DecisionTreeRegressor(min_samples_leaf=3, random_state=0).fit(x, y)
    # Brute force: the tree's predictions on the centres of a 512 x 512 grid times the 4 codes.
    # A cell of the grid straddles a split only along its boundary, so the error is O(1/512).
    g = (np.arange(512) + 0.5) / 512
    codes = (np.arange(4) + 0.5) / 4
    a, b, c = np.meshgrid(g, g, codes, indexing="ij")
    pred = tree.predict(np.column_stack([a.ravel(), b.ravel(), c.ravel()])).reshape(a.shape)
    return decompose_tree(tree, [0, 0, 4]), pred


def test_mean_and_total_variance_match_brute_force(tree_and_grid):
    dec, pred = tree_and_grid
    assert dec.mean == pytest.approx(pred.mean(), abs=2e-3)
    assert dec.total_variance == pytest.approx(pred.var(), rel=5e-3)


@pytest.mark.parametrize("d", [0, 1, 2])
def test_main_effect_variances_match_brute_force(tree_and_grid, d):
    dec, pred = tree_and_grid
    marginal = pred.mean(axis=tuple(i for i in range(3) if i != d))
    assert dec.main_variance(d) == pytest.approx(marginal.var(), rel=1e-2, abs=1e-4)


@pytest.mark.parametrize(("d", "e"), [(0, 1), (0, 2), (1, 2)])
def test_pair_variances_match_brute_force(tree_and_grid, d, e):
    dec, pred = tree_and_grid
    other = ({0, 1, 2} - {d, e}).pop()
    assert dec.pair_variance(d, e) == pytest.approx(pred.mean(axis=other).var(), rel=1e-2, abs=1e-4)


def test_hand_built_step_function():
    # y = 1 where a > 0.5, else 0: a stump. Mean 0.5, variance 0.25, all of it a's.
    x = np.array([[0.1, 0.2], [0.3, 0.9], [0.7, 0.1], [0.9, 0.8]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    dec = decompose_tree(DecisionTreeRegressor(max_depth=1).fit(x, y), [0, 0])
    assert dec.mean == pytest.approx(0.5)
    assert dec.total_variance == pytest.approx(0.25)
    assert dec.main_variance(0) == pytest.approx(0.25)
    assert dec.main_variance(1) == pytest.approx(0.0)
    np.testing.assert_allclose(dec.marginal_at(0, np.array([0.2, 0.8])), [0.0, 1.0])


def test_random_split_points_stay_in_the_gap_between_data_values():
    from metakb.importance._decomposition import random_split_points

    rng = np.random.default_rng(0)
    x = np.repeat([0.0, 0.25, 0.5, 0.75, 1.0], 10)[:, None]
    y = (x[:, 0] > 0.3).astype(float) + (x[:, 0] > 0.8)
    tree = DecisionTreeRegressor(random_state=0).fit(x, y)
    internal = tree.tree_.children_left != -1
    assert set(np.round(tree.tree_.threshold[internal], 3)) == {0.375, 0.875}  # scikit-learn's midpoints
    draws = np.array([random_split_points(tree, x, rng)[internal] for _ in range(200)])
    low = draws[:, tree.tree_.threshold[internal] < 0.5]
    assert ((low > 0.25) & (low < 0.5)).all() and low.std() > 0.05  # uniform over the gap
    # the decomposition follows the split point: a step at s has variance s (1 - s)
    stump = DecisionTreeRegressor(max_depth=1).fit(x, (x[:, 0] > 0.3).astype(float))
    thresholds = stump.tree_.threshold.copy()
    thresholds[0] = 0.3
    dec = decompose_tree(stump, [0], thresholds)
    assert dec.total_variance == pytest.approx(0.3 * 0.7)
    assert decompose_tree(stump, [0]).total_variance == pytest.approx(0.375 * 0.625)
