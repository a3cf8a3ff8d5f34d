"""Search spaces (ConfigSpace) and the function that turns a configuration into a pipeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ConfigSpace import Configuration, ConfigurationSpace

from metakb._convert import space_from_json, space_to_json, to_builtin
from metakb.errors import ConfigError, SpaceError
from metakb.spaces import _cash, _cash_regression
from metakb.spaces._cash_regression import make_regression_pipeline
from metakb.spaces._pipeline import make_pipeline as make_classification_pipeline

__all__ = [
    "SearchSpace",
    "SPACES",
    "get_search_space",
    "space_to_json",
    "space_from_json",
    "validate_configuration",
    "complete_configuration",
    "describe_space",
    "sample_configurations",
    "make_pipeline",
    "make_classification_pipeline",
    "make_regression_pipeline",
    "check_space_task",
    "space_task",
    "spaces_for_task",
]


@dataclass(frozen=True)
class SearchSpace:
    """A named, versioned search space: how to build it, its per-model defaults, and its task type.

    ``task`` is ``classification`` or ``regression``: the only kind of dataset the space's
    pipelines can be fitted on (:func:`check_space_task`).
    """

    name: str
    version: str
    build: Callable[..., ConfigurationSpace]
    defaults: Callable[[], dict[str, dict[str, Any]]]
    description: str
    task: str = "classification"


SPACES: dict[str, SearchSpace] = {
    _cash.NAME: SearchSpace(_cash.NAME, _cash.VERSION, _cash.build_space, _cash.model_defaults,
                            "CASH over 7 scikit-learn classifiers with preprocessing choices"),
    _cash_regression.NAME: SearchSpace(
        _cash_regression.NAME, _cash_regression.VERSION, _cash_regression.build_space,
        _cash_regression.model_defaults,
        "CASH over 8 scikit-learn regressors with preprocessing and target-transform choices",
        task=_cash_regression.TASK),
}

_TASKS = ("classification", "regression")


def space_task(name: str) -> str:
    """The task type (classification | regression) of the registered space ``name``."""
    return get_search_space(name).task


def spaces_for_task(task: str) -> list[str]:
    """Names of the registered spaces of ``task``, sorted."""
    if task not in _TASKS:
        raise ConfigError(f"task must be one of {list(_TASKS)}, got {task!r}")
    return sorted(n for n, s in SPACES.items() if s.task == task)


def check_space_task(name: str, task: str, *, dataset: str | None = None) -> None:
    """Refuse, with one SpaceError line, a space of one task type asked for a dataset of the other.

    Args:
        name: a registered space name.
        task: the dataset's task type (``classification`` or ``regression``).
        dataset: the dataset's name, for the message.

    Raises:
        SpaceError: the space is unknown or its task type is not ``task``.
        ConfigError: ``task`` is not a task type.
    """
    if task not in _TASKS:
        raise ConfigError(f"task must be one of {list(_TASKS)}, got {task!r}")
    space = get_search_space(name)
    if space.task != task:
        what = f"dataset {dataset!r}" if dataset else "the dataset"
        raise SpaceError(f"search space {name!r} is for {space.task} but {what} is a {task} task; "
                         f"use one of {spaces_for_task(task)}")


def make_pipeline(config: Mapping[str, Any], categorical: Sequence[bool], *, seed: int = 0,
                  iteration_fraction: float = 1.0, n_rows: int | None = None) -> Any:
    """The scikit-learn pipeline of a configuration of either CASH space.

    A configuration with a ``regressor`` choice is built by
    :func:`make_regression_pipeline` (``sklearn-cash-regression``), one with a
    ``classifier`` choice by :func:`make_classification_pipeline` (``sklearn-cash``).
    """
    if "regressor" in config and "classifier" not in config:
        return make_regression_pipeline(config, categorical, seed=seed,
                                        iteration_fraction=iteration_fraction, n_rows=n_rows)
    return make_classification_pipeline(config, categorical, seed=seed,
                                        iteration_fraction=iteration_fraction, n_rows=n_rows)


def get_search_space(name: str) -> SearchSpace:
    """The registered space ``name``; an unknown name raises SpaceError listing the known ones."""
    if name not in SPACES:
        raise SpaceError(f"unknown search space {name!r}; expected one of {sorted(SPACES)}")
    return SPACES[name]


def validate_configuration(space: ConfigurationSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against ``space`` and return them as plain active values.

    Raises:
        ConfigError: an unknown or inactive hyperparameter, a missing active one, or a value
            outside its range.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"a configuration must be a JSON object of hyperparameter values, got {type(values).__name__}")
    unknown = sorted(set(values) - set(space.keys()))
    if unknown:
        raise ConfigError(f"configuration has unknown hyperparameters {unknown}; space {space.name!r} has {sorted(space.keys())}")
    missing = _missing_active(space, values)
    if missing:
        raise ConfigError(f"configuration lacks active hyperparameters {missing} of space {space.name!r}")
    inactive = _given_inactive(space, values)
    if inactive:
        raise ConfigError(f"configuration is not valid in space {space.name!r}: it sets {inactive}, which "
                          f"its other values make inactive (see `metakb space show {space.name}`)")
    try:
        config = Configuration(space, values=dict(values))
        config.check_valid_configuration()
    except (ValueError, TypeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"configuration is not valid in space {space.name!r}: {message}") from exc
    return to_builtin(dict(config))


def complete_configuration(space: ConfigurationSpace, values: Mapping[str, Any]
                           ) -> tuple[dict[str, Any], list[str]]:
    """A partial configuration completed with the space's defaults, and the names filled in.

    Every hyperparameter that the given values make active but that is not given takes its
    default (repeated until no new one becomes active, for nested conditions); the result is
    then checked as :func:`validate_configuration` does.

    Raises:
        ConfigError: as :func:`validate_configuration` (an unknown name, a value out of range).
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"a configuration must be a JSON object of hyperparameter values, got {type(values).__name__}")
    unknown = sorted(set(values) - set(space.keys()))
    if unknown:
        raise ConfigError(f"configuration has unknown hyperparameters {unknown}; space {space.name!r} has {sorted(space.keys())}")
    completed = dict(values)
    filled: list[str] = []
    for _ in range(len(space)):  # each pass can only activate children of what is set
        missing = _missing_active(space, completed)
        if not missing:
            break
        for name in missing:
            completed[name] = to_builtin(space[name].default_value)
            filled.append(name)
    return validate_configuration(space, completed), filled


def describe_space(space: ConfigurationSpace) -> list[dict[str, Any]]:
    """One row per hyperparameter: name, type, range or choices, log scale, default, condition."""
    rows = []
    for name in space:
        hp = space[name]
        choices = getattr(hp, "choices", None) or getattr(hp, "sequence", None)
        if choices is not None:
            domain = ", ".join(str(c) for c in choices)
        elif hasattr(hp, "lower"):
            domain = f"[{to_builtin(hp.lower)}, {to_builtin(hp.upper)}]"  # type: ignore[attr-defined]
        else:
            domain = str(to_builtin(getattr(hp, "value", "")))
        conditions = space.parent_conditions_of.get(name, [])
        rows.append({"name": name, "type": type(hp).__name__.replace("Hyperparameter", "").lower(),
                     "domain": domain, "log": bool(getattr(hp, "log", False)),
                     "default": to_builtin(hp.default_value),
                     "active_if": " and ".join(str(c).replace(f"{name} | ", "") for c in conditions)})
    return rows


def _given_inactive(space: ConfigurationSpace, values: Mapping[str, Any]) -> list[str]:
    """Given hyperparameters whose parent conditions the given values do not satisfy."""
    inactive = []
    for name in values:
        for condition in space.parent_conditions_of.get(name, []):
            try:
                parent = condition.parent.name  # type: ignore[union-attr]
                ok = parent in values and condition.satisfied_by_value(dict(values))  # type: ignore[union-attr]
            except (AttributeError, TypeError, ValueError):
                ok = True  # conjunctions and other forms: leave it to ConfigSpace's own check
            if not ok:
                inactive.append(name)
                break
    return sorted(inactive)


def _missing_active(space: ConfigurationSpace, values: Mapping[str, Any]) -> list[str]:
    """Hyperparameters that the given values make active but that have no value."""
    missing = []
    for name in space:
        if name in values:
            continue
        conditions = space.parent_conditions_of.get(name, [])
        try:
            active = all(c.parent.name in values and c.satisfied_by_value(dict(values))  # type: ignore[union-attr]
                         for c in conditions)
        except (AttributeError, TypeError, ValueError):
            active = False  # conjunctions and other forms: leave it to ConfigSpace's own check
        if active:
            missing.append(name)
    return missing


def sample_configurations(space: ConfigurationSpace, n: int, *, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct configurations drawn uniformly (ConfigSpace's sampler) with ``seed``."""
    if n < 0:
        raise ConfigError(f"number of configurations must be >= 0, got {n}")
    space.seed(seed)
    drawn: list[dict[str, Any]] = []
    seen: set[str] = set()
    attempts = 0
    while len(drawn) < n and attempts < 100 * max(n, 1):
        attempts += 1
        config = to_builtin(dict(space.sample_configuration()))
        key = repr(sorted(config.items()))
        if key not in seen:
            seen.add(key)
            drawn.append(config)
    return drawn
