"""kNN that aggregates: rank configurations by their weighted mean normalised score on the neighbours.

The auto-sklearn 1.0 rule (:class:`~metakb.warmstart.KNNWarmStarter`, ``knn-best``) takes the
single best configuration of each nearest dataset in turn, so one noisy neighbour decides a whole
slot. Aggregating instead scores every configuration by the distance-weighted mean of its
per-dataset *normalised* score (1 = that dataset's best configuration, 0 = its worst) over the
k nearest datasets, and recommends the configurations of highest mean: a configuration that is
good on most neighbours beats one that is best on one and poor on the rest.

Weights are ``1 / (distance + eps)``; a configuration without a score on a neighbour is averaged
over the neighbours that scored it (and ranks after every scored one when no neighbour scored
it). Ties are broken by configuration id.

References:
    Feurer, Springenberg, Hutter (2015). Initializing Bayesian hyperparameter optimization via
    meta-learning. AAAI (the nearest datasets in meta-feature space). Wistuba, Schilling,
    Schmidt-Thieme (2015). Learning hyperparameter optimization initializations. IEEE DSAA
    (ranking configurations by their aggregated performance on similar datasets).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import DataError
from metakb.params import Interval
from metakb.warmstart._base import Recommendation, _check_int, normalised_scores
from metakb.warmstart._knn import KNNWarmStarter

__all__ = ["AggregatingKNNWarmStarter", "weighted_mean_scores"]


def weighted_mean_scores(scores: np.ndarray, distances: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Distance-weighted mean of every column of ``scores`` (neighbours × configurations).

    Weights ``1 / (distance + eps)``; NaN cells are left out of their column's mean; a column
    without any score gives NaN.
    """
    weights = 1.0 / (np.asarray(distances, dtype=float) + eps)
    present = ~np.isnan(scores)
    total = (np.where(present, scores, 0.0) * weights[:, None]).sum(axis=0)
    mass = (present * weights[:, None]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, total / np.where(mass > 0, mass, 1.0), np.nan)


class AggregatingKNNWarmStarter(KNNWarmStarter):
    """Recommend the configurations of highest distance-weighted mean normalised score over the
    ``n_neighbors`` nearest datasets.

    Args:
        n_neighbors: nearest datasets averaged over (default 10: an average needs more
            neighbours than a round-robin of their winners; fixed before any benchmark run).
        metric, features, scaler, log_transform: the neighbour search, as for
            :class:`~metakb.warmstart.KNNWarmStarter`.
        eps: added to distances before inverting them (a query identical to a known dataset
            gets almost all the weight there).

    Example:
        >>> import pandas as pd
        >>> mf = pd.DataFrame({"n": [0.0, 1.0, 10.0]}, index=["a", "b", "c"])
        >>> perf = pd.DataFrame({1: [1.0, 0.0, 0.0], 2: [0.9, 1.0, 0.0], 3: [0.0, 0.5, 1.0]},
        ...                     index=["a", "b", "c"])
        >>> ws = AggregatingKNNWarmStarter(n_neighbors=2).fit(mf, perf)
        >>> [r.configuration_id for r in ws.recommend({"n": 0.5}, n_configs=3)]
        [2, 1, 3]
    """

    method = "knn"
    _parameter_constraints: dict[str, list[Any]] = {
        **KNNWarmStarter._parameter_constraints,
        "eps": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, n_neighbors: int = 10, metric: str = "l1", features: Sequence[str] | None = None,
                 scaler: str = "minmax", log_transform: bool = False, eps: float = 1e-6) -> None:
        super().__init__(n_neighbors=n_neighbors, metric=metric, features=features, scaler=scaler,
                         log_transform=log_transform)
        self.eps = eps

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> AggregatingKNNWarmStarter:
        """As :meth:`KNNWarmStarter.fit`, plus every dataset's normalised scores."""
        super().fit(meta_features, performance, higher_is_better)
        self.normalised_ = normalised_scores(self.performance_, self.higher_is_better_)
        return self

    def aggregate(self, query: pd.Series | Mapping[str, float],
                  exclude_datasets: Iterable[str] = ()) -> tuple[pd.Series, list[tuple[str, float]]]:
        """Every configuration's weighted mean normalised score (NaN: no neighbour scored it), and
        the neighbours used, nearest first."""
        near = self.neighbours(query, exclude_datasets)[: self.n_neighbors]
        if not near:
            raise DataError("no dataset is left to take recommendations from after exclude_datasets; "
                            f"{len(self.datasets_)} known")
        index = {name: i for i, name in enumerate(self.datasets_)}
        rows = [index[name] for name, _ in near]
        means = weighted_mean_scores(self.normalised_[rows], np.array([d for _, d in near]), float(self.eps))
        return pd.Series(means, index=[int(c) for c in self.performance_.columns]), near

    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = ()) -> list[Recommendation]:
        """The ``n_configs`` configurations of highest aggregated score (see the class doc).

        ``predicted_score`` of each recommendation is its weighted mean normalised score;
        ``sources`` are the neighbours on which it was scored, nearest first.
        """
        n_configs = _check_int("n_configs", type(self).__name__, n_configs, 1)
        means, near = self.aggregate(query, exclude_datasets)
        taken = {int(c) for c in exclude}
        keys = [(-(v if np.isfinite(v) else -np.inf), c) for c, v in means.items() if c not in taken]
        picked = [c for _, c in sorted(keys)[:n_configs]]
        index = {name: i for i, name in enumerate(self.datasets_)}
        typical = self.typical_distance()  # distances read in typical neighbour distances (#23 item 17)
        return [Recommendation(configuration_id=c, rank=i + 1, method=self.method,
                               sources=self._sources(c, 0, near, index, typical),
                               predicted_score=None if not np.isfinite(means[c]) else float(means[c]))
                for i, c in enumerate(picked)]
