"""The extraction context: the prepared data plus lazily computed shared intermediates.

Feature functions read what they need from a :class:`Context` (column statistics, the
covariance matrix, the discretised data, a fitted tree, cross-validation folds, ...). Each
intermediate is computed at most once per extraction (``functools.cached_property``), and a
context lives only for one call of :func:`meta_features.extract`: nothing is cached globally.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from meta_features._columns import ColumnStats
from meta_features._data import Prepared

__all__ = ["Context"]

T = TypeVar("T")


class Context:
    """Everything the feature functions of one extraction share.

    Args:
        data: The (possibly row-subsampled) prepared dataset.
        full: The full prepared dataset (the general group always describes it).
        seed: Seed of every random choice (folds, random attributes, column subsets).
        max_attr_pairs: Most numeric columns used by pairwise features (correlation,
            covariance, eigenvalues); wider data uses a seeded random subset of columns.
    """

    def __init__(self, data: Prepared, full: Prepared, *, seed: int = 0,
                 max_attr_pairs: int = 1000) -> None:
        self.data = data
        self.full = full
        self.seed = seed
        self.max_attr_pairs = max_attr_pairs
        self.reasons: dict[str, str] = {}
        self.notes: dict[str, object] = {}
        self.current: str = ""
        self._memo: dict[str, Any] = {}

    # ------------------------------------------------------------------ bookkeeping
    def undefined(self, reason: str) -> float:
        """Record why the feature being computed is undefined here and return NaN."""
        self.reasons[self.current] = reason
        return float("nan")

    def memo(self, key: str, factory: Callable[[], T]) -> T:
        """``factory()``, computed once per extraction and kept under ``key``."""
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]

    def rng(self, salt: int) -> np.random.Generator:
        """A generator of its own for one use (``salt`` keeps uses independent)."""
        return np.random.default_rng([self.seed, salt])

    # ------------------------------------------------------------------ views of the data
    @property
    def n(self) -> int:
        return self.data.n

    @property
    def task(self) -> str:
        """``regression`` when the data carry a float target, else ``classification``."""
        return "classification" if self.data.target is None else "regression"

    @property
    def target(self) -> np.ndarray:
        """The regression target of the (subsampled) rows; an error for a classification."""
        if self.data.target is None:
            raise ValueError("a classification dataset has no regression target")
        return self.data.target

    @cached_property
    def target_stats(self) -> ColumnStats:
        """Statistics of the regression target as a one-column matrix."""
        return ColumnStats(self.target[:, None])

    @cached_property
    def binned_target(self) -> np.ndarray:
        """The regression target discretised like a numeric attribute (codes ``0..k-1``).

        It is the class of the regression's information-theoretic features (``y_ent``,
        ``attr_y_mi``); the edges come from the sorted target of :attr:`target_stats`.
        """
        from meta_features._info_theory import _bin_codes

        return _bin_codes(self.target[:, None], self.target_stats.sorted)[:, 0]

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Instances per class of the (subsampled) data, classes in code order."""
        return np.bincount(self.data.y, minlength=len(self.data.classes)).astype(float)

    @cached_property
    def numeric(self) -> np.ndarray:
        """The numeric columns (NaN for missing)."""
        return self.data.X[:, ~self.data.categorical]

    @cached_property
    def full_stats(self) -> ColumnStats:
        """Statistics of every column of the full data (the general group's)."""
        return ColumnStats(self.full.X)

    @cached_property
    def all_stats(self) -> ColumnStats:
        """Statistics of every column of the rows used (the full data's when not subsampled)."""
        return self.full_stats if self.data is self.full else ColumnStats(self.data.X)

    @cached_property
    def numeric_stats(self) -> ColumnStats:
        """Statistics of the numeric columns.

        With no categorical column they share the sorted columns of :attr:`all_stats` (sorting
        is exact, so nothing changes but the cost); sums are still taken over :attr:`numeric`
        itself, whose values numpy may round differently from another array's by alignment.
        """
        if not self.data.categorical.any():
            return ColumnStats(self.numeric, sorted_columns=self.all_stats.sorted)
        return ColumnStats(self.numeric)

    @cached_property
    def numeric_imputed(self) -> np.ndarray:
        """Numeric columns with each missing value replaced by its column's mean (0 if none)."""
        return _impute_mean(self.numeric, self.numeric_stats.mean)

    @cached_property
    def pair_columns(self) -> np.ndarray:
        """Indices (into :attr:`numeric`) of the columns used by pairwise features."""
        p = self.numeric.shape[1]
        if p <= self.max_attr_pairs:
            return np.arange(p)
        self.notes["subsampled_attrs"] = self.max_attr_pairs
        return np.sort(self.rng(1).choice(p, self.max_attr_pairs, replace=False))

    @cached_property
    def cov(self) -> np.ndarray:
        """Sample covariance (ddof=1) of the imputed numeric columns in :attr:`pair_columns`."""
        N = self.numeric_imputed[:, self.pair_columns]
        centred = N - N.mean(axis=0)
        return centred.T @ centred / max(self.n - 1, 1)

    @cached_property
    def abs_corr(self) -> np.ndarray:
        """Absolute Pearson correlations; NaN where a column is constant."""
        sd = np.sqrt(np.diag(self.cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = self.cov / np.outer(sd, sd)
        corr[:, sd <= 0] = np.nan
        corr[sd <= 0, :] = np.nan
        return np.clip(np.abs(corr), 0.0, 1.0)

    @cached_property
    def discretised(self) -> np.ndarray:
        """All attributes as small non-negative integers (-1 for missing); see _info_theory.

        The bin edges are read from the sorted columns of :attr:`all_stats`, which the
        statistical group shares.
        """
        from meta_features._info_theory import _bin_codes, discretise

        if self.n and not self.data.categorical.any():  # every column numeric: binned as is
            return _bin_codes(self.data.X, self.all_stats.sorted)
        return discretise(self.data.X, self.data.categorical, sorted_columns=self.all_stats.sorted)


def _impute_mean(N: np.ndarray, means: np.ndarray) -> np.ndarray:
    missing = np.isnan(N)
    if not missing.any():
        return N
    filled = np.where(np.isnan(means), 0.0, means)
    return np.where(missing, filled[None, :], N)
