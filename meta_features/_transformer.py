"""A scikit-learn style transformer around :func:`meta_features.extract`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from meta_features._extract import MetaFeatureResult, extract

__all__ = ["MetaFeatureExtractor"]


class MetaFeatureExtractor:
    """Meta-features of a dataset as a one-row DataFrame.

    ``fit(X, y)`` extracts the meta-features of ``(X, y)``; ``transform()`` returns them as a
    one-row frame. Meta-features describe a whole labelled dataset, so ``transform(X, y)``
    with new data extracts the same features (same groups and summaries) from that data.

    Args:
        groups: Groups to extract; ``None`` means all.
        summary: Summaries of multi-valued features; ``None`` means the default.
        categorical: Mask or indices of categorical columns (see :func:`extract`).
        time_budget: Seconds per extraction, or ``None``.
        seed: Seed of every random choice.
        max_rows: Row subsample size of the costly groups.
        task: ``classification`` or ``regression`` (see :func:`extract`).

    Attributes:
        result_: The :class:`MetaFeatureResult` of the fitted data.
        feature_names_out_: The meta-feature names, in extraction order.
    """

    def __init__(self, groups: Sequence[str] | None = None, summary: Sequence[str] | None = None,
                 categorical: Any = None, time_budget: float | None = None, seed: int = 0,
                 max_rows: int = 10_000, task: str = "classification") -> None:
        self.groups = groups
        self.summary = summary
        self.categorical = categorical
        self.time_budget = time_budget
        self.seed = seed
        self.max_rows = max_rows
        self.task = task

    def _extract(self, X: Any, y: Any) -> MetaFeatureResult:
        return extract(X, y, groups=self.groups, categorical=self.categorical,
                       summary=self.summary, time_budget=self.time_budget, seed=self.seed,
                       max_rows=self.max_rows, task=self.task)

    def fit(self, X: Any, y: Any) -> MetaFeatureExtractor:
        """Extract the meta-features of ``(X, y)``; return ``self``."""
        self.result_ = self._extract(X, y)
        self.feature_names_out_ = list(self.result_)
        return self

    def transform(self, X: Any = None, y: Any = None) -> pd.DataFrame:
        """The fitted meta-features (or those of a new ``(X, y)``) as a one-row DataFrame."""
        from metakb.errors import ConfigError

        if not hasattr(self, "result_"):
            raise ConfigError("MetaFeatureExtractor is not fitted; call fit(X, y) first")
        if (X is None) != (y is None):
            # meta-features describe a labelled dataset: new X alone has none to give, and
            # answering with the fitted data's features would silently ignore it
            raise ConfigError("MetaFeatureExtractor.transform needs both X and y for new data, or neither "
                              f"for the fitted data's features; got X={'None' if X is None else 'data'}, "
                              f"y={'None' if y is None else 'data'}")
        result = self.result_ if y is None else self._extract(X, y)
        return pd.DataFrame([dict(result)], columns=list(result))

    def fit_transform(self, X: Any, y: Any) -> pd.DataFrame:
        """``fit(X, y).transform()``."""
        return self.fit(X, y).transform()

    def get_feature_names_out(self, input_features: Any = None) -> list[str]:
        """The names of the columns :meth:`transform` returns."""
        return list(self.feature_names_out_)
