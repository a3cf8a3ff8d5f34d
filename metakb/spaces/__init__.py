"""Search spaces (ConfigSpace) and the function that turns a configuration into a pipeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ConfigSpace import Configuration, ConfigurationSpace

from metakb._convert import space_from_json, space_to_json, to_builtin
from metakb.errors import ConfigError, SpaceError
from metakb.spaces import _cash
from metakb.spaces._pipeline import make_pipeline

__all__ = [
    "SearchSpace",
    "SPACES",
    "get_search_space",
    "space_to_json",
    "space_from_json",
    "validate_configuration",
    "sample_configurations",
    "make_pipeline",
]


@dataclass(frozen=True)
class SearchSpace:
    """A named, versioned search space: how to build it and its per-model default configurations."""

    name: str
    version: str
    build: Callable[..., ConfigurationSpace]
    defaults: Callable[[], dict[str, dict[str, Any]]]
    description: str


SPACES: dict[str, SearchSpace] = {
    _cash.NAME: SearchSpace(_cash.NAME, _cash.VERSION, _cash.build_space, _cash.model_defaults,
                            "CASH over 7 scikit-learn classifiers with preprocessing choices"),
}


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
    try:
        config = Configuration(space, values=dict(values))
        config.check_valid_configuration()
    except (ValueError, TypeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"configuration is not valid in space {space.name!r}: {message}") from exc
    return to_builtin(dict(config))


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
