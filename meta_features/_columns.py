"""Vectorised, missing-value aware statistics of every column of a matrix at once.

One sort per column serves the minimum, maximum, quartiles, trimmed mean and number of distinct
values; NaN values sort last, so a column with ``m`` present values uses its first ``m`` sorted
entries. All results are per column; a column with no present value gives NaN.
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
        return (~np.isnan(self.M)).sum(axis=0)

    @cached_property
    def sorted(self) -> np.ndarray:
        return np.sort(self.M, axis=0)

    def quantile(self, q: float) -> np.ndarray:
        """Linear-interpolation quantile (numpy's default method) of the present values."""
        return _sorted_quantile(self.sorted, self.count, q)

    @cached_property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nansum(self.M, axis=0) / self.count

    @cached_property
    def centred(self) -> np.ndarray:
        """``M`` minus its column means, with 0 where a value is missing."""
        return np.nan_to_num(self.M - self.mean, nan=0.0)

    @cached_property
    def _squares(self) -> np.ndarray:
        return self.centred * self.centred

    def _moment(self, k: int) -> np.ndarray:
        powers = {2: lambda: self._squares, 3: lambda: self._squares * self.centred,
                  4: lambda: self._squares * self._squares}
        with np.errstate(invalid="ignore", divide="ignore"):
            return powers[k]().sum(axis=0) / self.count

    @cached_property
    def var(self) -> np.ndarray:
        """Sample variance, ddof=1 (NaN for fewer than two values)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            v = self._squares.sum(axis=0) / (self.count - 1)
        return np.where(self.count > 1, v, np.nan)

    @cached_property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.var)

    @cached_property
    def min(self) -> np.ndarray:
        return _take(self.sorted, np.zeros_like(self.count), self.count)

    @cached_property
    def max(self) -> np.ndarray:
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
        return np.where(self.constant, np.nan, out)

    def trimmed_mean(self, cut: float) -> np.ndarray:
        """Mean after dropping ``int(cut * m)`` values from each end (as scipy's trim_mean)."""
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
        changes = (s[1:] != s[:-1]) & ~np.isnan(s[1:])
        return np.where(self.count > 0, 1 + changes.sum(axis=0), 0)

    def mad(self, factor: float = 1.4826) -> np.ndarray:
        """Median absolute deviation from the median, times ``factor``."""
        deviations = ColumnStats(np.abs(self.M - self.median))
        return deviations.median * factor


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
