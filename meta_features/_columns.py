"""Vectorised, missing-value aware statistics of every column of a matrix at once.

One sort per column serves the minimum, maximum, quartiles, trimmed mean and number of distinct
values; NaN values sort last, so a column with ``m`` present values uses its first ``m`` sorted
entries. All results are per column; a column with no present value gives NaN.

Most matrices have no missing value (:attr:`ColumnStats.complete`); the statistics then skip
their NaN handling (masks, ``nansum``, ``nan_to_num``, per-column positions), which on small
data costs more than the arithmetic. The fast paths do the same arithmetic on the same values,
so the results are identical.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

__all__ = ["ColumnStats"]


class ColumnStats:
    """Per-column statistics of ``M`` (``(n, p)`` floats, NaN for missing).

    Args:
        M: The matrix.
        sorted_columns: ``np.sort(M, axis=0)`` when already known (e.g. from another
            ColumnStats of the same values), to skip the sort.
    """

    def __init__(self, M: np.ndarray, sorted_columns: np.ndarray | None = None) -> None:
        self.M = M
        if sorted_columns is not None:
            self.__dict__["sorted"] = sorted_columns  # the cached_property's slot

    @cached_property
    def count(self) -> np.ndarray:
        """Present (non-missing) values per column."""
        return self.M.shape[0] - np.isnan(self.M).sum(axis=0)

    @cached_property
    def complete(self) -> bool:
        """True when no value is missing (and there is at least one row)."""
        return bool(self.M.shape[0] > 0 and (self.count == self.M.shape[0]).all())

    @cached_property
    def sorted(self) -> np.ndarray:
        return np.sort(self.M, axis=0)

    def quantile(self, q: float) -> np.ndarray:
        """Linear-interpolation quantile (numpy's default method) of the present values."""
        if self.complete:  # one position for all columns: the same arithmetic, as scalars
            s = self.sorted
            last = s.shape[0] - 1
            pos = q * last
            lo = int(np.floor(pos))
            hi = min(lo + 1, last)
            return s[lo] + (pos - lo) * (s[hi] - s[lo])
        return _sorted_quantile(self.sorted, self.count, q)

    @cached_property
    def mean(self) -> np.ndarray:
        if self.complete:  # nansum's sum without its NaN-replacing copy
            return np.add.reduce(self.M, axis=0) / self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nansum(self.M, axis=0) / self.count

    @cached_property
    def centred(self) -> np.ndarray:
        """``M`` minus its column means, with 0 where a value is missing."""
        d = self.M - self.mean
        if self.complete and np.isfinite(d).all():
            return d  # nothing for nan_to_num to replace
        return np.nan_to_num(d, nan=0.0)

    @cached_property
    def _squares(self) -> np.ndarray:
        return self.centred * self.centred

    def _moment(self, k: int) -> np.ndarray:
        """``k``-th central moment (k = 2, 3, 4), the sum over the present values divided by their number."""
        squares = self._squares
        powers = squares if k == 2 else squares * self.centred if k == 3 else squares * squares
        if self.complete:
            return powers.sum(axis=0) / self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            return powers.sum(axis=0) / self.count

    @cached_property
    def sum_squares(self) -> np.ndarray:
        """Sum of the squared deviations from the mean (the missing values left out)."""
        return self._squares.sum(axis=0)

    @cached_property
    def var(self) -> np.ndarray:
        """Sample variance, ddof=1 (NaN for fewer than two values)."""
        if self.complete and self.M.shape[0] > 1:
            return self.sum_squares / (self.count - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = self.sum_squares / (self.count - 1)
        return np.where(self.count > 1, v, np.nan)

    @cached_property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.var)

    @cached_property
    def min(self) -> np.ndarray:
        if self.complete:
            return self.sorted[0]
        return _take(self.sorted, np.zeros_like(self.count), self.count)

    @cached_property
    def max(self) -> np.ndarray:
        if self.complete:
            return self.sorted[-1]
        return _take(self.sorted, self.count - 1, self.count)

    @cached_property
    def q1(self) -> np.ndarray:
        return self.quantile(0.25)

    @cached_property
    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    @cached_property
    def q3(self) -> np.ndarray:
        return self.quantile(0.75)

    @cached_property
    def constant(self) -> np.ndarray:
        """True for columns with fewer than two distinct present values."""
        return ~(self.max > self.min)

    def standardised_moment(self, k: int) -> np.ndarray:
        """``m_k / s^k`` with ``s`` the ddof=1 standard deviation; NaN for constant columns."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self._moment(k) / self.sd**k
        return np.where(self.constant, np.nan, out) if self.constant.any() else out

    def trimmed_mean(self, cut: float) -> np.ndarray:
        """Mean after dropping ``int(cut * m)`` values from each end (as scipy's trim_mean)."""
        if self.complete:  # one k for all columns: the same sums, as rows of the cumsum
            n = self.M.shape[0]
            kk = int(np.floor(cut * n))
            cums = np.cumsum(self.sorted, axis=0)  # cums[i] = (zero-padded cums)[i + 1]
            upper = cums[n - kk - 1]
            return (upper - cums[kk - 1] if kk else upper) / (n - 2 * kk)
        k = np.floor(cut * self.count).astype(np.intp)
        cums = np.vstack([np.zeros((1, self.M.shape[1])), np.cumsum(np.nan_to_num(self.sorted), axis=0)])
        cols = np.arange(self.M.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return (cums[self.count - k, cols] - cums[k, cols]) / (self.count - 2 * k)

    @cached_property
    def n_distinct(self) -> np.ndarray:
        """Distinct present values per column."""
        s = self.sorted
        if s.shape[0] < 2:
            return self.count.copy()
        if self.complete:
            return 1 + (s[1:] != s[:-1]).sum(axis=0)
        changes = (s[1:] != s[:-1]) & ~np.isnan(s[1:])
        return np.where(self.count > 0, 1 + changes.sum(axis=0), 0)

    def mad(self, factor: float = 1.4826) -> np.ndarray:
        """Median absolute deviation from the median, times ``factor``."""
        deviations = np.abs(self.M - self.median)
        if self.complete:
            # the median needs two order statistics, not a sort: partition puts the very same
            # values at those positions (the interpolation below is ColumnStats.quantile's)
            last = deviations.shape[0] - 1
            pos = 0.5 * last
            lo = int(np.floor(pos))
            hi = min(lo + 1, last)
            part = np.partition(deviations, [lo, hi] if hi > lo else [lo], axis=0)
            return (part[lo] + (pos - lo) * (part[hi] - part[lo])) * factor
        return ColumnStats(deviations).median * factor


def _take(sorted_m: np.ndarray, rows: np.ndarray, count: np.ndarray) -> np.ndarray:
    cols = np.arange(sorted_m.shape[1])
    values = sorted_m[np.clip(rows, 0, max(sorted_m.shape[0] - 1, 0)), cols]
    return np.where(count > 0, values, np.nan)


def _sorted_quantile(sorted_m: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    pos = q * (count - 1).clip(min=0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, (count - 1).clip(min=0))
    low, high = _take(sorted_m, lo, count), _take(sorted_m, hi, count)
    return low + (pos - lo) * (high - low)
