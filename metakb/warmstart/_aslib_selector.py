"""The ASlib reference selector: one random-forest regressor per algorithm on the instance features.

For every configuration (an ASlib algorithm) a forest learns its raw score (PAR10 runtime, or
the scenario's measure) from the instance features of the training instances that scored it;
a new instance gets the configurations of best predicted score. This is the standard
per-algorithm regression baseline of algorithm selection (LLAMA's ``regression`` with a random
forest, as in the ASlib paper's baselines), used here as a reference arm: a strong selector
that models each algorithm separately, with no shared structure between algorithms.

References:
    Bischl et al. (2016). ASlib: a benchmark library for algorithm selection. Artificial
    Intelligence 237 (the regression baselines). Kotthoff (2013). LLAMA: leveraging learning to
    automatically manage algorithms. arXiv:1306.1031. Breiman (2001). Random forests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError
from metakb.warmstart._base import (
    COUNT,
    N_JOBS,
    SIZE,
    SKLEARN_SEED,
    BaseWarmStarter,
    Recommendation,
    SupportIndex,
    _check_int,
    align_knowledge_base,
)
from metakb.warmstart._features import MetaFeaturePreprocessor

__all__ = ["RFSelectorWarmStarter"]


class RFSelectorWarmStarter(BaseWarmStarter):
    """One ``RandomForestRegressor`` per configuration; recommend the best predictions.

    Args:
        n_estimators: trees per forest.
        min_samples_leaf: smallest leaf.
        n_support: nearest supporting evaluations listed per recommendation.
        seed: seeds every forest.
        n_jobs: parallel jobs of each forest.

    Attributes:
        models_: configuration id -> fitted forest (a constant when it has one training score).
    """

    method = "rf-selector"
    _parameter_constraints: dict[str, list[Any]] = {
        "n_estimators": [COUNT],
        "min_samples_leaf": [COUNT],
        "n_support": [SIZE],
        "seed": SKLEARN_SEED,
        "n_jobs": N_JOBS,
    }

    def __init__(self, n_estimators: int = 100, min_samples_leaf: int = 1, n_support: int = 3,
                 seed: int | None = 0, n_jobs: int | None = 1) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.n_support = n_support
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> RFSelectorWarmStarter:
        """Train one forest per configuration on its scored datasets; return ``self``.

        Raises:
            ConfigError: a parameter is out of range.
            DataError: the frames share no dataset with a score.
        """
        from sklearn.ensemble import RandomForestRegressor

        self._validate_params()
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        self.performance_ = performance
        self.higher_is_better_ = higher
        self.configurations_ = [int(c) for c in performance.columns]
        self.preprocessor_ = MetaFeaturePreprocessor(scaler="none").fit(meta_features)
        features = self.preprocessor_.transform(meta_features)
        self.models_: dict[int, RandomForestRegressor | float] = {}
        for config in self.configurations_:
            target = performance[config].to_numpy(dtype=float)
            scored = ~np.isnan(target)
            if scored.sum() < 2:
                self.models_[config] = float(np.nanmean(target)) if scored.any() else float("nan")
                continue
            self.models_[config] = RandomForestRegressor(
                n_estimators=int(self.n_estimators), min_samples_leaf=int(self.min_samples_leaf),
                random_state=None if self.seed is None else int(self.seed), n_jobs=self.n_jobs,
            ).fit(features[scored], target[scored])
        self.support_ = SupportIndex(meta_features, performance, higher, int(self.n_support))
        return self

    def predict_scores(self, query: pd.Series | Mapping[str, float]) -> pd.Series:
        """Predicted raw score of every configuration on the query (the matrix's direction)."""
        if not hasattr(self, "models_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet; call fit(meta_features, performance) first")
        x = self.preprocessor_.transform(query)
        return pd.Series({c: float(m) if isinstance(m, float) else float(m.predict(x)[0])
                          for c, m in self.models_.items()})

    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = ()) -> list[Recommendation]:
        """The ``n_configs`` configurations of best predicted score (ties by id; a configuration
        never scored in training last). ``exclude_datasets`` only affects the provenance."""
        n_configs = _check_int("n_configs", type(self).__name__, n_configs, 1)
        scores = self.predict_scores(query)
        oriented = scores if self.higher_is_better_ else -scores
        oriented = oriented.fillna(-np.inf)
        taken = {int(c) for c in exclude}
        order = sorted((c for c in oriented.index if c not in taken), key=lambda c: (-oriented[c], c))[:n_configs]
        near = self.support_.order(query, exclude_datasets)
        return [Recommendation(configuration_id=int(c), rank=i + 1, method=self.method,
                               sources=self.support_.sources(int(c), near), predicted_score=float(scores[c]))
                for i, c in enumerate(order)]
