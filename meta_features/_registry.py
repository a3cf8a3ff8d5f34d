"""The registry of meta-features: one registration per feature, mapping its name to a function.

A feature function takes the extraction context (:class:`meta_features._context.Context`) and
returns either a number (a scalar feature) or a 1-D array of values (a per-attribute or
per-class feature, which is then summarised: ``skewness.mean``, ``skewness.sd``, ...). Values
that are undefined for a given dataset are returned as NaN together with a reason through
:meth:`Context.undefined`. The registry holds functions only; it never caches values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metakb.errors import ConfigError

__all__ = ["GROUPS", "COSTS", "TASKS", "BOTH", "Feature", "register", "features_of", "list_features",
           "REGISTRY"]

#: The groups, in extraction order (cheap first).
GROUPS: tuple[str, ...] = ("general", "statistical", "info-theory", "model-based", "landmarking")

#: Cost classes: ``low`` is O(n d), ``medium`` O(n d log n) or O(n d^2), ``high`` fits models.
COSTS: tuple[str, ...] = ("low", "medium", "high")

#: Task types a feature can describe. A feature that reads the target as class labels is
#: classification-only (the default); one that reads only ``X`` is registered for ``BOTH``.
TASKS: tuple[str, ...] = ("classification", "regression")
BOTH: tuple[str, ...] = TASKS


@dataclass(frozen=True)
class Feature:
    """One registered meta-feature.

    Attributes:
        name: Its name (pymfe's where the definition is the same).
        group: One of :data:`GROUPS`.
        description: One line: what it measures.
        cost: One of :data:`COSTS`.
        multi: True when the function returns several values (one per attribute, class, pair,
            fold, ...) that are summarised; False for a single number.
        function: ``function(ctx) -> float | np.ndarray``.
        tasks: The task types (:data:`TASKS`) whose datasets it describes.
    """

    name: str
    group: str
    description: str
    cost: str
    multi: bool
    function: Callable[[Any], Any]
    tasks: tuple[str, ...] = ("classification",)


REGISTRY: dict[str, Feature] = {}


def register(
    name: str, group: str, description: str, *, cost: str = "low", multi: bool = False,
    tasks: tuple[str, ...] = ("classification",),
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Decorator that registers ``function`` as the meta-feature ``name``.

    Raises:
        ConfigError: If the name is registered twice, or the group or cost is unknown.
    """
    if group not in GROUPS:
        raise ConfigError(f"meta-feature group must be one of {GROUPS}; got {group!r}")
    if cost not in COSTS:
        raise ConfigError(f"meta-feature cost must be one of {COSTS}; got {cost!r}")
    if not tasks or set(tasks) - set(TASKS):
        raise ConfigError(f"meta-feature tasks must be a non-empty subset of {TASKS}; got {tasks!r}")

    def decorator(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if name in REGISTRY:
            raise ConfigError(f"meta-feature {name!r} is registered twice")
        REGISTRY[name] = Feature(name, group, description, cost, multi, function, tuple(tasks))
        return function

    return decorator


def features_of(group: str, task: str = "classification") -> list[Feature]:
    """The registered features of ``group`` that describe ``task`` datasets, in registration order."""
    return [f for f in REGISTRY.values() if f.group == group and task in f.tasks]


def list_features(task: str | None = None) -> dict[str, dict[str, Any]]:
    """Registered features (of ``task`` when given): ``name -> {group, description, cost, summarised, tasks}``."""
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}; got {task!r}")
    return {
        f.name: {"group": f.group, "description": f.description, "cost": f.cost,
                 "summarised": f.multi, "tasks": list(f.tasks)}
        for f in REGISTRY.values() if task is None or task in f.tasks
    }
