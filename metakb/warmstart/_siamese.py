"""Siamese task embeddings: learn a meta-feature space in which distance means "ranks differ".

A small multilayer perceptron maps a dataset's (scaled) meta-features to an embedding. It is
trained on pairs of knowledge-base datasets so that the Euclidean distance of their embeddings
predicts ``1 - Spearman correlation`` of their configuration scores (0: the configurations
rank the same on both, 2: opposite order). Recommendation is then the neighbour rule of
auto-sklearn 1.0 with this learned distance instead of the L1 distance on raw meta-features.

torch is imported only when a model is trained or rebuilt, so ``metakb`` imports without it.
The trained weights are stored as a JSON state dict (nested lists), never as a pickle.

References:
    Kim, Kim, Choi (2017). Learning to warm-start Bayesian hyperparameter optimization.
    arXiv:1710.06219 (Siamese network on meta-features, distance regressed on the difference of
    performance).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError
from metakb.params import Interval, Predicate, StrOptions
from metakb.warmstart._base import COUNT, FEATURES, NeighbourWarmStarter, align_knowledge_base
from metakb.warmstart._features import SCALERS, MetaFeaturePreprocessor
from metakb.warmstart._knn import pairwise_distance

__all__ = ["SiameseWarmStarter", "rank_dissimilarity"]


def _import_torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError("the Siamese warm starter needs PyTorch; install it with "
                          "`pip install torch` (CPU is enough)") from exc
    return torch


def rank_dissimilarity(performance: pd.DataFrame, min_common: int = 5) -> np.ndarray:
    """``1 - Spearman`` between every two datasets' configuration scores (n×n, NaN if undefined).

    Correlations use the configurations scored on both datasets (pairwise complete); a pair
    with fewer than ``min_common`` of them, or with a constant row, gets NaN. The diagonal is 0.
    """
    values = performance.to_numpy(dtype=float)
    if not np.isnan(values).any():
        ranks = pd.DataFrame(values).rank(axis=1).to_numpy()
        centred = ranks - ranks.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(centred, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = (centred @ centred.T) / np.outer(norms, norms)
        if values.shape[1] < min_common:
            corr[:] = np.nan
    else:
        corr = performance.T.astype(float).corr(method="spearman", min_periods=min_common).to_numpy()
    target = 1.0 - corr
    np.fill_diagonal(target, 0.0)
    return target


def _are_layer_sizes(value: Any) -> bool:
    return (isinstance(value, Sequence) and not isinstance(value, str)
            and all(COUNT.is_satisfied_by(size) for size in value))


class SiameseWarmStarter(NeighbourWarmStarter):
    """Recommend the best configurations of the datasets nearest in a learned task embedding.

    Args:
        n_neighbors: how many nearest datasets contribute configurations.
        embedding_dim: size of the embedding.
        hidden: sizes of the hidden layers (ReLU).
        epochs: passes over the training datasets.
        batch_size: datasets per gradient step; the loss of a step is over every usable pair
            among them (all pairs when the knowledge base has at most ``batch_size`` datasets),
            so one forward pass per dataset serves many pairs.
        learning_rate: Adam step size.
        weight_decay: L2 penalty of Adam.
        min_common: configurations two datasets must share for their pair to be used.
        features: meta-feature names to use (None: all).
        scaler: ``minmax`` (default), ``standard`` or ``none`` (inputs of the network).
        log_transform: signed ``log1p`` of every meta-feature before scaling.
        seed: seeds the weight initialisation and the pair sampling (own generators only).
        n_threads: torch intra-op threads while training (restored afterwards); 1 is much faster
            for this tiny network on a busy machine. None leaves torch's setting alone.

    Attributes:
        loss_history_: mean training loss of every epoch (mean squared error of the distance).
    """

    method = "siamese"
    _parameter_constraints: dict[str, list[Any]] = {
        "n_neighbors": [COUNT],
        "embedding_dim": [COUNT],
        "hidden": [Predicate(_are_layer_sizes, "a sequence of ints in the range [1, inf)")],
        "epochs": [COUNT],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "min_common": [Interval(numbers.Integral, 2, None, closed="left")],
        "features": FEATURES,
        "scaler": [StrOptions(SCALERS)],
        "log_transform": ["boolean"],
        "seed": [Interval(numbers.Integral, 0, None, closed="left")],  # torch's generator: no None
        "n_threads": [None, COUNT],
    }

    def __init__(self, n_neighbors: int = 5, embedding_dim: int = 8, hidden: Sequence[int] = (64, 32),
                 epochs: int = 300, batch_size: int = 64, learning_rate: float = 3e-3,
                 weight_decay: float = 1e-4, min_common: int = 5,
                 features: Sequence[str] | None = None, scaler: str = "minmax", log_transform: bool = False,
                 seed: int = 0, n_threads: int | None = 1) -> None:
        self.n_neighbors = n_neighbors
        self.embedding_dim = embedding_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.min_common = min_common
        self.features = features
        self.scaler = scaler
        self.log_transform = log_transform
        self.seed = seed
        self.n_threads = n_threads

    # ------------------------------------------------------------------ fitting
    def fit(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
            higher_is_better: bool | None = None) -> SiameseWarmStarter:
        """Train the embedding on all pairs of known datasets, then embed them.

        Raises:
            ConfigError: a parameter is out of range, or torch is not installed.
            DataError: fewer than two datasets, or no pair shares ``min_common`` configurations.
        """
        self._validate_params()
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        if len(performance) < 2:
            raise DataError(f"the Siamese warm starter needs at least 2 datasets with scores, got {len(performance)}")
        self.preprocessor_ = MetaFeaturePreprocessor(self.features, self.scaler, self.log_transform)
        inputs = self.preprocessor_.fit(meta_features).transform(meta_features)
        target = rank_dissimilarity(performance, self.min_common)
        rows, cols = np.triu_indices(len(performance), k=1)
        usable = np.isfinite(target[rows, cols])
        if not usable.any():
            raise DataError(f"no pair of the {len(performance)} datasets shares {self.min_common} scored "
                            "configurations with varying scores; lower min_common")
        pairs = np.stack([rows[usable], cols[usable]], axis=1)
        self.n_pairs_ = int(len(pairs))
        torch = _import_torch()
        previous = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(int(self.n_threads))
        try:
            self.network_ = self._train(inputs, target)
        finally:
            torch.set_num_threads(previous)
        self.embedding_ = self._embed(inputs)
        self._fit_performance(performance, higher)
        return self

    def _build(self, n_inputs: int) -> Any:
        torch = _import_torch()
        sizes = [n_inputs, *[int(h) for h in self.hidden], int(self.embedding_dim)]
        layers: list[Any] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers).to(dtype=torch.float64)

    def _train(self, inputs: np.ndarray, target: np.ndarray) -> Any:
        """Adam on the mean squared error between embedding distance and ``target`` (n×n, NaN:
        unusable pair), over the pairs within each batch of datasets."""
        torch = _import_torch()
        generator = torch.Generator().manual_seed(int(self.seed))
        rng = np.random.default_rng(self.seed)
        network = self._build(inputs.shape[1])
        with torch.no_grad():  # own generator: never the global torch seed
            for module in network:
                if isinstance(module, torch.nn.Linear):
                    torch.nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                    bound = 1.0 / math.sqrt(module.in_features)
                    torch.nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        optimizer = torch.optim.Adam(network.parameters(), lr=float(self.learning_rate),
                                     weight_decay=float(self.weight_decay))
        x = torch.as_tensor(inputs, dtype=torch.float64)
        y = torch.as_tensor(np.nan_to_num(target, nan=0.0), dtype=torch.float64)
        usable = torch.as_tensor(np.triu(np.isfinite(target), k=1))
        n, size = len(inputs), int(self.batch_size)
        self.loss_history_ = []
        for _ in range(int(self.epochs)):
            order = rng.permutation(n)
            total, count = 0.0, 0
            for start in range(0, n, size):
                batch = torch.as_tensor(order[start:start + size])
                if n - start - size == 1:  # never leave one dataset alone in the last batch
                    batch = torch.as_tensor(order[start:])
                mask = usable[batch][:, batch] | usable[batch][:, batch].T
                mask = torch.triu(mask, diagonal=1)
                pairs = int(mask.sum())
                if pairs == 0:
                    continue
                embedded = network(x[batch])
                difference = embedded[:, None, :] - embedded[None, :, :]
                distance = torch.sqrt((difference ** 2).sum(dim=2) + 1e-12)
                loss = ((distance - y[batch][:, batch]) ** 2)[mask].mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, count = total + loss.item() * pairs, count + pairs
                if n - start - size == 1:
                    break
            self.loss_history_.append(total / max(count, 1))
        network.eval()
        return network

    def _embed(self, inputs: np.ndarray) -> np.ndarray:
        torch = _import_torch()
        with torch.no_grad():
            return self.network_(torch.as_tensor(inputs, dtype=torch.float64)).numpy()

    def _distances(self, query: pd.Series | Mapping[str, float]) -> np.ndarray:
        vector = self._embed(self.preprocessor_.transform(query))
        return pairwise_distance(vector, self.embedding_, "l2")[0]

    # ------------------------------------------------------------------ persistence (JSON, no pickle)
    def get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The trained network as ``(state, settings)``: a state dict of nested lists and the
        parameters, preprocessing and training summary, both JSON-able."""
        if not hasattr(self, "network_"):
            raise ConfigError("this SiameseWarmStarter is not fitted yet; call fit(meta_features, performance) first")
        state = {name: tensor.detach().cpu().numpy().tolist()
                 for name, tensor in self.network_.state_dict().items()}
        params = self.get_params()
        params["hidden"] = [int(h) for h in self.hidden]
        params["features"] = None if self.features is None else list(self.features)
        settings = {"params": params, "preprocessor": self.preprocessor_.to_dict(),
                    "loss_history": [float(v) for v in self.loss_history_], "n_pairs": self.n_pairs_,
                    "datasets": list(self.datasets_), "higher_is_better": bool(self.higher_is_better_)}
        return state, settings

    @classmethod
    def from_state(cls, state: Mapping[str, Any], settings: Mapping[str, Any]) -> SiameseWarmStarter:
        """Rebuild the trained network from :meth:`get_state`; call :meth:`attach` before
        recommending, to embed the knowledge base's datasets with it."""
        torch = _import_torch()
        self = cls(**settings["params"])
        self.preprocessor_ = MetaFeaturePreprocessor.from_dict(settings["preprocessor"])
        self.loss_history_ = list(settings.get("loss_history", []))
        self.n_pairs_ = int(settings.get("n_pairs", 0))
        self.network_ = self._build(len(self.preprocessor_.columns_))
        tensors = {name: torch.as_tensor(np.asarray(value, dtype=float), dtype=torch.float64)
                   for name, value in state.items()}
        try:
            self.network_.load_state_dict(tensors)
        except RuntimeError as exc:
            raise ConfigError(f"stored Siamese state does not fit its settings: {str(exc).splitlines()[0]}") from exc
        self.network_.eval()
        return self

    def attach(self, meta_features: pd.DataFrame, performance: pd.DataFrame,
               higher_is_better: bool | None = None) -> SiameseWarmStarter:
        """Embed known datasets with the trained network (no training); return ``self``."""
        meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
        self.embedding_ = self._embed(self.preprocessor_.transform(meta_features))
        self._fit_performance(performance, higher)
        return self
