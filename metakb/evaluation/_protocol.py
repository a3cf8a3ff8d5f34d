"""How a configuration is scored on a dataset: row cap, holdout or CV, budget, metric, seed.

Classification targets (labels) are subsampled and split stratified by class when every class
allows it. Regression targets (float arrays, see ``metakb.data._task``) are subsampled at
random and split by plain shuffled, seeded ``KFold`` / ``ShuffleSplit``: stratifying on
thousands of distinct values would be meaningless. The same protocol text
(``cv:3:max_rows=1500``) thus means the same procedure for both, adapted to the target.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from metakb.errors import ConfigError
from metakb.evaluation.metrics import DEFAULT_METRIC, higher_is_better, metric_task

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
    def task(self) -> str | None:
        """The task type of the primary metric (``r2`` -> regression), None for runtime metrics."""
        return metric_task(self.metric)

    @classmethod
    def for_task(cls, text: str, task: str) -> Protocol:
        """:meth:`parse` with the default metric of ``task`` (``r2`` for regression)."""
        if task not in DEFAULT_METRIC:
            raise ConfigError(f"task must be one of {sorted(DEFAULT_METRIC)}, got {task!r}")
        return cls.parse(text, DEFAULT_METRIC[task])

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


def _is_regression(y: np.ndarray) -> bool:
    """A float target is a regression's (classification targets hold labels)."""
    return np.asarray(y).dtype.kind == "f"


def _can_stratify(y: np.ndarray, n_splits: int = 2) -> bool:
    if _is_regression(y):
        return False
    _, counts = np.unique(y, return_counts=True)
    return bool(counts.min() >= n_splits)


def subsample_rows(y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Indices of at most ``max_rows`` rows, stratified by class when every class allows it.

    A regression target (float) is subsampled uniformly at random (seeded).
    """
    n = len(y)
    if not max_rows or n <= max_rows:
        return np.arange(n)
    splitter_cls = StratifiedShuffleSplit if _can_stratify(y) else ShuffleSplit
    splitter = splitter_cls(n_splits=1, train_size=max_rows, random_state=seed)
    keep, _ = next(splitter.split(np.zeros(n), y))
    return np.sort(keep)


def split_indices(y: np.ndarray, protocol: Protocol, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of the protocol, stratified when every class allows it.

    A regression target gets plain shuffled, seeded splits. A protocol whose metric belongs to
    the other task type (``r2`` on class labels, ``balanced_accuracy`` on a float target) is
    refused with one ConfigError line.
    """
    n = len(y)
    task = protocol.task
    if task is not None and task != ("regression" if _is_regression(y) else "classification"):
        raise ConfigError(f"protocol metric {protocol.metric!r} is a {task} metric but the target is "
                          f"{'continuous (regression)' if _is_regression(y) else 'class labels (classification)'}")
    if protocol.kind == "holdout":
        splitter_cls = StratifiedShuffleSplit if _can_stratify(y) else ShuffleSplit
        splitter = splitter_cls(n_splits=1, test_size=protocol.param, random_state=seed)
        return list(splitter.split(np.zeros(n), y))
    folds = int(protocol.param)
    if _can_stratify(y, folds):
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), y))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), y))


def budget_rows(train: np.ndarray, y: np.ndarray, budget: float, seed: int) -> np.ndarray:
    """The training rows used at ``budget`` (a fraction in (0, 1]); at least two per class seen.

    For a regression target: a random share of the rows, at least 2.
    """
    if not 0.0 < budget <= 1.0:
        raise ConfigError(f"budget must be a fraction in (0, 1], got {budget}")
    if budget >= 1.0:
        return train
    floor = 2 if _is_regression(y) else len(np.unique(y[train])) * 2
    size = max(int(round(budget * len(train))), floor)
    if size >= len(train):
        return train
    return train[subsample_rows(y[train], size, seed)]
