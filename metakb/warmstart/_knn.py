"""kNN warm starting on normalised meta-features (auto-sklearn 1.0).

References:
    Feurer, Springenberg, Hutter (2015). Initializing Bayesian hyperparameter optimization via
    meta-learning. AAAI. Feurer et al. (2015). Efficient and robust automated machine learning.
    NeurIPS (the meta-learning step of auto-sklearn 1.0: L1 distance on min-max scaled
    meta-features, the best configuration of each of the k nearest datasets).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError
from metakb.params import StrOptions
from metakb.warmstart._base import COUNT, FEATURES, NeighbourWarmStarter, align_knowledge_base
from metakb.warmstart._features import SCALERS, MetaFeaturePreprocessor

__all__ = ["KNNWarmStarter", "METRICS"]

METRICS = ("l1", "l2", "cosine")


def pairwise_distance(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between the rows of ``a`` (n×d) and ``b`` (m×d), as an n×m array.

    ``cosine`` is ``1 - cos(angle)``; a zero vector is at distance 1 from everything.
    """
    if metric == "l1":
        return np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)
    if metric == "l2":
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    if metric == "cosine":
        na = np.linalg.norm(a, axis=1)[:, None]
        nb = np.linalg.norm(b, axis=1)[None, :]
        denom = na * nb
        cos = np.divide(a @ b.T, denom, out=np.zeros((a.shape[0], b.shape[0])), where=denom > 0)
        return 1.0 - cos
    raise ConfigError(f"The 'metric' parameter must be one of {list(METRICS)}. Got {metric!r} instead.")


class KNNWarmStarter(NeighbourWarmStarter):
    """Recommend the best configurations of the datasets nearest in meta-feature space.

    Args:
        n_neighbors: how many nearest datasets contribute configurations (auto-sklearn: all the
            ones needed for the requested number of configurations; here a fixed k, and further
            passes over the same k when more configurations are asked for than k).
        metric: ``l1`` (default, as auto-sklearn), ``l2`` or ``cosine``.
        features: meta-feature names to use (None: every meta-feature of the knowledge base).
        scaler: ``minmax`` (default), ``standard`` or ``none``; statistics of the training
            datasets only (see :mod:`metakb.warmstart._features`).
        log_transform: signed ``log1p`` of every meta-feature before scaling.

    Example:
        >>> import pandas as pd
        >>> mf = pd.DataFrame({"n": [1.0, 2.0, 10.0]}, index=["a", "b", "c"])
        >>> perf = pd.DataFrame({1: [0.9, 0.8, 0.1], 2: [0.5, 0.9, 0.7]}, index=["a", "b", "c"])
        >>> ws = KNNWarmStarter(n_neighbors=2).fit(mf, perf)
        >>> [r.configuration_id for r in ws.recommend({"n": 1.2}, n_configs=2)]
        [1, 2]
    """

    method = "knn-best"
    _parameter_constraints: dict[str, list[Any]] = {
        "n_neighbors": [COUNT],
        "metric": [StrOptions(METRICS)],
        "features": FEATURES,
        "scaler": [StrOptions(SCALERS)],
        "log_transform": ["boolean"],
    }

    def __init__(self, n_neighbors: int = 5, metric: str = "l1", features: Sequence[str] | None = None,
                 scaler: str = "minmax", log_transform: bool = False) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.features = features
        self.scaler = scaler
        self.log_transform = log_transform

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> KNNWarmStarter:
        """Scale the known datasets' meta-features and index their configurations by score.

        Raises:
            ConfigError: a parameter is out of range or names an unknown meta-feature.
            DataError: the frames share no dataset with a score, or no meta-feature varies.
        """
        self._validate_params()
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        self.preprocessor_ = MetaFeaturePreprocessor(self.features, self.scaler, self.log_transform)
        self.embedding_ = self.preprocessor_.fit(meta_features).transform(meta_features)
        self._fit_performance(performance, higher)
        return self

    def _distances(self, query: pd.Series | Mapping[str, float]) -> np.ndarray:
        vector = self.preprocessor_.transform(query)
        return pairwise_distance(vector, self.embedding_, self.metric)[0]
