"""Learned performance models: predict a configuration's normalised score from the dataset's meta-features.

Two warm starters learn one model over *every cell* of the knowledge base's matrix instead of
copying neighbours' winners:

* :class:`PerformanceModelWarmStarter` (``rf-model``): a random-forest regressor on
  ``[meta-features of the dataset ⊕ encoding of the configuration] -> normalised score`` (1 = the
  dataset's best configuration, 0 = its worst); the top predicted configurations are recommended.
* :class:`PairwiseModelWarmStarter` (``pairwise-model``): a gradient-boosting classifier on
  ``[meta-features ⊕ encoding of a ⊕ encoding of b] -> P(a beats b)``, trained on sampled pairs
  of configurations of the same dataset (both orders), so only the order within a dataset is
  learnt, never the dataset's difficulty; a configuration's score is its mean predicted
  probability of beating every other one.

Inputs, fixed before any benchmark run (no tuning on held-out datasets):

* meta-features: the shared preparation (median imputation of NaN, signed ``log1p``,
  standardisation with training statistics, clipping; :mod:`metakb.warmstart._features`), then
  the first ``n_components`` principal components -- a tree needs few dense inputs, and with
  hundreds of raw meta-features a forest that samples a third of the inputs per split would
  rarely see the configuration's own columns;
* configuration encoding: the configuration's mean normalised score over the training datasets
  and its first ``n_latent`` right singular vectors (scaled by the singular values) of the
  column-centred training matrix -- an *empirical* encoding that needs no hyperparameter
  values, so the same model serves CASH spaces and ASlib algorithms alike.

The model cannot "forget" a training dataset, so ``exclude_datasets`` of :meth:`recommend`
only removes that dataset from the provenance; hold a dataset out by fitting without it.
Provenance (``Recommendation.sources``) lists the ``n_support`` nearest datasets (L1 on
min-max scaled meta-features) on which the configuration was evaluated, with its score and rank
there; ``Recommendation.predicted_score`` is the model's prediction.

References:
    Fusi, Sheth, Elibol (2018). Probabilistic matrix factorization for automated machine
    learning. NeurIPS (why a model over the whole matrix beats neighbour copying).
    Öztürk, Zela, Hutter et al. (2022). Zero-shot AutoML with pretrained models. ICML (a
    surrogate on [meta-features ⊕ configuration] trained with a pairwise ranking objective).
    Breiman (2001). Random forests. Machine Learning 45.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError
from metakb.params import Interval
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
    normalised_scores,
)
from metakb.warmstart._features import MetaFeaturePreprocessor

__all__ = ["PerformanceModelWarmStarter", "PairwiseModelWarmStarter", "configuration_encoding",
           "MetaFeatureProjection"]


def configuration_encoding(normalised: np.ndarray, n_latent: int) -> np.ndarray:
    """Empirical encoding of every configuration (column) of a normalised score matrix.

    Column 0 is the configuration's mean normalised score; the next ``n_latent`` columns are
    its right singular vectors scaled by the singular values (divided by sqrt(n_datasets)) of
    the column-centred matrix, NaN cells filled with the column mean first. Fewer columns when
    the matrix has lower rank.
    """
    means = np.nanmean(np.where(np.isnan(normalised).all(axis=0), 0.0, normalised), axis=0)
    filled = np.where(np.isnan(normalised), means[None, :], normalised)
    centred = filled - means[None, :]
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    r = min(int(n_latent), len(singular))
    latent = vt[:r].T * (singular[:r] / np.sqrt(max(normalised.shape[0], 1)))
    return np.column_stack([means, latent])


class MetaFeatureProjection:
    """Prepared meta-features (impute, signed log, standardise, clip) projected on their first
    principal components (fitted on the training datasets only)."""

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def fit(self, meta_features: pd.DataFrame) -> MetaFeatureProjection:
        """Learn the preparation and the principal axes."""
        self.preprocessor_ = MetaFeaturePreprocessor(scaler="standard", log_transform=True).fit(meta_features)
        values = self.preprocessor_.transform(meta_features)
        self.mean_ = values.mean(axis=0)
        _, _, vt = np.linalg.svd(values - self.mean_, full_matrices=False)
        self.components_ = vt[: min(int(self.n_components), vt.shape[0])]
        return self

    def transform(self, data: pd.DataFrame | pd.Series | Mapping[str, float]) -> np.ndarray:
        """Rows of datasets (or one dataset) -> their principal-component scores."""
        return np.asarray((self.preprocessor_.transform(data) - self.mean_) @ self.components_.T)


class _ModelWarmStarter(BaseWarmStarter):
    """Shared fitting of the encodings and the provenance index; subclasses train the model."""

    n_components: int
    n_latent: int
    n_support: int

    def _fit_encodings(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
                       higher_is_better: bool | None) -> np.ndarray:
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        self.performance_ = performance
        self.higher_is_better_ = higher
        self.datasets_ = list(performance.index)
        self.configurations_ = [int(c) for c in performance.columns]
        normalised = normalised_scores(performance, higher)
        self.projection_ = MetaFeatureProjection(self.n_components).fit(meta_features)
        self.dataset_codes_ = self.projection_.transform(meta_features)
        self.config_codes_ = configuration_encoding(normalised, self.n_latent)
        self.support_ = SupportIndex(meta_features, performance, higher, self.n_support)
        return normalised

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet; call fit(meta_features, performance) first")

    @staticmethod
    def _random_state(seed: Any) -> int | None:
        return None if seed is None else int(seed)

    def predict_scores(self, query: pd.Series | Mapping[str, float]) -> pd.Series:
        """The model's score of every known configuration on the query (higher = try first)."""
        self._check_fitted()
        code = self.projection_.transform(query)[0]
        return pd.Series(self._score(code), index=self.configurations_)

    def _score(self, code: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = ()) -> list[Recommendation]:
        """The ``n_configs`` configurations of highest predicted score (ties by id).

        ``exclude`` drops configuration ids; ``exclude_datasets`` only drops datasets from the
        provenance (the fitted model cannot forget them; see the module doc).
        """
        n_configs = _check_int("n_configs", type(self).__name__, n_configs, 1)
        scores = self.predict_scores(query)
        taken = {int(c) for c in exclude}
        order = sorted((c for c in scores.index if c not in taken), key=lambda c: (-scores[c], c))[:n_configs]
        near = self.support_.order(query, exclude_datasets)
        return [Recommendation(configuration_id=int(c), rank=i + 1, method=self.method,
                               sources=self.support_.sources(int(c), near), predicted_score=float(scores[c]))
                for i, c in enumerate(order)]


class PerformanceModelWarmStarter(_ModelWarmStarter):
    """Random-forest performance model over every cell of the matrix (see the module doc).

    Args:
        n_estimators: trees of the forest.
        min_samples_leaf: smallest leaf (a light smoothing of noisy scores).
        max_features: fraction of the inputs tried at every split (1/3, Breiman's regression
            default).
        n_components: principal components of the meta-features used as inputs.
        n_latent: latent dimensions of the configuration encoding.
        n_support: nearest supporting evaluations listed per recommendation.
        seed: seeds the forest.
        n_jobs: parallel jobs of the forest.

    Attributes:
        model_: the fitted ``RandomForestRegressor``.
        fit_seconds_: wall time of the forest's training.
    """

    method = "rf-model"
    _parameter_constraints: dict[str, list[Any]] = {
        "n_estimators": [COUNT],
        "min_samples_leaf": [COUNT],
        "max_features": [Interval(numbers.Real, 0, 1, closed="right")],
        "n_components": [COUNT],
        "n_latent": [SIZE],
        "n_support": [SIZE],
        "seed": SKLEARN_SEED,
        "n_jobs": N_JOBS,
    }

    def __init__(self, n_estimators: int = 100, min_samples_leaf: int = 3, max_features: float = 1 / 3,
                 n_components: int = 16, n_latent: int = 8, n_support: int = 3, seed: int | None = 0,
                 n_jobs: int | None = 1) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.n_components = n_components
        self.n_latent = n_latent
        self.n_support = n_support
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> PerformanceModelWarmStarter:
        """Train the forest on every scored cell; return ``self``.

        Raises:
            ConfigError: a parameter is out of range.
            DataError: the frames share no dataset with a score.
        """
        import time

        from sklearn.ensemble import RandomForestRegressor

        self._validate_params()
        normalised = self._fit_encodings(meta_features, performance, higher_is_better)
        rows, cols = np.nonzero(~np.isnan(normalised))
        x = np.column_stack([self.dataset_codes_[rows], self.config_codes_[cols]])
        start = time.perf_counter()
        self.model_ = RandomForestRegressor(
            n_estimators=int(self.n_estimators), min_samples_leaf=int(self.min_samples_leaf),
            max_features=float(self.max_features), random_state=self._random_state(self.seed),
            n_jobs=self.n_jobs).fit(x, normalised[rows, cols])
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _score(self, code: np.ndarray) -> np.ndarray:
        x = np.column_stack([np.repeat(code[None, :], len(self.config_codes_), axis=0), self.config_codes_])
        return np.asarray(self.model_.predict(x), dtype=float)


class PairwiseModelWarmStarter(_ModelWarmStarter):
    """Pairwise-ranking model: P(configuration a beats b on this dataset) (see the module doc).

    Args:
        n_pairs: pairs sampled per training dataset (each also added swapped; at most the
            number of distinct pairs); pairs whose normalised scores tie are skipped.
        n_reference: a configuration's score is its mean probability of beating this many
            reference configurations (evenly spaced in mean training score; all when fewer),
            which keeps ``recommend`` fast.
        max_iter: boosting iterations of the ``HistGradientBoostingClassifier``.
        learning_rate: its shrinkage.
        n_components, n_latent, n_support, seed: as for :class:`PerformanceModelWarmStarter`.

    Attributes:
        model_: the fitted classifier.
        fit_seconds_: wall time of its training.
    """

    method = "pairwise-model"
    _parameter_constraints: dict[str, list[Any]] = {
        "n_pairs": [COUNT],
        "max_iter": [COUNT],
        "learning_rate": [Interval(numbers.Real, 0, 10, closed="right")],
        "n_reference": [COUNT],
        "n_components": [COUNT],
        "n_latent": [SIZE],
        "n_support": [SIZE],
        "seed": SKLEARN_SEED,
    }

    def __init__(self, n_pairs: int = 128, max_iter: int = 100, learning_rate: float = 0.1, n_reference: int = 16,
                 n_components: int = 16, n_latent: int = 8, n_support: int = 3, seed: int | None = 0) -> None:
        self.n_pairs = n_pairs
        self.n_reference = n_reference
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.n_components = n_components
        self.n_latent = n_latent
        self.n_support = n_support
        self.seed = seed

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> PairwiseModelWarmStarter:
        """Sample pairs per dataset and train the classifier; return ``self``.

        Raises:
            ConfigError: a parameter is out of range, or no dataset has two configurations
                that score differently.
            DataError: the frames share no dataset with a score.
        """
        import time

        from sklearn.ensemble import HistGradientBoostingClassifier

        name = type(self).__name__
        self._validate_params()
        normalised = self._fit_encodings(meta_features, performance, higher_is_better)
        rng = np.random.default_rng(self.seed)
        first, second, dataset = [], [], []
        for row in range(normalised.shape[0]):
            scored = np.flatnonzero(~np.isnan(normalised[row]))
            if scored.size < 2:
                continue
            size = min(int(self.n_pairs), scored.size * (scored.size - 1) // 2)
            a = rng.choice(scored, size=size)
            b = rng.choice(scored, size=size)
            keep = np.abs(normalised[row, a] - normalised[row, b]) > 1e-12
            first.append(a[keep])
            second.append(b[keep])
            dataset.append(np.full(int(keep.sum()), row))
        if not first or sum(len(f) for f in first) == 0:
            raise ConfigError(f"{name} needs a training dataset with two configurations that score differently")
        a, b, d = np.concatenate(first), np.concatenate(second), np.concatenate(dataset)
        wins = (normalised[d, a] > normalised[d, b]).astype(int)
        x = np.vstack([self._pairs(self.dataset_codes_[d], a, b), self._pairs(self.dataset_codes_[d], b, a)])
        y = np.concatenate([wins, 1 - wins])
        start = time.perf_counter()
        self.model_ = HistGradientBoostingClassifier(
            max_iter=int(self.max_iter), learning_rate=float(self.learning_rate), early_stopping=False,
            random_state=self._random_state(self.seed)).fit(x, y)
        self.fit_seconds_ = time.perf_counter() - start
        by_mean = np.argsort(-self.config_codes_[:, 0], kind="stable")
        positions = np.unique(np.linspace(0, len(by_mean) - 1, min(int(self.n_reference), len(by_mean))).round())
        self.reference_ = by_mean[positions.astype(int)]
        return self

    def _pairs(self, codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.column_stack([codes, self.config_codes_[a], self.config_codes_[b]])

    def _score(self, code: np.ndarray) -> np.ndarray:
        n = len(self.config_codes_)
        if n == 1:
            return np.array([0.5])
        a, b = np.meshgrid(np.arange(n), self.reference_, indexing="ij")
        off = a != b
        a, b = a[off], b[off]
        x = self._pairs(np.repeat(code[None, :], len(a), axis=0), a, b)
        proba = self.model_.predict_proba(x)
        positive = list(self.model_.classes_).index(1) if 1 in self.model_.classes_ else None
        p = proba[:, positive] if positive is not None else np.zeros(len(a))
        return np.bincount(a, weights=p, minlength=n) / np.maximum(np.bincount(a, minlength=n), 1)
