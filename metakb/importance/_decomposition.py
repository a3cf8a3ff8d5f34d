"""Exact functional-ANOVA decomposition of one regression tree over the unit cube.

A fitted regression tree is a piecewise-constant function: its leaves are axis-aligned boxes of
the cube ``[0, 1]^D``, each with a constant prediction. Under the uniform measure on the cube
(with the ``k`` code points of a categorical dimension weighted ``1/k`` each), the marginal of
any set of dimensions and its variance can be computed exactly from the boxes (Hutter, Hoos and
Leyton-Brown 2014, Algorithm 2). The reference implementation evaluates the tree once per cell
of the grid of split points; here every marginal is a difference array over that grid, so a
main effect costs ``O(leaves + cells)`` and a pair ``O(leaves + cells_a * cells_b)``.

References:
    Hutter, Hoos, Leyton-Brown. An Efficient Approach for Assessing Hyperparameter Importance.
    ICML 2014.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["TreeDecomposition", "decompose_tree", "random_split_points"]


@dataclass
class _Axis:
    """The cells of one dimension in one tree: representative points, weights, leaf ranges."""

    points: np.ndarray  # (n_cells,) a point inside each cell (unit cube)
    edges: np.ndarray | None  # (n_cells + 1,) cell boundaries of a continuous axis, else None
    weights: np.ndarray  # (n_cells,) measure of each cell; sums to 1
    start: np.ndarray  # (n_leaves,) first cell covered by each leaf
    stop: np.ndarray  # (n_leaves,) one past the last cell covered by each leaf
    measure: np.ndarray  # (n_leaves,) measure of each leaf's side along this axis

    def cell_of(self, x: np.ndarray) -> np.ndarray:
        """Index of the cell containing each unit-cube position ``x``."""
        if self.edges is None:  # categorical: nearest code point
            return np.abs(x[:, None] - self.points[None, :]).argmin(axis=1)
        # cells are (edge_i, edge_i+1], the tree sends x <= threshold to the left
        idx = np.searchsorted(self.edges, x, side="left") - 1
        return np.clip(idx, 0, len(self.weights) - 1)


class TreeDecomposition:
    """The leaves of one tree and the exact variance of its marginals.

    Args:
        lower, upper: ``(n_leaves, D)`` bounds of each leaf box.
        values: ``(n_leaves,)`` prediction of each leaf.
        thresholds: per dimension, the split thresholds the tree uses on it.
        n_choices: per dimension, the number of code points (0 for a continuous dimension).
    """

    def __init__(self, lower: np.ndarray, upper: np.ndarray, values: np.ndarray,
                 thresholds: Sequence[np.ndarray], n_choices: Sequence[int]) -> None:
        self.values = values
        self.axes = [_make_axis(lower[:, d], upper[:, d], thresholds[d], n_choices[d])
                     for d in range(lower.shape[1])]
        measures = np.column_stack([a.measure for a in self.axes]) if self.axes else np.ones((len(values), 0))
        positive = measures > 0
        self._log_measure = np.where(positive, np.log(np.where(positive, measures, 1.0)), 0.0)
        self._zeros = (~positive).astype(np.int64)
        self._log_total = self._log_measure.sum(axis=1)
        self._zeros_total = self._zeros.sum(axis=1)
        volume = self._volume_without(())
        self.mean = float(volume @ values)
        self.total_variance = float(volume @ (values - self.mean) ** 2)
        self._main: dict[int, np.ndarray] = {}

    def _volume_without(self, dims: Sequence[int]) -> np.ndarray:
        """Each leaf's measure over all dimensions except ``dims``."""
        log = self._log_total - self._log_measure[:, list(dims)].sum(axis=1)
        zeros = self._zeros_total - self._zeros[:, list(dims)].sum(axis=1)
        return np.where(zeros == 0, np.exp(log), 0.0)

    def main_marginal(self, d: int) -> np.ndarray:
        """The marginal prediction over the cells of dimension ``d`` (averaging out the rest)."""
        if d not in self._main:
            axis = self.axes[d]
            n = len(axis.weights)
            w = self._volume_without((d,)) * self.values
            diff = np.bincount(axis.start, w, minlength=n + 1) - np.bincount(axis.stop, w, minlength=n + 1)
            self._main[d] = np.cumsum(diff)[:n]
        return self._main[d]

    def main_variance(self, d: int) -> float:
        """Variance of the marginal of dimension ``d`` (V_d in the paper)."""
        a = self.main_marginal(d)
        return float(self.axes[d].weights @ (a - self.mean) ** 2)

    def pair_marginal(self, d: int, e: int) -> np.ndarray:
        """The joint marginal over the grid of cells of dimensions ``d`` and ``e``."""
        ad, ae = self.axes[d], self.axes[e]
        nd, ne = len(ad.weights), len(ae.weights)
        w = self._volume_without((d, e)) * self.values
        size = (nd + 1) * (ne + 1)
        # 2-D difference array: +w at (start_d, start_e) and (stop_d, stop_e), -w at the mixed corners
        diff = (np.bincount(ad.start * (ne + 1) + ae.start, w, minlength=size)
                - np.bincount(ad.stop * (ne + 1) + ae.start, w, minlength=size)
                - np.bincount(ad.start * (ne + 1) + ae.stop, w, minlength=size)
                + np.bincount(ad.stop * (ne + 1) + ae.stop, w, minlength=size))
        grid = diff.reshape(nd + 1, ne + 1).cumsum(axis=0).cumsum(axis=1)
        return grid[:nd, :ne]

    def pair_variance(self, d: int, e: int) -> float:
        """Total variance of the joint marginal of ``d`` and ``e`` (includes both main effects)."""
        a = self.pair_marginal(d, e) - self.mean
        return float(self.axes[d].weights @ (a * a) @ self.axes[e].weights)

    def marginal_at(self, d: int, x: np.ndarray) -> np.ndarray:
        """The main marginal of dimension ``d`` at unit-cube positions ``x``."""
        return self.main_marginal(d)[self.axes[d].cell_of(np.asarray(x, dtype=float))]


def _make_axis(lower: np.ndarray, upper: np.ndarray, thresholds: np.ndarray, n_choices: int) -> _Axis:
    if n_choices:
        points = (np.arange(n_choices) + 0.5) / n_choices
        # a leaf holds the code points c with lower < c <= upper
        start = np.searchsorted(points, lower, side="right")
        stop = np.searchsorted(points, upper, side="right")
        weights = np.full(n_choices, 1.0 / n_choices)
        return _Axis(points, None, weights, start, stop, (stop - start) / n_choices)
    edges = np.unique(np.concatenate([[0.0, 1.0], np.clip(thresholds, 0.0, 1.0)]))
    start = np.searchsorted(edges, lower, side="left")
    stop = np.searchsorted(edges, upper, side="left")
    weights = np.diff(edges)
    return _Axis(0.5 * (edges[1:] + edges[:-1]), edges, weights, start, stop, upper - lower)


def random_split_points(tree: object, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thresholds redrawn uniformly between the two data values each split separates.

    scikit-learn puts a split halfway between the largest value sent left and the smallest sent
    right; pyrfr (the reference fANOVA's forest) draws it uniformly between them. The split of
    the training data is the same; what changes is where the boundary lies in the empty gap,
    which matters for the variance of hyperparameters with few distinct values (integers).

    Args:
        tree: a fitted scikit-learn regression tree.
        x: the rows it was fitted on (its bootstrap sample).
        rng: the generator to draw from.

    Returns:
        The tree's thresholds (``node_count``,) with every internal node's redrawn.
    """
    t = tree.tree_  # type: ignore[attr-defined]
    threshold = np.array(t.threshold, dtype=float)
    internal = t.children_left != -1
    rows, nodes = tree.decision_path(x).nonzero()  # type: ignore[attr-defined]
    keep = internal[nodes]
    rows, nodes = rows[keep], nodes[keep]
    values = x[rows, t.feature[nodes]]
    goes_left = values <= threshold[nodes]
    below = np.full(t.node_count, -np.inf)
    above = np.full(t.node_count, np.inf)
    np.maximum.at(below, nodes[goes_left], values[goes_left])
    np.minimum.at(above, nodes[~goes_left], values[~goes_left])
    ok = internal & np.isfinite(below) & np.isfinite(above)
    threshold[ok] = below[ok] + rng.uniform(size=int(ok.sum())) * (above[ok] - below[ok])
    return threshold


def decompose_tree(tree: object, n_choices: Sequence[int],
                   thresholds: np.ndarray | None = None) -> TreeDecomposition:
    """The decomposition of a fitted scikit-learn regression tree over ``[0, 1]^D``.

    Args:
        tree: a fitted ``DecisionTreeRegressor`` or ``ExtraTreeRegressor`` (single output).
        n_choices: per input column, its number of code points (0 for continuous).
        thresholds: split points to use instead of the tree's own (see :func:`random_split_points`).
    """
    t = tree.tree_  # type: ignore[attr-defined]
    n_dims = len(n_choices)
    left, right, feature = t.children_left, t.children_right, t.feature
    threshold = np.clip(t.threshold if thresholds is None else thresholds, 0.0, 1.0)
    lower = np.zeros((t.node_count, n_dims))
    upper = np.ones((t.node_count, n_dims))
    frontier = np.array([0])
    while frontier.size:  # one vectorised step per depth level
        parents = frontier[left[frontier] != -1]
        if not parents.size:
            break
        f, thr = feature[parents], threshold[parents]
        for kids, bound in ((left[parents], upper), (right[parents], lower)):
            lower[kids], upper[kids] = lower[parents], upper[parents]
            bound[kids, f] = thr
        frontier = np.concatenate([left[parents], right[parents]])
    leaves = np.flatnonzero(left == -1)
    internal = np.flatnonzero(left != -1)
    per_dim = [threshold[internal][feature[internal] == d] for d in range(n_dims)]
    values = t.value[leaves, 0, 0].astype(float)
    return TreeDecomposition(lower[leaves], upper[leaves], values, per_dim, n_choices)
