"""Landmarkers: cross-validated accuracy of simple, fast learners.

Every landmarker is scored by stratified k-fold cross-validation (k = 10, or fewer when the
largest class has fewer than 10 instances; folds in data order, not shuffled, as pymfe's) and
returns one accuracy per fold (summarised: ``one_nn.mean``, ...). Missing values are replaced
by the training-fold-independent column mean (numeric) or most frequent code (categorical) of
the (sub)sample; categorical attributes enter as their integer codes.

References:
    Pfahringer, Bensusan & Giraud-Carrier (2000), Meta-learning by landmarking various
    learning algorithms, ICML; Bensusan & Giraud-Carrier (2000), Discovering task
    neighbourhoods through landmark learning performances.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from meta_features._context import Context
from meta_features._registry import register

__all__: list[str] = []

L = "landmarking"


class _Folds:
    """The imputed data, its folds, and the attribute importance ranking."""

    def __init__(self, ctx: Context) -> None:
        self.X = _impute(ctx)
        self.y = ctx.data.y
        self.ctx = ctx
        k = int(min(10, ctx.class_counts.max()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class smaller than k: stratified as well as can be
            self.splits = [] if k < 2 else list(StratifiedKFold(n_splits=k).split(self.X, self.y))

    @cached_property
    def order(self) -> np.ndarray:
        """Row indices sorting each column of X (one sort for every fold)."""
        return np.argsort(self.X.T, axis=1).T

    def train_order(self, fold: int) -> np.ndarray:
        """:attr:`order` restricted to the training rows of ``fold`` (still sorted)."""
        train = np.zeros(self.X.shape[0], dtype=bool)
        train[self.splits[fold][0]] = True
        keep = train[self.order.T]
        return self.order.T[keep].reshape(self.X.shape[1], -1).T

    @cached_property
    def rank(self) -> np.ndarray:
        """Attributes in increasing order of Gini importance in the model-based group's tree.

        One tree on all rows used (not one per training fold, as pymfe): ten fewer full trees,
        which dominate the cost of the landmarkers on large data.
        """
        from meta_features._model_based import _tree

        return np.argsort(_tree(self.ctx).importances, kind="stable")

    def score_fn(self, predict: Callable[[int, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Accuracy per fold of ``predict(fold, train_rows, test_rows) -> labels``."""
        return np.array([np.mean(predict(i, tr, te) == self.y[te])
                         for i, (tr, te) in enumerate(self.splits)])


def _impute(ctx: Context) -> np.ndarray:
    X = ctx.data.X
    missing = np.isnan(X)
    if not missing.any():
        return X
    X = X.copy()
    for j in np.flatnonzero(missing.any(axis=0)):
        col = X[:, j]
        present = col[~np.isnan(col)]
        if present.size == 0:
            fill = 0.0
        elif ctx.data.categorical[j]:
            fill = float(np.bincount(present.astype(np.intp)).argmax())
        else:
            fill = float(present.mean())
        col[np.isnan(col)] = fill
    return X


def _folds(ctx: Context) -> _Folds | None:
    folds = ctx.memo("folds", lambda: _Folds(ctx))
    if not folds.splits:
        ctx.undefined("every class has a single instance: no cross-validation possible")
        return None
    return folds


@register("best_node", L, "Accuracy of a decision stump on all attributes.", cost="high", multi=True)
def best_node(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.score_fn(
        lambda i, tr, te: _stump_sorted(f.X, f.y, f.train_order(i), f.X[te]))


def _on_one_attribute(ctx: Context, choose: Callable[[Any], int],
                      learner: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per-fold accuracy of ``learner`` trained on the single attribute ``choose(folds)`` picks."""
    f = _folds(ctx)
    if f is None:
        return np.empty(0)
    attr = choose(f)
    return f.score_fn(lambda i, tr, te: learner(f.X[tr][:, [attr]], f.y[tr], f.X[te][:, [attr]]))


@register("random_node", L, "Accuracy of a decision stump on one attribute chosen with the seed.",
          cost="high", multi=True)
def random_node(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(ctx.rng(3).integers(ctx.data.d)), _stump)


@register("worst_node", L, "Accuracy of a decision stump on the attribute that the model-based "
          "group's full tree finds least important.", cost="high", multi=True)
def worst_node(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(f.rank[0]), _stump)


@register("elite_nn", L, "Accuracy of 1-NN on the attribute that the model-based group's "
          "full tree finds most important.", cost="high", multi=True)
def elite_nn(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(f.rank[-1]), _one_nn)


@register("one_nn", L, "Accuracy of 1-NN (Euclidean) on all attributes.", cost="high", multi=True)
def one_nn(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.score_fn(
        lambda i, tr, te: _one_nn(f.X[tr], f.y[tr], f.X[te]))


@register("naive_bayes", L, "Accuracy of Gaussian naive Bayes.", cost="high", multi=True)
def naive_bayes(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.score_fn(
        lambda i, tr, te: _naive_bayes(f.X[tr], f.y[tr], f.X[te]))


@register("linear_discr", L, "Accuracy of linear discriminant analysis.", cost="high", multi=True)
def linear_discr(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.score_fn(
        lambda i, tr, te: _lda(f.X[tr], f.y[tr], f.X[te]))


# ---------------------------------------------------------------------- vectorised learners
def _stump(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """A depth-1 CART tree (Gini) on the columns of ``X_tr``, as scikit-learn grows it.

    The cut maximising scikit-learn's proxy, ``sum_k L_k^2 / n_L + sum_k R_k^2 / n_R`` (class
    counts left and right), wins. Every column is sorted once; ``sum_k L_k^2`` after each row
    is a running sum of ``2 * (rows of its class already left of it) + 1``, and
    ``sum_k R_k^2 = sum_k T_k^2 - 2 sum_k T_k L_k + sum_k L_k^2``, so no array has a class axis.
    Cuts lie between values more than 1e-7 apart, at their midpoint, as scikit-learn's. Ties
    between equally good cuts go to the lowest attribute index, then the lowest cut
    (scikit-learn visits attributes in a random order instead).
    """
    order = np.argsort(X_tr.T, axis=1).T  # order among equal values does not matter
    return _stump_sorted(X_tr, y_tr, order, X_te)


def _stump_sorted(X: np.ndarray, y: np.ndarray, order: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """:func:`_stump` on the rows of ``X`` that ``order`` lists (column j sorted by ``order[:, j]``).

    Sorting all rows once and dropping each fold's test rows from that order keeps every
    training fold sorted without sorting it again.
    """
    rows = order[:, 0]
    classes, row_codes = np.unique(y[rows], return_inverse=True)
    codes = np.zeros(y.shape[0], dtype=np.intp)
    codes[rows] = row_codes
    n, d = order.shape
    total = np.bincount(row_codes, minlength=classes.size).astype(float)
    if n < 2:
        return np.full(X_te.shape[0], classes[np.argmax(total)])
    xs = X[order, np.arange(d)]
    small = np.uint8 if classes.size < 256 else np.uint16 if classes.size < 65536 else np.intp
    ys = codes.astype(small)[order]  # (n, d) class of each sorted row
    by_class = np.argsort(ys, axis=0, kind="stable")  # radix sort for small integer types
    starts = np.concatenate([[0], np.cumsum(total)[:-1]])
    rank = np.empty((n, d))  # rows of the same class left of each sorted row
    in_class = np.arange(n)[:, None] - starts[np.take_along_axis(ys, by_class, axis=0)]
    rank.reshape(-1)[(by_class * d + np.arange(d)).ravel()] = in_class.ravel()
    sq_left = np.cumsum(2.0 * rank + 1.0, axis=0)[:-1]
    cross = np.cumsum(total[ys], axis=0)[:-1]
    n_left = np.arange(1, n, dtype=float)[:, None]
    sq_right = (total**2).sum() - 2.0 * cross + sq_left
    score = sq_left / n_left + sq_right / (n - n_left)
    score = np.where(xs[1:] > xs[:-1] + 1e-7, score, -np.inf)
    pos = np.argmax(score, axis=0)  # first best cut of every column
    col_best = score[pos, np.arange(d)]
    j = int(np.argmax(col_best))
    if not np.isfinite(col_best[j]):  # no attribute can be cut: a single leaf
        return np.full(X_te.shape[0], classes[np.argmax(total)])
    lo, hi = xs[pos[j], j], xs[pos[j] + 1, j]
    threshold = lo / 2.0 + hi / 2.0
    if threshold == hi or not np.isfinite(threshold):
        threshold = lo
    goes_left = X[rows, j] <= threshold
    left_class = classes[np.argmax(np.bincount(row_codes[goes_left], minlength=classes.size))]
    right_class = classes[np.argmax(np.bincount(row_codes[~goes_left], minlength=classes.size))]
    return np.where(X_te[:, j] <= threshold, left_class, right_class)


def _lda_full_rank(scaled: np.ndarray, std: np.ndarray, means: np.ndarray, X_te: np.ndarray,
                   log_priors: np.ndarray) -> np.ndarray | None:
    """LDA scores by a Cholesky solve, when no direction would be dropped; else None.

    When the pooled covariance of the standardised attributes is well conditioned (LAPACK's
    reciprocal condition estimate above 1e-6, far from scikit-learn's cut at singular values
    1e-4 of the largest, i.e. eigenvalues 1e-8), its inverse is the pseudo-inverse that the
    svd solver applies, so the scores are the same at a third of an eigendecomposition's cost.
    """
    from scipy.linalg import cho_solve
    from scipy.linalg.lapack import dpocon, dpotrf

    gram = scaled.T @ scaled
    if gram.shape[0] == 0 or not np.isfinite(gram).all():
        return None
    factor, info = dpotrf(gram, lower=1)
    if info != 0:
        return None
    rcond, info = dpocon(factor, np.abs(gram).sum(axis=0).max(), uplo="L")
    if info != 0 or not rcond > 1e-6:
        return None
    m = means / std  # in standardised units
    solved = cho_solve((factor, True), m.T)  # (d, k)
    return (X_te / std) @ solved - 0.5 * (m * solved.T).sum(axis=1) + log_priors


def _one_nn(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Label of each test row's nearest training row (Euclidean; ties: lowest index)."""
    if X_tr.shape[1] == 1:
        return y_tr[_nearest_1d(X_tr[:, 0], X_te[:, 0])]
    out = np.empty(X_te.shape[0], dtype=np.intp)
    sq_tr = (X_tr**2).sum(1)[None, :]
    step = max(1, 2_000_000 // max(X_tr.shape[0], 1))
    for start in range(0, X_te.shape[0], step):
        block = X_te[start:start + step]
        dist = (block**2).sum(1)[:, None] - 2.0 * block @ X_tr.T + sq_tr
        out[start:start + step] = np.argmin(dist, axis=1)
    return y_tr[out]


def _nearest_1d(x_tr: np.ndarray, x_te: np.ndarray) -> np.ndarray:
    """Index of the nearest training value of each test value; ties: lowest training index."""
    values, first = np.unique(x_tr, return_index=True)
    pos = np.searchsorted(values, x_te)
    left = np.clip(pos - 1, 0, values.size - 1)
    right = np.clip(pos, 0, values.size - 1)
    d_left, d_right = np.abs(x_te - values[left]), np.abs(values[right] - x_te)
    pick_left = (d_left < d_right) | ((d_left == d_right) & (first[left] <= first[right]))
    return np.where(pick_left, first[left], first[right])


def _class_means(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    means = np.zeros((classes.size, X.shape[1]))
    np.add.at(means, codes, X)
    return classes, codes, means / counts[:, None]


def _naive_bayes(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Gaussian naive Bayes as scikit-learn's GaussianNB (var_smoothing 1e-9, ML variances)."""
    classes, codes, means = _class_means(X_tr, y_tr)
    counts = np.bincount(codes).astype(float)
    sq = np.zeros_like(means)
    np.add.at(sq, codes, (X_tr - means[codes]) ** 2)
    var = sq / counts[:, None] + 1e-9 * X_tr.var(axis=0).max()
    log_prior = np.log(counts / counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        jll = (log_prior[None, :] - 0.5 * np.log(2.0 * np.pi * var).sum(1)[None, :]
               - 0.5 * (((X_te[:, None, :] - means[None]) ** 2) / var[None]).sum(2))
    return classes[np.argmax(np.nan_to_num(jll, nan=-np.inf), axis=1)]


def _lda(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Linear discriminant analysis as scikit-learn's (svd solver, empirical priors).

    The pooled within-class covariance (divided by n - k) of the standardised attributes is
    inverted on the directions whose singular value exceeds 1e-4 times the largest, as
    scikit-learn does. With no within-class variance at all it predicts by the priors alone.
    """
    classes, codes, means = _class_means(X_tr, y_tr)
    n, k = X_tr.shape[0], classes.size
    if k == 1:
        return np.full(X_te.shape[0], classes[0])
    within = X_tr - means[codes]
    std = within.std(axis=0)
    std[std == 0] = 1.0
    scaled = within / std / np.sqrt(max(n - k, 1))
    priors = np.bincount(codes) / n
    centre = priors @ means
    fast = _lda_full_rank(scaled, std, means - centre, X_te - centre, np.log(priors))
    if fast is not None:
        return classes[np.argmax(fast, axis=1)]
    if scaled.shape[1] <= scaled.shape[0]:
        s2, V = np.linalg.eigh(scaled.T @ scaled)
    else:  # wide data: the same singular vectors from the smaller Gram matrix
        s2, U = np.linalg.eigh(scaled @ scaled.T)
        with np.errstate(divide="ignore", invalid="ignore"):
            V = (scaled.T @ U) / np.sqrt(np.clip(s2, 1e-300, None))
    sv = np.sqrt(np.clip(s2, 0.0, None))
    keep = sv > 1e-4 * sv.max(initial=0.0)
    scalings = V[:, keep] / std[:, None] / sv[keep]
    proj_means = (means - centre) @ scalings
    proj_te = (X_te - centre) @ scalings
    score = proj_te @ proj_means.T - 0.5 * (proj_means**2).sum(1) + np.log(priors)
    return classes[np.argmax(score, axis=1)]
