"""The result of every portfolio builder and the objective they share."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from metakb.errors import ConfigError
from metakb.params import SEED, Interval, Predicate, StrOptions, validate_params
from portfolios._matrix import MISSING_POLICIES

__all__ = ["Portfolio", "portfolio_curve", "check_size", "parameter_constraints", "check_options",
           "OPTION_CONSTRAINTS"]

F = TypeVar("F", bound=Callable[..., Any])


def _is_labels(value: Any) -> bool:
    return not isinstance(value, (str, bytes, Mapping, numbers.Number)) and isinstance(value, Iterable)


#: The keyword arguments the builders share (:mod:`metakb.params` constraints).
OPTION_CONSTRAINTS: dict[str, list[Any]] = {
    "higher_is_better": [None, Predicate(lambda v: isinstance(v, (bool, np.bool_)), "a bool")],
    "missing": [StrOptions(MISSING_POLICIES)],
    "normalize": ["boolean"],
}
#: ``seed`` of a builder that draws: numpy's ``default_rng`` takes None, an int >= 0 or a Generator.
SEED_CONSTRAINT: list[Any] = [*SEED, np.random.Generator]
#: ``validation`` of the greedy builder: a fraction of the datasets, or their labels.
VALIDATION_CONSTRAINT: list[Any] = [None, Interval(numbers.Real, 0, 1, closed="neither"),
                                    Predicate(_is_labels, "a sequence of dataset labels")]


def parameter_constraints(table: Mapping[str, list[Any]]) -> Callable[[F], F]:
    """Declare the accepted keyword arguments of a builder function, as a class declares its
    ``_parameter_constraints``; the function is returned unchanged (its signature too), with the
    table as its ``_parameter_constraints`` attribute (read by :func:`check_options` and tests)."""
    def attach(fn: F) -> F:
        vars(fn)["_parameter_constraints"] = dict(table)
        return fn

    return attach


def check_options(fn: Callable[..., Any], **values: Any) -> None:
    """Check a builder's keyword arguments against its declared table.

    Raises:
        ConfigError: in scikit-learn's wording, e.g. "The 'missing' parameter of
            greedy_portfolio must be a str among {'refuse', 'skip', 'worst'}. Got 'drop' instead."
    """
    validate_params(values, vars(fn)["_parameter_constraints"], owner=fn.__name__,
                    get=lambda options, name: options[name])


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
