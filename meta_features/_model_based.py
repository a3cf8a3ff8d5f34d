"""Model-based meta-features: the shape of a decision tree fitted to the whole (sub)sample.

The tree is scikit-learn's CART (``DecisionTreeClassifier(random_state=seed)``, default
settings: Gini, grown until pure) on all attributes, categorical ones as their integer codes;
missing values go to scikit-learn's native missing-value support of the splitter.

References:
    Bensusan, Giraud-Carrier & Kennedy (2000), A higher-order approach to meta-learning;
    Peng et al. (2002), Improved dataset characterisation for meta-learning.
"""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from meta_features._context import Context
from meta_features._registry import register

__all__: list[str] = []

M = "model-based"


class _Tree:
    """Arrays describing a fitted tree: depth, leaf flags, split attributes, sizes, classes."""

    def __init__(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        model = DecisionTreeClassifier(random_state=seed).fit(X, y)
        t = model.tree_
        self.n_attr = X.shape[1]
        self.n_leaves = int(t.n_leaves)
        self.node_count = int(t.node_count)
        self.feature = t.feature
        self.samples = t.n_node_samples
        self.leaf = t.feature < 0
        self.leaf_class = np.argmax(t.value[self.leaf][:, 0, :], axis=1)
        self.importances = model.feature_importances_
        depth = np.zeros(self.node_count, dtype=np.intp)
        for node in range(self.node_count):  # nodes are numbered parents first
            for child in (t.children_left[node], t.children_right[node]):
                if child >= 0:
                    depth[child] = depth[node] + 1
        self.depth = depth


def _tree(ctx: Context) -> _Tree:
    return ctx.memo("tree", lambda: _Tree(ctx.data.X, ctx.data.y, ctx.seed))


def _leaf_prob(ctx: Context) -> np.ndarray:
    """Probability of reaching each leaf by random left/right choices: 2 ** -depth."""
    t = _tree(ctx)
    return np.power(2.0, -t.depth[t.leaf].astype(float))


@register("leaves", M, "Number of leaves of the tree.", cost="high")
def leaves(ctx: Context) -> float:
    return float(_tree(ctx).n_leaves)


@register("nodes", M, "Number of internal (split) nodes of the tree.", cost="high")
def nodes(ctx: Context) -> float:
    t = _tree(ctx)
    return float(t.node_count - t.n_leaves)


@register("nodes_per_attr", M, "Internal nodes divided by the number of attributes.", cost="high")
def nodes_per_attr(ctx: Context) -> float:
    return nodes(ctx) / _tree(ctx).n_attr


@register("nodes_per_inst", M, "Internal nodes divided by the number of instances.", cost="high")
def nodes_per_inst(ctx: Context) -> float:
    return nodes(ctx) / ctx.n


@register("tree_depth", M, "Depth of every node of the tree (root 0).", cost="high", multi=True)
def tree_depth(ctx: Context) -> np.ndarray:
    return _tree(ctx).depth.astype(float)


@register("leaves_branch", M, "Depth of every leaf (length of each branch).", cost="high", multi=True)
def leaves_branch(ctx: Context) -> np.ndarray:
    t = _tree(ctx)
    return t.depth[t.leaf].astype(float)


@register("leaves_corrob", M, "Fraction of the instances that reach each leaf.", cost="high",
          multi=True)
def leaves_corrob(ctx: Context) -> np.ndarray:
    t = _tree(ctx)
    return t.samples[t.leaf] / t.samples[0]


@register("tree_shape", M, "Per leaf: -p log2 p with p = 2^-depth (random-walk arrival).",
          cost="high", multi=True)
def tree_shape(ctx: Context) -> np.ndarray:
    p = _leaf_prob(ctx)
    return -p * np.log2(p)


@register("leaves_homo", M, "Per leaf: number of leaves divided by its tree_shape value.",
          cost="high", multi=True)
def leaves_homo(ctx: Context) -> np.ndarray:
    shape = tree_shape(ctx)
    with np.errstate(divide="ignore"):
        out = _tree(ctx).n_leaves / shape
    if np.isinf(out).any():  # a single-leaf tree: shape 0 at depth 0
        ctx.undefined("the tree is a single leaf")
        out = np.where(np.isinf(out), np.nan, out)
    return out


@register("leaves_per_class", M, "Per class predicted by some leaf: its fraction of the leaves.",
          cost="high", multi=True)
def leaves_per_class(ctx: Context) -> np.ndarray:
    t = _tree(ctx)
    counts = np.bincount(t.leaf_class)
    return counts[counts > 0] / t.n_leaves


@register("nodes_per_level", M, "Number of internal nodes at each depth.", cost="high", multi=True)
def nodes_per_level(ctx: Context) -> np.ndarray:
    t = _tree(ctx)
    counts = np.bincount(t.depth[~t.leaf])
    if counts.size == 0:
        ctx.undefined("the tree is a single leaf")
    return counts[counts > 0].astype(float)


@register("nodes_repeated", M, "Per attribute used in a split: the number of splits on it.",
          cost="high", multi=True)
def nodes_repeated(ctx: Context) -> np.ndarray:
    t = _tree(ctx)
    counts = np.bincount(t.feature[~t.leaf], minlength=1)
    if not (~t.leaf).any():
        ctx.undefined("the tree is a single leaf")
    return counts[counts > 0].astype(float)


@register("var_importance", M, "Gini importance of each attribute in the tree.", cost="high",
          multi=True)
def var_importance(ctx: Context) -> np.ndarray:
    return _tree(ctx).importances.astype(float)


@register("tree_imbalance", M, "Per distinct leaf depth: -q log2 q with q = 2^-(p * count), p = "
          "2^-depth (pymfe's definition).", cost="high", multi=True)
def tree_imbalance(ctx: Context) -> np.ndarray:
    values, counts = np.unique(_leaf_prob(ctx), return_counts=True)
    q = np.power(2.0, -(values * counts))
    return -q * np.log2(q)
