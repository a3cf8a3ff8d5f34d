"""The contract of every warm starter, and the neighbour-based recommendation they share.

A *warm starter* learns from a knowledge base which configurations to try first on a new
dataset. Contract (scikit-learn estimator conventions):

* ``__init__`` only stores its parameters (validated in :meth:`BaseWarmStarter.fit`).
* ``fit(meta_features, performance, higher_is_better=None)`` learns from the knowledge base and
  returns ``self``. ``meta_features`` is a frame indexed by dataset name with one column per
  meta-feature (NaN allowed); ``performance`` is a frame indexed by dataset name with one column
  per configuration id (NaN: the evaluation failed or is missing). Only datasets present in
  both frames with at least one score are used. ``higher_is_better`` defaults to
  ``performance.attrs['higher_is_better']`` (as :meth:`KnowledgeBase.performance_matrix` sets
  it), else True. Learned state ends in ``_``.
* ``recommend(query, n_configs=5, exclude=(), exclude_datasets=())`` returns at most
  ``n_configs`` :class:`Recommendation` objects, ranked 1..n, without duplicates, each with its
  provenance (:class:`Source`: the past dataset that suggested it, how far that dataset is from
  the query, the configuration's score and rank there).

Subclasses of :class:`NeighbourWarmStarter` only say how far the query is from every known
dataset (:meth:`NeighbourWarmStarter._distances`); turning distances into a ranked list is the
auto-sklearn 1.0 rule, implemented once here.

References:
    Feurer, Springenberg, Hutter (2015). Initializing Bayesian hyperparameter optimization via
    meta-learning. AAAI.
"""

from __future__ import annotations

import abc
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError
from metakb.params import Interval, ParamsMixin, Predicate, validate_params

__all__ = ["BaseWarmStarter", "NeighbourWarmStarter", "Recommendation", "Source", "normalised_scores",
           "SupportIndex"]


@dataclass(frozen=True)
class Source:
    """Why a configuration was recommended: one past dataset on which it did well.

    Attributes:
        dataset: the past dataset's name.
        distance: its distance to the query (in the warm starter's metric or embedding).
        score: the configuration's score on it (the performance matrix's metric).
        rank: the configuration's rank among that dataset's scored configurations (1 = best).
        neighbour: 1 for the nearest dataset, 2 for the next, ...
        scaled_distance: ``distance`` divided by the warm starter's typical neighbour distance
            (:meth:`NeighbourWarmStarter.typical_distance`): 1.0 is as close as a typical known
            dataset is to its own nearest neighbour, 2.0 twice as far. None when unknown.
    """

    dataset: str
    distance: float
    score: float
    rank: int
    neighbour: int
    scaled_distance: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {"dataset": self.dataset, "distance": float(self.distance), "score": float(self.score),
                "rank": int(self.rank), "neighbour": int(self.neighbour),
                "scaled_distance": None if self.scaled_distance is None else float(self.scaled_distance)}


@dataclass(frozen=True)
class Recommendation:
    """One recommended configuration.

    Attributes:
        configuration_id: the configuration's id (a column of the performance matrix).
        rank: its position in the recommendation list (1 = try first).
        sources: provenance; ``sources[0]`` is the neighbour that contributed it, the others are
            the remaining neighbours (nearest first) on which it was also evaluated.
        method: the warm starter that produced it (``knn``, ``siamese``, ...).
        predicted_score: for aggregating and model-based warm starters, the score they rank
            by: a predicted normalised score (1 = as good as a dataset's best configuration,
            0 = as bad as its worst) for ``knn``, ``rf-model``, ``cf``; a mean win probability for
            ``pairwise-model``; a raw predicted score for ``rf-selector``. None for the
            round-robin neighbour rules.
        evaluated: False for a configuration the model proposed that was never evaluated on any
            dataset of the knowledge base (a candidate sampled from the space).
    """

    configuration_id: int
    rank: int
    sources: list[Source] = field(default_factory=list)
    method: str = ""
    predicted_score: float | None = None
    evaluated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        out: dict[str, Any] = {"configuration_id": int(self.configuration_id), "rank": int(self.rank),
                               "method": self.method, "sources": [s.to_dict() for s in self.sources]}
        if self.predicted_score is not None:
            out["predicted_score"] = float(self.predicted_score)
        if not self.evaluated:
            out["evaluated"] = False
        return out


def _is_names(value: Any) -> bool:
    return (not isinstance(value, (str, bytes, Mapping)) and isinstance(value, Iterable)
            and all(isinstance(v, str) for v in value))


#: Shared constraints of the warm starters' tables (:mod:`metakb.params`).
FEATURES = [None, Predicate(_is_names, "a list of meta-feature names (str)")]
COUNT = Interval(numbers.Integral, 1, None, closed="left")  # a count of at least one
SIZE = Interval(numbers.Integral, 0, None, closed="left")  # a count that may be zero
#: a scikit-learn ``random_state``: None or an int it accepts.
SKLEARN_SEED = [None, Interval(numbers.Integral, 0, 2**32 - 1, closed="both")]
#: ``n_jobs`` of scikit-learn: None, or an int other than 0 (-1: every core).
N_JOBS = [None, Predicate(lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and v != 0,
                          "an int other than 0 (-1: every core)")]


def _check_int(name: str, owner: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"The {name!r} parameter of {owner} must be an int in the range "
                          f"[{low}, inf). Got {value!r} instead.")
    return int(value)


class BaseWarmStarter(ParamsMixin, abc.ABC):
    """Abstract warm starter: ``fit`` on a knowledge base, ``recommend`` for a new dataset."""

    #: short name used in reports and ``--method``.
    method: str = ""
    #: every constructor parameter -> its accepted values (:mod:`metakb.params`), checked by ``fit``.
    _parameter_constraints: dict[str, list[Any]] = {}

    def _validate_params(self) -> None:
        """Check the parameters against ``_parameter_constraints`` (ConfigError in scikit-learn's
        wording: "The 'n_neighbors' parameter of KNNWarmStarter must be an int in the range
        [1, inf). Got 0 instead.")."""
        validate_params(self)

    @abc.abstractmethod
    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> BaseWarmStarter:
        """Learn from the knowledge base; return ``self``."""

    @abc.abstractmethod
    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = ()) -> list[Recommendation]:
        """Ranked configurations to try first on the dataset described by ``query``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def align_knowledge_base(meta_features: pd.DataFrame, performance: pd.DataFrame,
                         higher_is_better: bool | None) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Keep the datasets present in both frames with at least one score; fix the direction."""
    if not isinstance(meta_features, pd.DataFrame) or not isinstance(performance, pd.DataFrame):
        raise DataError("meta_features and performance must be pandas DataFrames indexed by dataset name, "
                        f"got {type(meta_features).__name__} and {type(performance).__name__}")
    if higher_is_better is None:
        higher_is_better = bool(performance.attrs.get("higher_is_better", True))
    performance = performance.apply(pd.to_numeric, errors="coerce").astype(float)
    performance = performance.loc[performance.notna().any(axis=1)]
    common = [d for d in performance.index if d in meta_features.index]
    if len(common) < 1:
        raise DataError("meta_features and performance share no dataset with a score; "
                        f"meta-features of {len(meta_features)} datasets, scores of {len(performance)}")
    return meta_features.loc[common].astype(float), performance.loc[common], bool(higher_is_better)


class NeighbourWarmStarter(BaseWarmStarter):
    """Shared machinery: rank the known datasets by distance, then take their best configurations.

    Subclasses set ``performance_``, ``higher_is_better_``, ``datasets_`` in ``fit`` (call
    :meth:`_fit_performance`) and implement :meth:`_distances`.
    """

    n_neighbors: int

    @abc.abstractmethod
    def _distances(self, query: pd.Series | Mapping[str, float]) -> np.ndarray:
        """Distance from the query to every dataset of ``datasets_`` (same order)."""

    def _fit_performance(self, performance: pd.DataFrame, higher_is_better: bool) -> None:
        """Precompute each dataset's configurations from best to worst (NaN never listed)."""
        self.performance_ = performance
        self.higher_is_better_ = higher_is_better
        self.datasets_ = list(performance.index)
        values = performance.to_numpy(dtype=float)
        oriented = values if higher_is_better else -values
        ranks = pd.DataFrame(oriented).rank(axis=1, ascending=False, method="min").to_numpy()
        self._ranks = ranks
        self._values = values
        self._order = []
        columns = np.asarray(performance.columns)
        for row in range(values.shape[0]):
            scored = np.flatnonzero(~np.isnan(values[row]))
            # best first; ties broken by configuration id for determinism
            keys = np.lexsort((columns[scored], -oriented[row, scored]))
            self._order.append(scored[keys])

    def nearest_known_distances(self) -> np.ndarray | None:
        """Each known dataset's distance to its nearest other known dataset (in the same metric
        or embedding); None with fewer than 2 known datasets or without an ``embedding_``."""
        from metakb.warmstart._knn import pairwise_distance

        self._check_fitted()
        embedding = getattr(self, "embedding_", None)
        if embedding is None or len(embedding) < 2:
            return None
        distances = pairwise_distance(np.asarray(embedding), np.asarray(embedding), getattr(self, "metric", "l2"))
        np.fill_diagonal(distances, np.inf)
        return np.asarray(distances.min(axis=1))

    def typical_distance(self) -> float | None:
        """The unit for reading distances: the median, over the known datasets, of each one's
        distance to its nearest other known dataset (in the same metric or embedding).

        Raw distances depend on the number of meta-features and the metric (18-168 on the shipped
        knowledge base); divided by this they read the same way everywhere. None with fewer than
        2 known datasets, without an ``embedding_``, or when the typical distance is 0.
        """
        nearest = self.nearest_known_distances()
        if nearest is None:
            return None
        typical = float(np.median(nearest))
        return typical if np.isfinite(typical) and typical > 0 else None

    def neighbours(self, query: pd.Series | Mapping[str, float],
                   exclude_datasets: Iterable[str] = ()) -> list[tuple[str, float]]:
        """All known datasets as ``(name, distance)``, nearest first (ties by name)."""
        self._check_fitted()
        distances = self._distances(query)
        excluded = set(exclude_datasets)
        pairs = [(name, float(d)) for name, d in zip(self.datasets_, distances, strict=True) if name not in excluded]
        return sorted(pairs, key=lambda p: (p[1], p[0]))

    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = ()) -> list[Recommendation]:
        """Configurations to try first, as auto-sklearn 1.0 picks them.

        The best configuration of the nearest dataset comes first, then the best of the second
        nearest, and so on over the ``n_neighbors`` nearest datasets. When a neighbour's best
        configuration is already taken (or excluded) its next best is used instead, so every
        neighbour contributes one new configuration per pass. If ``n_configs`` is larger than
        the number of neighbours, further passes take each neighbour's next best in the same
        order, until ``n_configs`` are found or the neighbours have none left.

        Args:
            query: meta-features of the new dataset (a Series or mapping name -> value; missing
                or NaN values are imputed as in ``fit``).
            n_configs: how many configurations to return (at most).
            exclude: configuration ids never to recommend (e.g. already evaluated).
            exclude_datasets: known datasets not to use as neighbours (e.g. the query itself).

        Returns:
            Up to ``n_configs`` recommendations, rank 1 first.
        """
        n_configs = _check_int("n_configs", type(self).__name__, n_configs, 1)
        near = self.neighbours(query, exclude_datasets)[: self.n_neighbors]
        if not near:
            raise DataError("no dataset is left to take recommendations from after exclude_datasets; "
                            f"{len(self.datasets_)} known")
        taken: set[int] = {int(c) for c in exclude}
        picked: list[tuple[int, int]] = []  # (configuration id, neighbour position)
        cursors = [0] * len(near)
        index = {name: i for i, name in enumerate(self.datasets_)}
        columns = np.asarray(self.performance_.columns)
        while len(picked) < n_configs:
            progressed = False
            for pos, (name, _) in enumerate(near):
                order = self._order[index[name]]
                while cursors[pos] < len(order) and int(columns[order[cursors[pos]]]) in taken:
                    cursors[pos] += 1
                if cursors[pos] == len(order):
                    continue
                config = int(columns[order[cursors[pos]]])
                taken.add(config)
                picked.append((config, pos))
                progressed = True
                if len(picked) == n_configs:
                    break
            if not progressed:
                break
        typical = self.typical_distance()
        return [Recommendation(configuration_id=config, rank=i + 1, method=self.method,
                               sources=self._sources(config, pos, near, index, typical))
                for i, (config, pos) in enumerate(picked)]

    def _sources(self, config: int, contributor: int, near: list[tuple[str, float]],
                 index: dict[str, int], typical: float | None = None) -> list[Source]:
        column = self.performance_.columns.get_loc(config)
        out = []
        positions = [contributor] + [p for p in range(len(near)) if p != contributor]
        for pos in positions:
            name, distance = near[pos]
            row = index[name]
            value = self._values[row, column]
            if np.isnan(value):
                continue
            out.append(Source(dataset=name, distance=distance, score=float(value),
                              rank=int(self._ranks[row, column]), neighbour=pos + 1,
                              scaled_distance=None if typical is None else distance / typical))
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "performance_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet; call fit(meta_features, performance) first")


def normalised_scores(performance: pd.DataFrame, higher_is_better: bool) -> np.ndarray:
    """Per-dataset normalised scores in [0, 1]: 1 = the dataset's best configuration, 0 = its worst.

    This is ``1 - normalised regret`` of every single configuration (see
    :func:`metakb.warmstart.evaluate.normalised_regret`), the quantity the model-based warm
    starters learn. NaN cells stay NaN; a dataset whose scored configurations are all equal gets
    0.5 everywhere (it cannot tell them apart).
    """
    values = performance.to_numpy(dtype=float)
    oriented = values if higher_is_better else -values
    with np.errstate(all="ignore"):
        low = np.nanmin(np.where(np.isnan(oriented), np.inf, oriented), axis=1, keepdims=True)
        high = np.nanmax(np.where(np.isnan(oriented), -np.inf, oriented), axis=1, keepdims=True)
        span = high - low
        out = np.where(span > 0, (oriented - low) / np.where(span > 0, span, 1.0), 0.5)
    return np.where(np.isnan(oriented), np.nan, out)


class SupportIndex:
    """Provenance of model-based recommendations: the nearest datasets that evaluated a configuration.

    L1 distance on min-max scaled meta-features (the kNN metric), so a model's recommendation
    comes with the evaluations closest to the query that support (or contradict) it.
    """

    def __init__(self, meta_features: pd.DataFrame, performance: pd.DataFrame, higher_is_better: bool,
                 n_support: int = 3) -> None:
        from metakb.warmstart._features import MetaFeaturePreprocessor

        self.preprocessor = MetaFeaturePreprocessor().fit(meta_features)
        self.embedding = self.preprocessor.transform(meta_features)
        self.datasets = list(performance.index)
        self.columns = {int(c): j for j, c in enumerate(performance.columns)}
        self.values = performance.to_numpy(dtype=float)
        oriented = self.values if higher_is_better else -self.values
        self.ranks = pd.DataFrame(oriented).rank(axis=1, ascending=False, method="min").to_numpy()
        self.n_support = n_support

    def order(self, query: pd.Series | Mapping[str, float],
              exclude_datasets: Iterable[str] = ()) -> list[tuple[int, float]]:
        """``(row, distance)`` of every known dataset, nearest first (ties by name)."""
        vector = self.preprocessor.transform(query)
        distances = np.abs(self.embedding - vector).sum(axis=1)
        excluded = set(exclude_datasets)
        rows = [i for i, name in enumerate(self.datasets) if name not in excluded]
        rows.sort(key=lambda i: (distances[i], self.datasets[i]))
        return [(i, float(distances[i])) for i in rows]

    def sources(self, config: int, near: list[tuple[int, float]]) -> list[Source]:
        """Up to ``n_support`` of the nearest datasets on which ``config`` has a score."""
        out: list[Source] = []
        column = self.columns.get(int(config))
        if column is None:
            return out
        for position, (row, distance) in enumerate(near):
            value = self.values[row, column]
            if np.isnan(value):
                continue
            out.append(Source(dataset=self.datasets[row], distance=distance, score=float(value),
                              rank=int(self.ranks[row, column]), neighbour=position + 1))
            if len(out) == self.n_support:
                break
        return out
