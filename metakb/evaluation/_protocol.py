"""How a configuration is scored on a dataset: row cap, holdout or CV, budget, metric, seed."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from metakb.errors import ConfigError
from metakb.evaluation.metrics import higher_is_better

__all__ = ["Protocol", "subsample_rows", "split_indices", "budget_rows"]

# One decimal number (``0.33``, ``.33``, ``5``, ``5.``), not ``1.2.3`` nor a lone ``.``.
_PATTERN = re.compile(r"^(holdout|cv):(\d+(?:\.\d*)?|\.\d+)(?::max_rows=(\d+))?$")


@dataclass(frozen=True)
class Protocol:
    """An evaluation protocol.

    Attributes:
        kind: ``holdout`` (one stratified split) or ``cv`` (stratified k-fold).
        param: the test fraction for holdout (0 < p < 1), the number of folds for CV (>= 2).
        max_rows: rows kept (stratified, seeded subsample) before splitting; 0 keeps all.
        metric: the primary metric stored as the evaluation's value.
    """

    kind: str = "holdout"
    param: float = 0.33
    max_rows: int = 0
    metric: str = "balanced_accuracy"

    def __post_init__(self) -> None:
        if self.kind not in ("holdout", "cv"):
            raise ConfigError(f"protocol kind must be 'holdout' or 'cv', got {self.kind!r}")
        if self.kind == "holdout" and not 0.0 < self.param < 1.0:
            raise ConfigError(f"holdout test fraction must be in (0, 1), got {self.param}")
        if self.kind == "cv" and not (math.isfinite(self.param) and self.param >= 2
                                      and self.param == int(self.param)):
            raise ConfigError(f"number of CV folds must be an integer >= 2, got {self.param}")
        if self.max_rows < 0:
            raise ConfigError(f"max_rows must be >= 0 (0 keeps every row), got {self.max_rows}")
        higher_is_better(self.metric)

    @property
    def higher_is_better(self) -> bool:
        """Direction of the primary metric."""
        return higher_is_better(self.metric)

    def key(self) -> str:
        """The text stored in ``evaluations.protocol``, e.g. ``holdout:0.33:max_rows=1000``."""
        param = f"{self.param:g}" if self.kind == "holdout" else str(int(self.param))
        suffix = f":max_rows={self.max_rows}" if self.max_rows else ""
        return f"{self.kind}:{param}{suffix}"

    @classmethod
    def parse(cls, text: str, metric: str = "balanced_accuracy") -> Protocol:
        """Inverse of :meth:`key` (``holdout:0.33``, ``cv:5:max_rows=1000``)."""
        match = _PATTERN.match(text.strip())
        if not match:
            raise ConfigError(f"protocol must look like 'holdout:0.33' or 'cv:5[:max_rows=N]', got {text!r}")
        kind, param, rows = match.groups()
        return cls(kind, float(param), int(rows or 0), metric)


def _can_stratify(y: np.ndarray, n_splits: int = 2) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return bool(counts.min() >= n_splits)


def subsample_rows(y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Indices of at most ``max_rows`` rows, stratified by class when every class allows it."""
    n = len(y)
    if not max_rows or n <= max_rows:
        return np.arange(n)
    splitter_cls = StratifiedShuffleSplit if _can_stratify(y) else ShuffleSplit
    splitter = splitter_cls(n_splits=1, train_size=max_rows, random_state=seed)
    keep, _ = next(splitter.split(np.zeros(n), y))
    return np.sort(keep)


def split_indices(y: np.ndarray, protocol: Protocol, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of the protocol, stratified when every class allows it."""
    n = len(y)
    if protocol.kind == "holdout":
        splitter_cls = StratifiedShuffleSplit if _can_stratify(y) else ShuffleSplit
        splitter = splitter_cls(n_splits=1, test_size=protocol.param, random_state=seed)
        return list(splitter.split(np.zeros(n), y))
    folds = int(protocol.param)
    if _can_stratify(y, folds):
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), y))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), y))


def budget_rows(train: np.ndarray, y: np.ndarray, budget: float, seed: int) -> np.ndarray:
    """The training rows used at ``budget`` (a fraction in (0, 1]); at least one per class seen."""
    if not 0.0 < budget <= 1.0:
        raise ConfigError(f"budget must be a fraction in (0, 1], got {budget}")
    if budget >= 1.0:
        return train
    size = max(int(round(budget * len(train))), len(np.unique(y[train])) * 2)
    if size >= len(train):
        return train
    return train[subsample_rows(y[train], size, seed)]
