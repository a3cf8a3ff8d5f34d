"""Meta-features of regression targets: target statistics, feature-target relations, landmarkers.

Registered for ``task="regression"`` only (the classification groups read class labels; the
target-free general, statistical and info-theory features serve both tasks):

* **statistical** -- the target's skewness and excess kurtosis (the same definitions as the
  attribute ``skewness``/``kurtosis``: ``m_k / s^k`` with ``s`` the ddof=1 deviation),
  coefficient of variation ``s / |mean|``, share of outliers (beyond 1.5 IQR of a quartile, the
  rule of ``nr_outliers``) and share of distinct values; ``attr_y_cor``, the absolute Pearson
  correlation of each numeric attribute with the target (mean-imputed, as ``cor``).
* **info-theory** -- ``y_ent``, the entropy of the target discretised like a numeric attribute
  (``int(n^(1/3))`` equal-frequency bins), and ``attr_y_mi``, the mutual information (bits) of
  each discretised attribute with the discretised target: pymfe's ``class_ent`` and ``mut_inf``
  with the binned target as the class.
* **landmarking** -- R^2 per fold of four fast learners under 10-fold shuffled, seeded K-fold
  (fewer folds below 20 rows): ``linear_r2`` (least squares with intercept), ``one_nn_r2``
  (1-NN, Euclidean on the raw attributes as the classification ``one_nn``), ``stump_r2``
  (the single best squared-error split over all attributes) and ``tree_d3_r2`` (a CART
  regression tree of depth 3). Folds are shuffled because regression data are often stored
  sorted by the target, which would make unshuffled folds extrapolate. Missing values are
  imputed as for the classification landmarkers; categorical attributes enter as codes.

References:
    Pfahringer, Bensusan & Giraud-Carrier (2000), Meta-learning by landmarking various learning
    algorithms, ICML; Soares, Brazdil & Kuba (2004), A meta-learning method to select the kernel
    width in support vector regression, Machine Learning 54 (regression meta-features);
    Rivolli et al. (2022), Meta-features for meta-learning, Knowledge-Based Systems 240.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
from sklearn.model_selection import KFold

from meta_features._columns import ColumnStats
from meta_features._context import Context
from meta_features._info_theory import _entropy_rows, entropies
from meta_features._learners import one_nn
from meta_features._registry import register

__all__ = ["r2_score", "stump_predict"]

S, I, L = "statistical", "info-theory", "landmarking"  # noqa: E741
REG = ("regression",)


# ---------------------------------------------------------------------- target statistics
def _target_stats(ctx: Context) -> ColumnStats:
    return ctx.target_stats


@register("y_skewness", S, "Skewness m3/s^3 (s with ddof=1) of the target.", tasks=REG)
def y_skewness(ctx: Context) -> float:
    return float(_target_stats(ctx).standardised_moment(3)[0])


@register("y_kurtosis", S, "Excess kurtosis m4/s^4 - 3 (s with ddof=1) of the target.", tasks=REG)
def y_kurtosis(ctx: Context) -> float:
    return float(_target_stats(ctx).standardised_moment(4)[0] - 3.0)


@register("y_cv", S, "Coefficient of variation of the target: sd (ddof=1) / |mean|.", tasks=REG)
def y_cv(ctx: Context) -> float:
    st = _target_stats(ctx)
    mean = float(st.mean[0])
    if mean == 0.0:
        return ctx.undefined("the target's mean is 0")
    return float(st.sd[0] / abs(mean))


@register("y_outliers", S, "Share of target values beyond 1.5 IQR below Q1 or above Q3.", tasks=REG)
def y_outliers(ctx: Context) -> float:
    st = _target_stats(ctx)
    q1, q3 = float(st.q1[0]), float(st.q3[0])
    whisker = 1.5 * (q3 - q1)
    y = ctx.target
    # the mean of the outlier mask (np.mean of bools: the exact count over n)
    return float(np.count_nonzero((y < q1 - whisker) | (y > q3 + whisker)) / y.size)


@register("y_distinct", S, "Share of distinct values among the target's values.", tasks=REG)
def y_distinct(ctx: Context) -> float:
    # distinct values counted on the sorted target (as np.unique counts them)
    return float(_target_stats(ctx).n_distinct[0] / ctx.target.size)


@register("attr_y_cor", S, "Absolute Pearson correlation of each numeric attribute with the target.",
          multi=True, tasks=REG)
def attr_y_cor(ctx: Context) -> np.ndarray:
    N = ctx.numeric_imputed
    if N.shape[1] == 0:
        ctx.undefined("no numeric attribute")
        return np.empty(0)
    # The centred columns and their sums of squares are the column statistics' (the same
    # reductions of the same arrays: np.mean's sum and division, x ** 2 is x * x), for the
    # target always and for the attributes when nothing was imputed.
    target = ctx.target_stats
    y = target.centred[:, 0]
    st = ctx.numeric_stats
    if N is ctx.numeric and st.complete:
        centred, squares = st.centred, st.sum_squares
    else:
        centred = N - N.mean(axis=0)
        squares = (centred ** 2).sum(axis=0)
    norms = np.sqrt(squares) * np.sqrt(target.sum_squares[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(centred.T @ y) / norms
    r = np.where(norms > 0, np.clip(r, 0.0, 1.0), np.nan)
    if np.isnan(r).any():
        ctx.undefined("undefined for constant attributes")
    return r


# ---------------------------------------------------------------------- information theory
@register("y_ent", I, "Entropy (bits) of the target cut into int(n^(1/3)) equal-frequency bins.",
          tasks=REG)
def y_ent(ctx: Context) -> float:
    counts = np.bincount(ctx.binned_target).astype(float)
    return float(_entropy_rows(counts[None, :])[0])


@register("attr_y_mi", I, "Mutual information (bits) of each discretised attribute with the binned "
          "target.", cost="medium", multi=True, tasks=REG)
def attr_y_mi(ctx: Context) -> np.ndarray:
    # the info-theory group's tables of a regression have the binned target as their class
    h_x, h_y, h_xy = entropies(ctx)
    return np.clip(h_x + h_y - h_xy, 0.0, None)


# ---------------------------------------------------------------------- landmarkers
def r2_score(y: np.ndarray, pred: np.ndarray) -> float:
    """``1 - SS_res / SS_tot`` (NaN when the test values are constant)."""
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0.0:
        return float("nan")
    return 1.0 - float(((y - pred) ** 2).sum()) / total


def stump_predict(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Predictions of the best single squared-error split ``x_j <= t`` over all attributes.

    Every column is sorted once; the sum of squared errors of every cut between distinct
    values comes from running sums. The threshold is the midpoint of the two values; ties go
    to the lowest column, then the lowest cut. With no possible cut: the training mean.
    """
    n = X_tr.shape[0]
    order = np.argsort(X_tr, axis=0, kind="stable")
    xs = np.take_along_axis(X_tr, order, axis=0)
    ys = y_tr[order]
    s, q = np.cumsum(ys, axis=0), np.cumsum(ys ** 2, axis=0)
    left = np.arange(1, n, dtype=float)[:, None]
    sse = (q[:-1] - s[:-1] ** 2 / left) + ((q[-1] - q[:-1]) - (s[-1] - s[:-1]) ** 2 / (n - left))
    sse = np.where(xs[:-1] < xs[1:], sse, np.inf)
    if sse.size == 0 or not np.isfinite(sse).any():
        return np.full(X_te.shape[0], y_tr.mean())
    flat = int(np.argmin(sse.T.ravel()))  # column-major: lowest column first
    j, i = divmod(flat, n - 1)
    threshold = (xs[i, j] + xs[i + 1, j]) / 2.0
    below = X_tr[:, j] <= threshold
    return np.where(X_te[:, j] <= threshold, y_tr[below].mean(), y_tr[~below].mean())


def _linear_predict(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    A = np.column_stack([np.ones(X_tr.shape[0]), X_tr])
    coef, *_ = np.linalg.lstsq(A, y_tr, rcond=None)
    return np.column_stack([np.ones(X_te.shape[0]), X_te]) @ coef


class _RegressionFolds:
    """The imputed data and the shuffled K-fold splits shared by the regression landmarkers."""

    def __init__(self, ctx: Context) -> None:
        from meta_features._landmarking import _impute

        self.X = _impute(ctx)
        self.y = ctx.target
        k = min(10, self.X.shape[0] // 2)
        self.splits = [] if k < 2 else list(KFold(k, shuffle=True, random_state=ctx.seed).split(self.X))

    @cached_property
    def valid(self) -> bool:
        return bool(self.splits)

    def score(self, learner: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """R^2 per fold of ``learner(X_train, y_train, X_test) -> predictions``."""
        return np.array([r2_score(self.y[te], learner(self.X[tr], self.y[tr], self.X[te]))
                         for tr, te in self.splits])


def _landmark(ctx: Context, learner: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    folds = ctx.memo("regression_folds", lambda: _RegressionFolds(ctx))
    if not folds.valid:
        ctx.undefined("fewer than 4 rows: no cross-validation possible")
        return np.empty(0)
    scores = folds.score(learner)
    if np.isnan(scores).any():
        ctx.undefined("R^2 is undefined on a test fold with a constant target")
    return scores


@register("linear_r2", L, "R^2 per fold of least-squares linear regression.", cost="high", multi=True,
          tasks=REG)
def linear_r2(ctx: Context) -> np.ndarray:
    return _landmark(ctx, _linear_predict)


@register("one_nn_r2", L, "R^2 per fold of 1-NN regression (Euclidean on all attributes).", cost="high",
          multi=True, tasks=REG)
def one_nn_r2(ctx: Context) -> np.ndarray:
    return _landmark(ctx, one_nn)


@register("stump_r2", L, "R^2 per fold of the best single squared-error split (decision stump).",
          cost="high", multi=True, tasks=REG)
def stump_r2(ctx: Context) -> np.ndarray:
    return _landmark(ctx, stump_predict)


@register("tree_d3_r2", L, "R^2 per fold of a CART regression tree of depth 3.", cost="high", multi=True,
          tasks=REG)
def tree_d3_r2(ctx: Context) -> np.ndarray:
    from sklearn.tree import DecisionTreeRegressor

    def learner(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
        tree = DecisionTreeRegressor(max_depth=3, random_state=ctx.seed)
        return np.asarray(tree.fit(X_tr, y_tr).predict(X_te))

    return _landmark(ctx, learner)
