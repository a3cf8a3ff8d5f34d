"""Statistical meta-features of the numeric attributes.

Per-attribute values are computed over each column's present values (missing values are left
out); pairwise and multivariate values (correlation, covariance, eigenvalues, canonical
correlations, PCA) use the columns with each missing value replaced by the column mean.
Categorical attributes are not used here (except by ``sparsity``, defined on all attributes).

References:
    Michie, Spiegelhalter & Taylor (1994), Machine Learning, Neural and Statistical
    Classification (the StatLog characteristics); Rivolli et al. (2022), Meta-features for
    meta-learning, Knowledge-Based Systems 240 (pymfe's definitions, followed here).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.stats

from meta_features._columns import ColumnStats
from meta_features._context import Context
from meta_features._learners import class_sums
from meta_features._registry import BOTH, register

__all__: list[str] = []

S = "statistical"

#: scipy's Shapiro-Wilk test without its axis/NaN-policy wrapper, which costs ten times the
#: test itself on one clean column (the inner function is what the wrapper calls, so the
#: results are the same; the public function is the fallback if scipy stops exposing it).
_shapiro = getattr(scipy.stats.shapiro, "__wrapped__", scipy.stats.shapiro)

try:  # the routine scipy's shapiro calls; see _shapiro_p
    from scipy.stats._ansari_swilk_statistics import swilk as _swilk
except ImportError:  # pragma: no cover - a scipy without it: the public test
    _swilk = None


def _stats(ctx: Context) -> ColumnStats:
    return ctx.numeric_stats


def _need_numeric(ctx: Context) -> bool:
    if ctx.numeric.shape[1] == 0:
        ctx.undefined("no numeric attribute")
        return False
    return True


def _per_attr(ctx: Context, values: np.ndarray, reason: str) -> np.ndarray:
    if values.size and np.isnan(values).any():
        ctx.undefined(reason)  # recorded; the summaries use the defined values
    return values


@register("mean", S, "Mean of each numeric attribute.", multi=True, tasks=BOTH)
def mean(ctx: Context) -> np.ndarray:
    return _stats(ctx).mean


@register("sd", S, "Standard deviation (ddof=1) of each numeric attribute.", multi=True, tasks=BOTH)
def sd(ctx: Context) -> np.ndarray:
    return _stats(ctx).sd


@register("var", S, "Variance (ddof=1) of each numeric attribute.", multi=True, tasks=BOTH)
def var(ctx: Context) -> np.ndarray:
    return _stats(ctx).var


@register("min", S, "Minimum of each numeric attribute.", multi=True, tasks=BOTH)
def min_(ctx: Context) -> np.ndarray:
    return _stats(ctx).min


@register("max", S, "Maximum of each numeric attribute.", multi=True, tasks=BOTH)
def max_(ctx: Context) -> np.ndarray:
    return _stats(ctx).max


@register("median", S, "Median of each numeric attribute.", cost="medium", multi=True, tasks=BOTH)
def median(ctx: Context) -> np.ndarray:
    return _stats(ctx).median


@register("range", S, "Range (max - min) of each numeric attribute.", multi=True, tasks=BOTH)
def range_(ctx: Context) -> np.ndarray:
    return _stats(ctx).max - _stats(ctx).min


@register("iq_range", S, "Interquartile range of each numeric attribute.", cost="medium", multi=True, tasks=BOTH)
def iq_range(ctx: Context) -> np.ndarray:
    return _stats(ctx).q3 - _stats(ctx).q1


@register("t_mean", S, "Mean of each numeric attribute after trimming 20% at each end.",
          cost="medium", multi=True, tasks=BOTH)
def t_mean(ctx: Context) -> np.ndarray:
    return _stats(ctx).trimmed_mean(0.2)


@register("mad", S, "Median absolute deviation of each numeric attribute (times 1.4826).",
          cost="medium", multi=True, tasks=BOTH)
def mad(ctx: Context) -> np.ndarray:
    return _stats(ctx).mad()


@register("skewness", S, "Skewness m3/s^3 (s with ddof=1) of each numeric attribute.", multi=True, tasks=BOTH)
def skewness(ctx: Context) -> np.ndarray:
    return _per_attr(ctx, _stats(ctx).standardised_moment(3), "undefined for constant attributes")


@register("kurtosis", S, "Excess kurtosis m4/s^4 - 3 (s with ddof=1) of each numeric attribute.",
          multi=True, tasks=BOTH)
def kurtosis(ctx: Context) -> np.ndarray:
    return _per_attr(ctx, _stats(ctx).standardised_moment(4) - 3.0,
                     "undefined for constant attributes")


@register("g_mean", S, "Geometric mean of each numeric attribute (0 if its minimum is 0).",
          multi=True, tasks=BOTH)
def g_mean(ctx: Context) -> np.ndarray:
    st, N = _stats(ctx), ctx.numeric
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.zeros_like(N)  # log of the positive values, 0 elsewhere (NaN included)
        np.log(N, out=logs, where=N > 0)
        g = np.exp(logs.sum(axis=0) / st.count)
    g = np.where(st.min < 1e-10, 0.0, g)
    return _per_attr(ctx, np.where(st.min < 0, np.nan, g),
                     "undefined for attributes with negative values")


@register("h_mean", S, "Harmonic mean of each numeric attribute (0 if it has a zero).",
          multi=True, tasks=BOTH)
def h_mean(ctx: Context) -> np.ndarray:
    st, N = _stats(ctx), ctx.numeric
    zero = N == 0
    has_zero = zero.any(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if st.complete:
            # nansum of 1/x with the zeros left out: the same sum with 0 in their place
            # (nansum replaces NaN by 0 in a copy of the same layout, then sums)
            inverse = np.zeros_like(N)
            np.divide(1.0, N, out=inverse, where=~zero)
            h = st.count / np.add.reduce(inverse, axis=0)
        else:
            h = st.count / np.nansum(1.0 / np.where(zero, np.nan, N), axis=0)
    h = np.where(has_zero, 0.0, h)
    return _per_attr(ctx, np.where(st.min < 0, np.nan, h),
                     "undefined for attributes with negative values")


@register("nr_outliers", S, "Number of numeric attributes with a value beyond 1.5 IQR of a quartile.", tasks=BOTH)
def nr_outliers(ctx: Context) -> float:
    st = _stats(ctx)
    whisker = 1.5 * (st.q3 - st.q1)
    return float(((st.q1 - whisker > st.min) | (st.q3 + whisker < st.max)).sum())


@register("sparsity", S, "Per attribute: (n / distinct values - 1) / (n - 1), n present values.",
          multi=True, tasks=BOTH)
def sparsity(ctx: Context) -> np.ndarray:
    st = ctx.all_stats
    count, distinct = st.count, st.n_distinct
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (count / distinct - 1.0) / (count - 1.0)
    return _per_attr(ctx, np.where(count > 1, out, np.nan),
                     "undefined for attributes with fewer than two present values")


def _lower(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the pairs below the diagonal of the covariance matrix."""
    return _tril(len(ctx.pair_columns))


@functools.lru_cache(maxsize=16)
def _tril(p: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(p, k=-1)``, computed once per size (read-only)."""
    rows, cols = np.tril_indices(p, k=-1)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


@register("cor", S, "Absolute Pearson correlation of each pair of numeric attributes.",
          cost="medium", multi=True, tasks=BOTH)
def cor(ctx: Context) -> np.ndarray:
    if ctx.numeric.shape[1] < 2:
        ctx.undefined("fewer than two numeric attributes")
        return np.empty(0)
    values = ctx.abs_corr[_lower(ctx)]
    return _per_attr(ctx, values, "undefined for pairs with a constant attribute")


@register("cov", S, "Absolute covariance (ddof=1) of each pair of numeric attributes.",
          cost="medium", multi=True, tasks=BOTH)
def cov(ctx: Context) -> np.ndarray:
    if ctx.numeric.shape[1] < 2:
        ctx.undefined("fewer than two numeric attributes")
        return np.empty(0)
    return np.abs(ctx.cov[_lower(ctx)])


@register("nr_cor_attr", S, "Fraction of numeric attribute pairs with |correlation| >= 0.5.",
          cost="medium", tasks=BOTH)
def nr_cor_attr(ctx: Context) -> float:
    p = ctx.abs_corr.shape[0]
    if p < 2:
        return ctx.undefined("fewer than two numeric attributes")
    values = ctx.abs_corr[_lower(ctx)]
    return float(np.sum(values >= 0.5) * 2.0 / (p * (p - 1.0)))


@register("eigenvalues", S, "Eigenvalues of the covariance matrix of the numeric attributes.",
          cost="medium", multi=True, tasks=BOTH)
def eigenvalues(ctx: Context) -> np.ndarray:
    if not _need_numeric(ctx):
        return np.empty(0)
    return _eigvals(ctx)


def _eigvals(ctx: Context) -> np.ndarray:
    return ctx.memo("eigvals", lambda: np.linalg.eigvalsh(ctx.cov))


@register("nr_pca_95", S, "Principal components needed for 95% of the numeric variance.",
          cost="medium", tasks=BOTH)
def nr_pca_95(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    k, reason = _pca_95(ctx)
    return ctx.undefined(reason) if reason else k


def _pca_95(ctx: Context) -> tuple[float, str | None]:
    """``nr_pca_95`` and why it is undefined (None when defined), once per extraction."""
    def build() -> tuple[float, str | None]:
        ev = np.clip(_eigvals(ctx)[::-1], 0.0, None)
        if ev.sum() <= 0:
            return float("nan"), "all numeric attributes are constant"
        return float(np.searchsorted(np.cumsum(ev) / ev.sum(), 0.95 - 1e-12) + 1), None

    return ctx.memo("pca_95", build)


@register("pca_95_ratio", S, "nr_pca_95 divided by the number of numeric attributes used.",
          cost="medium", tasks=BOTH)
def pca_95_ratio(ctx: Context) -> float:
    k = nr_pca_95(ctx)
    return k / len(ctx.pair_columns) if np.isfinite(k) else float("nan")


@register("pca_first_pc", S, "Fraction of the numeric variance on the first principal component.",
          cost="medium", tasks=BOTH)
def pca_first_pc(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    ev = np.clip(_eigvals(ctx), 0.0, None)
    return float(ev.max() / ev.sum()) if ev.sum() > 0 else ctx.undefined(
        "all numeric attributes are constant")


@register("gravity", S, "Distance between the centroids of the majority and minority classes.")
def gravity(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    counts = ctx.class_counts
    if len(counts) < 2:
        return ctx.undefined("only one class")
    major = int(np.argmax(counts))
    rest = np.delete(np.arange(len(counts)), major)
    minor = int(rest[np.argmin(counts[rest])])
    N, y = ctx.numeric_imputed, ctx.data.y
    return float(np.linalg.norm(N[y == major].mean(axis=0) - N[y == minor].mean(axis=0)))


@register("nr_norm", S, "Number of numeric attributes that Shapiro-Wilk does not reject as "
          "normal (p > 0.05, first 5000 rows; constant ones count as normal).", cost="medium", tasks=BOTH)
def nr_norm(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    N = ctx.numeric[:5000]
    # up to 5000 rows, the first 5000 rows are all rows: their columns are sorted already
    st = ctx.numeric_stats
    sorted_columns = st.sorted if N.shape[0] == ctx.n else None
    normal = 0
    coefficients: dict[int, np.ndarray] = {}
    for j in range(N.shape[1]):
        column = N[:, j]
        complete = sorted_columns is not None and st.count[j] == ctx.n
        values = column if complete else column[~np.isnan(column)]
        if values.size < 3:
            continue  # Shapiro-Wilk needs three values
        ordered = sorted_columns[: values.size, j] if sorted_columns is not None else np.sort(values)
        if ordered[0] == ordered[-1]:
            normal += 1  # a constant is a degenerate normal; scipy's test returns p = 1 too
            continue
        normal += _shapiro_p(values, ordered, coefficients) > 0.05
    return float(normal)


def _shapiro_p(values: np.ndarray, ordered: np.ndarray, coefficients: dict[int, np.ndarray]) -> float:
    """The Shapiro-Wilk p-value of ``values`` (at least three, not all equal; ``ordered``: sorted).

    scipy's ``shapiro`` sorts the values, subtracts the middle value (in the original order)
    and calls ``swilk``, which first computes coefficients that depend only on the number of
    values. Here the columns come sorted, and the coefficients are computed once per size
    (``coefficients``) and passed back in: the same routine on the same numbers, so the
    p-value is scipy's (the tests compare them).
    """
    if _swilk is None:  # pragma: no cover
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(_shapiro(values).pvalue)
    n = values.size
    y = ordered - values[n // 2]
    known = n in coefficients
    if not known:
        coefficients[n] = np.zeros(n // 2)
    _, pw, _ = _swilk(y, coefficients[n], known)
    return float(pw)


# ---------------------------------------------------------------------- discriminant analysis
def _canonical(ctx: Context) -> np.ndarray:
    """Canonical correlations between the numeric attributes and the class indicators.

    They are ``sqrt(l / (1 + l))`` for the non-zero eigenvalues ``l`` of ``W^-1 B`` (within-
    and between-class scatter). ``W`` is restricted to its range (directions with eigenvalue
    above a relative 1e-10 tolerance), so collinear or constant attributes are handled.
    ``B = D'D`` with ``D`` one row per class, so the non-zero eigenvalues are those of the small
    ``(classes, classes)`` matrix ``D W^+ D'``; when ``W`` is well conditioned (LAPACK's
XX
    a Cholesky solve instead of an eigendecomposition of ``W``.
    """
    return ctx.memo("canonical", lambda: _canonical_correlations(ctx))


def _canonical_correlations(ctx: Context) -> np.ndarray:
    N = ctx.numeric_imputed[:, ctx.pair_columns]
    y, k = ctx.data.y, len(ctx.class_counts)
    means = class_sums(N, y, k)
    counts = ctx.class_counts
    present = counts > 0
    means[present] /= counts[present, None]
    within = N - means[y]
    W = within.T @ within
    grand = N.mean(axis=0)
    D = (means[present] - grand) * np.sqrt(counts[present])[:, None]  # B = D'D
    small = _between_in_within_metric(W, D)
    if small is None:
        return np.empty(0)
    lam = np.linalg.eigvalsh(small)[::-1]
    lam = lam[lam > 1e-10 * max(lam.max(initial=0.0), 1.0)][: max(int(present.sum()) - 1, 0)]
    return np.sqrt(lam / (1.0 + lam))


def _between_in_within_metric(W: np.ndarray, D: np.ndarray) -> np.ndarray | None:
    """``D W^+ D'`` with ``W^+`` the inverse of ``W`` on its range; None if ``W`` is zero."""
    from scipy.linalg import cho_solve
    from scipy.linalg.lapack import dpocon, dpotrf

    if W.shape[0] and np.isfinite(W).all():
        factor, info = dpotrf(W, lower=1)
        if info == 0:
            rcond, info = dpocon(factor, np.abs(W).sum(axis=0).max(), uplo="L")
            if info == 0 and rcond > 1e-6:
                product = D @ cho_solve((factor, True), D.T)
                return (product + product.T) / 2.0
    w_val, w_vec = np.linalg.eigh(W)
    keep = w_val > 1e-10 * max(w_val.max(initial=0.0), 1e-300)
    if not keep.any():
        return None
    DT = D @ (w_vec[:, keep] / np.sqrt(w_val[keep]))
    return DT @ DT.T


def _discriminant_eig(ctx: Context) -> np.ndarray:
    can = _canonical(ctx)
    return can**2 / (1.0 - can**2)


@register("can_cor", S, "Canonical correlations between numeric attributes and classes.",
          cost="medium", multi=True)
def can_cor(ctx: Context) -> np.ndarray:
    if not _need_numeric(ctx):
        return np.empty(0)
    return _canonical(ctx)


@register("nr_disc", S, "Number of non-zero canonical correlations (discriminant functions).",
          cost="medium")
def nr_disc(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    return float(_canonical(ctx).size)


@register("w_lambda", S, "Wilks' lambda: prod 1 / (1 + l_i) over discriminant eigenvalues.",
          cost="medium")
def w_lambda(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    lam = _discriminant_eig(ctx)
    return float(np.exp(-np.log1p(lam).sum())) if lam.size else ctx.undefined(
        "no discriminant function (classes not separable in any direction)")


@register("p_trace", S, "Pillai's trace: sum of squared canonical correlations.", cost="medium")
def p_trace(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    can = _canonical(ctx)
    return float(np.sum(can**2)) if can.size else ctx.undefined("no discriminant function")


@register("lh_trace", S, "Lawley-Hotelling trace: sum of discriminant eigenvalues.", cost="medium")
def lh_trace(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    lam = _discriminant_eig(ctx)
    return float(lam.sum()) if lam.size else ctx.undefined("no discriminant function")


@register("roy_root", S, "Roy's largest root: the largest discriminant eigenvalue.", cost="medium")
def roy_root(ctx: Context) -> float:
    if not _need_numeric(ctx):
        return float("nan")
    lam = _discriminant_eig(ctx)
    return float(lam.max()) if lam.size else ctx.undefined("no discriminant function")


@register("sd_ratio", S, "Box's M based homogeneity of the class covariance matrices.",
          cost="medium")
def sd_ratio(ctx: Context) -> float:
    """exp(M / (p * (n - k))) with Box's M corrected by gamma (StatLog's SD ratio).

    Undefined when a class covariance matrix is singular (a class with at most p instances, or
    a constant attribute within a class).
    """
    if not _need_numeric(ctx):
        return float("nan")
    N, y = ctx.numeric_imputed[:, ctx.pair_columns], ctx.data.y
    counts = ctx.class_counts[ctx.class_counts > 0]
    k, (n, p) = len(counts), N.shape
    if k < 2:
        return ctx.undefined("only one class")
    weights = counts - 1.0
    if np.any(weights < 1) or n - k <= 0:
        return ctx.undefined("a class has a single instance")
    logdets, pooled = [], np.zeros((p, p))
    for c in np.flatnonzero(ctx.class_counts > 0):
        S_c = np.atleast_2d(np.cov(N[y == c], rowvar=False, ddof=1))
        pooled += (counts_c := (y == c).sum() - 1.0) * S_c
        sign, logdet = np.linalg.slogdet(S_c)
        if sign <= 0 or counts_c < 1:
            return ctx.undefined("a class covariance matrix is singular")
        logdets.append(logdet)
    sign, pooled_logdet = np.linalg.slogdet(pooled / (n - k))
    if sign <= 0:
        return ctx.undefined("the pooled covariance matrix is singular")
    gamma = 1.0 - (2.0 * p**2 + 3.0 * p - 1.0) / (6.0 * (p + 1.0) * (k - 1.0)) * (
        np.sum(1.0 / weights) - 1.0 / (n - k))
    m = gamma * ((n - k) * pooled_logdet - np.dot(weights, logdets))
    return float(np.exp(m / (p * (n - k))))
