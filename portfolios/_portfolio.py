"""The result of every portfolio builder and the objective they share."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metakb.errors import ConfigError

__all__ = ["Portfolio", "portfolio_curve", "check_size"]


@dataclass(frozen=True)
class Portfolio:
    """An ordered portfolio of configurations.

    Attributes:
        members: configuration labels (matrix columns) in order of addition, which is also the
            order in which they should be evaluated (an anytime portfolio: any prefix is itself
            a portfolio).
        objective: after each addition, the mean over the training datasets of the prefix's best
            (minimum) normalised loss; non-increasing for every builder.
        method: the builder's name (``greedy``, ``per-dataset-best``, ``top-average-rank``,
            ``random``).
        train_datasets: rows the portfolio was built on.
        validation_datasets: rows held out to choose the size (may be empty).
        validation_objective: the same curve on the validation datasets (empty without them).
        settings: the builder's parameters, for the record.
    """

    members: list[Hashable]
    objective: list[float]
    method: str
    train_datasets: list[Hashable]
    validation_datasets: list[Hashable] = field(default_factory=list)
    validation_objective: list[float] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (labels converted with ``str`` only when not JSON types)."""
        return {
            "method": self.method, "members": list(self.members), "objective": list(self.objective),
            "train_datasets": list(self.train_datasets),
            "validation_datasets": list(self.validation_datasets),
            "validation_objective": list(self.validation_objective), "settings": dict(self.settings),
        }


def portfolio_curve(loss: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """The objective after each member: mean over rows of the running minimum loss.

    Args:
        loss: ``(n_datasets, n_configurations)`` losses.
        members: column indices in order of addition.

    Returns:
        Array of ``len(members)`` values; entry ``k`` is the objective of the first ``k + 1``.
    """
    if len(members) == 0:
        return np.zeros(0)
    running = np.minimum.accumulate(loss[:, list(members)], axis=1)
    return running.mean(axis=0)


def check_size(size: int, n_configurations: int) -> int:
    """Validate a portfolio size against the number of available configurations."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"portfolio size must be an int in the range [1, inf), got {size!r}")
    if size > n_configurations:
        raise ConfigError(f"portfolio size {size} is larger than the number of configurations "
                          f"available ({n_configurations}); choose a size of at most "
                          f"{n_configurations}")
    return int(size)
