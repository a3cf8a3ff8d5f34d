"""Collaborative filtering over the datasets × configurations matrix, with optional probes.

The knowledge base's matrix of normalised scores (1 = a dataset's best configuration, 0 = its
worst) is modelled as

    Z[d, c] ≈ μ_c + b_d + U_d · V_c

with configuration means μ, dataset offsets b and ``n_factors`` latent factors fitted by
alternating ridge least squares over the scored cells (:func:`als_factorise`). A new dataset's
latent vector ``u`` then ranks every configuration by ``μ_c + V_c · u``:

* **without probes**, ``u`` is predicted from the dataset's meta-features by a ridge regression
  (its penalty chosen by generalised cross-validation on the training datasets only);
* **with probes**, the first P members of the greedy portfolio of the training matrix
  (:meth:`CFWarmStarter.probe_configurations`) are evaluated on the new dataset -- really, by
  the caller: this module never runs anything -- and their scores ``x_p`` refine ``u``. Raw
  scores are put in normalised units by the training datasets' median score range ``s``, and
  ``u`` solves the ridge problem

      min_{a, u}  Σ_p (x_p / s - a - μ_p - V_p · u)^2 + λ ||u - u0||^2

  (``a`` absorbs the unknown offset of the new dataset, ``u0`` is the meta-feature
  prediction, ``λ = probe_reg``). With one probe only ``a`` is learnt and the ranking is the
  prior's. Probed configurations are never recommended again.

:func:`recommend_with_probes` is the one function a workflow calls: it takes a callable that
evaluates a configuration on the new dataset (and stores the result), evaluates the probes,
and returns their scores with the recommendations.

References:
    Fusi, Sheth, Elibol (2018). Probabilistic matrix factorization for automated machine
    learning. NeurIPS (latent factors of the pipelines × datasets matrix; a new dataset is
    placed by evaluating a few pipelines). Yang, Akimoto, Kim, Udell (2019). OBOE:
    Collaborative filtering for AutoML model selection. KDD (low-rank model, a new dataset's
    latent vector by least squares on a few evaluated entries). Hu, Koren, Volinsky (2008) /
    Zhou et al. (2008). Large-scale parallel collaborative filtering for the Netflix prize
    (alternating least squares with ridge penalties).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError
from metakb.params import SEED, Interval, Predicate
from metakb.warmstart._base import (
    COUNT,
    SIZE,
    BaseWarmStarter,
    Recommendation,
    SupportIndex,
    _check_int,
    align_knowledge_base,
    normalised_scores,
)
from metakb.warmstart._features import MetaFeaturePreprocessor

__all__ = ["CFWarmStarter", "als_factorise", "recommend_with_probes"]


def als_factorise(matrix: np.ndarray, n_factors: int, reg: float = 1.0, n_iter: int = 50,
                  seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Alternating ridge least squares: ``matrix ≈ U @ V.T`` over its non-NaN cells.

    Each half-step solves, for every row ``i``, ``min_u Σ_{j scored} (M_ij - u·v_j)^2 + reg |u|^2``
    exactly (one batched r×r solve per row), then the same for every column.

    Args:
        matrix: ``(n, m)`` array, NaN = unobserved.
        n_factors: latent dimension ``r``.
        reg: ridge penalty ``reg > 0``.
        n_iter: alternations.
        seed: seeds the initial ``V`` (normal, sd 0.1).

    Returns:
        ``U`` of shape ``(n, r)`` and ``V`` of shape ``(m, r)``.
    """
    observed = ~np.isnan(matrix)
    values = np.where(observed, matrix, 0.0)
    weights = observed.astype(float)
    rng = np.random.default_rng(seed)
    r = int(n_factors)
    v = rng.normal(scale=0.1, size=(matrix.shape[1], r))
    u = np.zeros((matrix.shape[0], r))
    eye = reg * np.eye(r)

    def solve(w: np.ndarray, y: np.ndarray, other: np.ndarray) -> np.ndarray:
        gram = np.einsum("ij,jk,jl->ikl", w, other, other) + eye
        rhs = (w * y) @ other
        return np.asarray(np.linalg.solve(gram, rhs[:, :, None])[:, :, 0])

    for _ in range(int(n_iter)):
        u = solve(weights, values, v)
        v = solve(weights.T, values.T, u)
    return u, v


def _are_penalties(value: Any) -> bool:
    positive = Interval(numbers.Real, 0, None, closed="neither")
    return (isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
            and all(positive.is_satisfied_by(a) for a in value))


class CFWarmStarter(BaseWarmStarter):
    """Latent-factor warm starter; the new dataset's factors from meta-features or probes.

    Args:
        n_factors: latent dimension of the factorisation.
        reg: ridge penalty of the alternating least squares.
        n_iter: alternations of the least squares.
        probe_reg: ridge pull of the probe fit towards the meta-feature prediction ``u0``.
        alphas: candidate penalties of the meta-feature -> latent ridge regression (chosen by
            generalised cross-validation on the training datasets).
        n_support: nearest supporting evaluations listed per recommendation.
        seed: seeds the factorisation.

    Attributes:
        mu_, V_: configuration means and factors; ``U_``: training datasets' factors.
        scale_: median (best - worst) raw score range of the training datasets.
        portfolio_: greedy portfolio of the training matrix (the probe order).
    """

    method = "cf"
    supports_probes = True
    _parameter_constraints: dict[str, list[Any]] = {
        "n_factors": [COUNT],
        "reg": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter": [COUNT],
        "probe_reg": [Interval(numbers.Real, 0, None, closed="neither")],
        "alphas": [Predicate(_are_penalties, "a non-empty sequence of floats in the range (0, inf)")],
        "n_support": [SIZE],
        "seed": [*SEED, np.random.Generator],
    }

    def __init__(self, n_factors: int = 5, reg: float = 1.0, n_iter: int = 50, probe_reg: float = 1.0,
                 alphas: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0),
                 n_support: int = 3, seed: int | None = 0) -> None:
        self.n_factors = n_factors
        self.reg = reg
        self.n_iter = n_iter
        self.probe_reg = probe_reg
        self.alphas = alphas
        self.n_support = n_support
        self.seed = seed

    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> CFWarmStarter:
        """Factorise the normalised matrix and learn meta-features -> latent vector.

        Raises:
            ConfigError: a parameter is out of range.
            DataError: the frames share no dataset with a score.
        """
        from sklearn.linear_model import RidgeCV

        from portfolios import greedy_portfolio

        self._validate_params()
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        self.performance_ = performance
        self.higher_is_better_ = higher
        self.datasets_ = list(performance.index)
        self.configurations_ = [int(c) for c in performance.columns]
        z = normalised_scores(performance, higher)
        self.mu_ = np.nan_to_num(np.nanmean(np.where(np.isnan(z).all(axis=0), 0.0, z), axis=0))
        offsets = np.nan_to_num(np.nanmean(z - self.mu_, axis=1))
        residual = z - self.mu_[None, :] - offsets[:, None]
        self.U_, self.V_ = als_factorise(residual, int(self.n_factors), float(self.reg), int(self.n_iter), self.seed)
        oriented = performance.to_numpy(dtype=float) * (1.0 if higher else -1.0)
        spans = np.nanmax(oriented, axis=1) - np.nanmin(oriented, axis=1)
        spans = spans[np.isfinite(spans) & (spans > 0)]
        self.scale_ = float(np.median(spans)) if spans.size else 1.0
        self.preprocessor_ = MetaFeaturePreprocessor(scaler="standard", log_transform=True).fit(meta_features)
        features = self.preprocessor_.transform(meta_features)
        self.latent_model_ = RidgeCV(alphas=tuple(float(a) for a in self.alphas)).fit(features, self.U_)
        members = greedy_portfolio(performance, len(self.configurations_), higher_is_better=higher).members
        self.portfolio_ = [int(c) for c in members]  # type: ignore[call-overload]
        self.support_ = SupportIndex(meta_features, performance, higher, int(self.n_support))
        return self

    def probe_configurations(self, n_probes: int) -> list[int]:
        """The configurations to evaluate first on a new dataset: the greedy portfolio's first ``n_probes``."""
        self._check_fitted()
        n_probes = _check_int("n_probes", type(self).__name__, n_probes, 0)
        return self.portfolio_[:n_probes]

    def latent_vector(self, query: pd.Series | Mapping[str, float],
                      probes: Mapping[int, float] | None = None) -> np.ndarray:
        """The query's latent vector: predicted from meta-features, refined by probe scores."""
        self._check_fitted()
        u0 = np.asarray(self.latent_model_.predict(self.preprocessor_.transform(query))[0], dtype=float)
        scored = {int(c): float(s) for c, s in (probes or {}).items() if s is not None and np.isfinite(s)}
        unknown = sorted(set(scored) - set(self.configurations_))
        if unknown:
            raise DataError(f"probe configurations {unknown[:5]} are not columns of the knowledge base's matrix")
        if len(scored) < 2:
            return u0
        columns = [self.configurations_.index(c) for c in scored]
        sign = 1.0 if self.higher_is_better_ else -1.0
        x = sign * np.array(list(scored.values())) / self.scale_
        y = x - self.mu_[columns]
        a = self.V_[columns]
        y, a = y - y.mean(), a - a.mean(axis=0)
        gram = a.T @ a + float(self.probe_reg) * np.eye(a.shape[1])
        return np.asarray(u0 + np.linalg.solve(gram, a.T @ (y - a @ u0)))

    def predict_scores(self, query: pd.Series | Mapping[str, float],
                       probes: Mapping[int, float] | None = None) -> pd.Series:
        """Predicted normalised score (up to the dataset's offset) of every known configuration."""
        u = self.latent_vector(query, probes)
        return pd.Series(self.mu_ + self.V_ @ u, index=self.configurations_)

    def recommend(self, query: pd.Series | Mapping[str, float], n_configs: int = 5,
                  exclude: Iterable[int] = (), exclude_datasets: Iterable[str] = (),
                  probes: Mapping[int, float] | None = None) -> list[Recommendation]:
        """The ``n_configs`` configurations of highest predicted score, probed ones left out.

        Args:
            query: the new dataset's meta-features.
            n_configs: how many to return (at most).
            exclude: configuration ids never to recommend.
            exclude_datasets: datasets left out of the provenance only (see the module doc of
                :mod:`metakb.warmstart._performance_model`).
            probes: configuration id -> its score on the new dataset (NaN or None: failed, ignored).
        """
        n_configs = _check_int("n_configs", type(self).__name__, n_configs, 1)
        scores = self.predict_scores(query, probes)
        taken = {int(c) for c in exclude} | {int(c) for c in (probes or {})}
        order = sorted((c for c in scores.index if c not in taken), key=lambda c: (-scores[c], c))[:n_configs]
        near = self.support_.order(query, exclude_datasets)
        return [Recommendation(configuration_id=int(c), rank=i + 1, method=self.method,
                               sources=self.support_.sources(int(c), near), predicted_score=float(scores[c]))
                for i, c in enumerate(order)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "V_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet; call fit(meta_features, performance) first")


def recommend_with_probes(model: CFWarmStarter, query: pd.Series | Mapping[str, float],
                          evaluate: Callable[[int], float | None], n_probes: int = 3, n_configs: int = 5,
                          exclude: Iterable[int] = ()) -> tuple[dict[int, float | None], list[Recommendation]]:
    """Evaluate the first ``n_probes`` portfolio members, then recommend ``n_configs`` more.

    Args:
        model: a fitted :class:`CFWarmStarter`.
        query: the new dataset's meta-features.
        evaluate: configuration id -> its score on the new dataset (None or NaN if it failed).
            The workflow layer passes a function that runs the evaluation and stores it.
        n_probes: how many portfolio members to evaluate first.
        n_configs: how many further configurations to recommend.
        exclude: configuration ids neither probed nor recommended.

    Returns:
        The probes' scores (in probe order) and the recommendations.
    """
    excluded = {int(c) for c in exclude}
    probes: dict[int, Any] = {}
    for config in model.probe_configurations(len(model.configurations_)):
        if len(probes) == n_probes:
            break
        if config not in excluded:
            probes[config] = evaluate(config)
    return probes, model.recommend(query, n_configs=n_configs, exclude=excluded, probes=probes)
