"""The fast paths of the meta-feature extraction give the values of the plain computations.

Each speed-up of issue #22 item 4 replaces a computation by a cheaper one that does the same
floating-point operations on the same numbers (quantiles from already-sorted columns, one
comparison per bin edge, summaries of many features at once, Shapiro-Wilk coefficients reused,
shortcuts for matrices without missing values). These tests compare each with the plain
computation it replaced (written out here as the reference), bit for bit; the one exception is
the concentration of all attribute pairs at once, whose sums run in another order (1e-12).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats

from meta_features._columns import ColumnStats, _sorted_quantile, _take
from meta_features._info_theory import (
    _all_pair_conc,
    _pair_conc,
    discretise,
    n_bins,
    sorted_quantiles,
)
from meta_features._statistical import _shapiro_p
from meta_features._summary import SUMMARIES, summarise, summarise_many


def _matrices(seed: int, count: int = 60):
    """Random matrices with ties, constant columns, missing values and both memory layouts."""
    rng = np.random.default_rng(seed)
    for t in range(count):
        n = int(rng.choice([1, 2, 3, 5, 10, 31, 100, 475, 1000]))
        p = int(rng.integers(1, 7))
        M = rng.normal(size=(n, p)) * 10.0 ** rng.uniform(-3, 3, p) + rng.normal(size=p)
        kind = t % 5
        if kind == 1:
            M = np.round(M)
        elif kind == 2:
            M[:, 0] = 4.0  # a constant column
        elif kind == 3:
            M[rng.random(M.shape) < 0.2] = np.nan
        elif kind == 4:
            M = rng.integers(0, 3, M.shape).astype(float)
        yield np.asfortranarray(M) if t % 2 else M


# ---------------------------------------------------------------------- discretisation
def _reference_discretise(X: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """The discretisation as it was: numpy's quantiles, merged edges, np.unique, searchsorted."""
    out = np.full(X.shape, -1, dtype=np.int64)
    for j in range(X.shape[1]):
        col = X[:, j]
        present = ~np.isnan(col)
        if categorical[j]:
            out[present, j] = col[present].astype(np.int64)
            continue
        if not present.any():
            continue
        edges = np.quantile(col[present], np.linspace(0.0, 1.0, n_bins(X.shape[0]) + 1)[1:])
        edges = np.unique(edges[np.append(True, np.diff(edges) > 1e-8)])
        out[present, j] = np.searchsorted(edges, col[present], side="left")
    return out


def test_sorted_quantiles_are_numpys():
    for M in _matrices(1):
        complete = M[:, ~np.isnan(M).any(axis=0)]
        qs = np.linspace(0.0, 1.0, n_bins(M.shape[0]) + 1)[1:]
        # equal as numbers (the sign of a zero may differ: tied values sort in any order)
        np.testing.assert_array_equal(sorted_quantiles(np.sort(complete, axis=0), qs),
                                      np.quantile(complete, qs, axis=0))


def test_discretise_matches_the_plain_binning():
    rng = np.random.default_rng(2)
    for M in _matrices(2):
        categorical = rng.random(M.shape[1]) < 0.3
        X = M.copy()
        X[:, categorical] = rng.integers(0, 4, (X.shape[0], int(categorical.sum())))
        expected = _reference_discretise(X, categorical)
        np.testing.assert_array_equal(discretise(X, categorical), expected)
        np.testing.assert_array_equal(discretise(X, categorical, sorted_columns=np.sort(X, axis=0)), expected)


def test_all_pair_concentration_matches_one_table_per_attribute():
    rng = np.random.default_rng(3)
    for M in _matrices(3, 30):
        if M.shape[1] < 2:
            continue
        D = discretise(M, np.zeros(M.shape[1], bool))
        D[rng.random(D.shape) < 0.05] = -1
        m = D.shape[1]
        expected = np.concatenate([_pair_conc(D[:, a], D[:, [b for b in range(m) if b != a]]) for a in range(m)])
        np.testing.assert_allclose(_all_pair_conc(D), expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- summaries
def test_summarise_many_equals_one_at_a_time():
    rng = np.random.default_rng(4)
    names = tuple(SUMMARIES)
    for _ in range(200):
        arrays = []
        for _ in range(int(rng.integers(1, 10))):
            m = int(rng.choice([0, 1, 2, 3, 7, 8, 9, 17, 129]))
            a = rng.normal(size=m) * 10.0 ** rng.uniform(-6, 6) + rng.normal() * 100
            if rng.random() < 0.2:
                a = np.round(a)
            if rng.random() < 0.3 and m:
                a[rng.random(m) < 0.3] = rng.choice([np.nan, np.inf, -np.inf])
            arrays.append(a)
        for summary in (names, ("q3", "mean", "q1", "sd"), ("median",)):
            for a, (row, defined) in zip(arrays, summarise_many(arrays, summary), strict=True):
                assert defined == np.isfinite(a).sum()
                np.testing.assert_array_equal(row, list(summarise(a, summary).values()))


def test_summary_functions_are_numpys():
    rng = np.random.default_rng(6)
    for m in (1, 2, 3, 8, 9, 129, 1000):
        v = np.sort(rng.normal(size=m) * 10.0 ** rng.uniform(-6, 6) + rng.normal() * 100)
        assert SUMMARIES["mean"](v) == float(np.mean(v))
        if m < 2:
            continue
        sd = np.std(v, ddof=1)
        assert SUMMARIES["sd"](v) == float(sd)
        assert SUMMARIES["skewness"](v) == float(np.mean((v - v.mean()) ** 3) / sd**3)
        assert SUMMARIES["kurtosis"](v) == float(np.mean((v - v.mean()) ** 4) / sd**4 - 3.0)


# ---------------------------------------------------------------------- column statistics
def test_column_statistics_without_missing_values_take_the_same_values():
    """The shortcuts for complete matrices against the general (NaN-aware) formulas."""
    for M in _matrices(5):
        if np.isnan(M).any():
            continue
        st = ColumnStats(M)
        assert st.complete
        count = (~np.isnan(M)).sum(axis=0)
        S = np.sort(M, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(M, axis=0) / count
            centred = np.nan_to_num(M - mean, nan=0.0)
            var = np.where(count > 1, (centred * centred).sum(axis=0) / (count - 1), np.nan)
            k = np.floor(0.2 * count).astype(np.intp)
            cums = np.vstack([np.zeros((1, M.shape[1])), np.cumsum(np.nan_to_num(S), axis=0)])
            cols = np.arange(M.shape[1])
            t_mean = (cums[count - k, cols] - cums[k, cols]) / (count - 2 * k)
        deviations = np.abs(M - _sorted_quantile(S, count, 0.5))
        mad = _sorted_quantile(np.sort(deviations, axis=0), count, 0.5) * 1.4826
        np.testing.assert_array_equal(st.mean, mean)
        np.testing.assert_array_equal(st.centred, centred)
        np.testing.assert_array_equal(st.var, var)
        np.testing.assert_array_equal(st.min, _take(S, np.zeros_like(count), count))
        np.testing.assert_array_equal(st.max, _take(S, count - 1, count))
        for q in (0.25, 0.5, 0.75):
            np.testing.assert_array_equal(st.quantile(q), _sorted_quantile(S, count, q))
        np.testing.assert_array_equal(st.trimmed_mean(0.2), t_mean)
        np.testing.assert_array_equal(st.mad(), mad)
        changes = (S[1:] != S[:-1]) & ~np.isnan(S[1:])
        if M.shape[0] > 1:
            np.testing.assert_array_equal(st.n_distinct, 1 + changes.sum(axis=0))


# ---------------------------------------------------------------------- Shapiro-Wilk
@pytest.mark.parametrize("n", [3, 4, 7, 11, 20, 21, 100, 475, 5000])
def test_shapiro_p_is_scipys(n):
    rng = np.random.default_rng(n)
    coefficients: dict[int, np.ndarray] = {}
    for values in (rng.normal(size=n), rng.exponential(size=n), np.round(rng.normal(size=n), 1) + 3,
                   rng.uniform(size=n) * 1e6):
        if values.min() == values.max():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = scipy.stats.shapiro(values).pvalue
        # twice: the coefficients are computed on the first call and reused on the second
        assert _shapiro_p(values, np.sort(values), coefficients) == expected
        assert _shapiro_p(values, np.sort(values), coefficients) == expected
