"""From importances to smaller search spaces: top-k hyperparameters, shrinking, one model's part.

An optimizer that only tunes the few hyperparameters that matter converges faster (van Rijn and
Hutter 2018 use fANOVA across datasets this way). These helpers turn an
:class:`~metakb.importance.ImportanceResult` into such a space.

References:
    van Rijn, Hutter. Hyperparameter Importance Across Datasets. KDD 2018.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace, Constant
from ConfigSpace.conditions import AndConjunction, OrConjunction

from metakb.errors import ConfigError, NotFoundError
from metakb.importance._base import ImportanceResult

__all__ = ["top_k_hyperparameters", "shrink_space", "model_hyperparameters", "restrict_to_model"]


def top_k_hyperparameters(result: ImportanceResult, k: int) -> list[str]:
    """The ``k`` most important hyperparameters (by median importance over datasets).

    Raises:
        ConfigError: ``k`` is not a positive int.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be an int >= 1, got {k!r}")
    return result.ranking()[: int(k)]


def shrink_space(space: ConfigurationSpace, keep: Iterable[str],
                 default_config: Mapping[str, Any] | None = None) -> ConfigurationSpace:
    """A copy of ``space`` that tunes only ``keep``; every other hyperparameter is fixed.

    Fixed hyperparameters become :class:`~ConfigSpace.Constant` at their value in
    ``default_config`` (else the space's default). A condition whose parents are all fixed is
    decided now: not satisfied, the child can never be active and is dropped (with its
    descendants); satisfied, it is kept over the constant parent (which may itself be conditional). Forbidden clauses that mention a fixed
    hyperparameter are dropped.

    Raises:
        ConfigError: a name in ``keep`` is not in the space.
    """
    keep = list(dict.fromkeys(keep))
    unknown = [n for n in keep if n not in space]
    if unknown:
        raise ConfigError(f"hyperparameters {unknown} are not in the space; it has {list(space.keys())}")
    default_config = dict(default_config or {})
    fixed = {n: default_config.get(n, space[n].default_value) for n in space if n not in keep}
    dropped = _never_active(space, fixed)
    new = ConfigurationSpace(name=getattr(space, "name", None))
    hps = {}
    for name, hp in space.items():
        if name in dropped:
            continue
        hps[name] = hp if name in keep else Constant(name, _constant_value(fixed[name]))
    new.add(list(hps.values()))
    for condition in space.conditions:
        if condition.child.name in hps:
            new.add(_rebuild_condition(condition, hps))
    for clause in space.forbidden_clauses:
        names = {h.name for h in _forbidden_hps(clause)}
        if names <= set(keep) and not names & dropped:
            new.add(clause)
    return new


def _constant_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    return value


def _literals(condition: Any) -> list[Any]:
    return list(condition.dlcs) if isinstance(condition, (AndConjunction, OrConjunction)) else [condition]


def _never_active(space: ConfigurationSpace, fixed: Mapping[str, Any]) -> set[str]:
    """Hyperparameters whose conditions can never hold once ``fixed`` are fixed."""
    dropped: set[str] = set()
    changed = True
    while changed:
        changed = False
        for condition in space.conditions:
            child = condition.child.name
            if child in dropped:
                continue
            dead = [lit.parent.name in dropped
                    or (lit.parent.name in fixed and not lit.satisfied_by_value(dict(fixed)))
                    for lit in _literals(condition)]
            if all(dead) if isinstance(condition, OrConjunction) else any(dead):
                dropped.add(child)
                changed = True
    return dropped


def _rebuild_condition(condition: Any, hps: Mapping[str, Any]) -> Any:
    """The condition over the new hyperparameter objects (fixed parents are constants there).

    Conditions are kept even on a constant parent: the parent may itself be conditional, and
    the child must stay inactive wherever the parent is.
    """
    rebuilt = [_copy_literal(lit, hps) for lit in _literals(condition)]
    if len(rebuilt) == 1:
        return rebuilt[0]
    return (OrConjunction if isinstance(condition, OrConjunction) else AndConjunction)(*rebuilt)


def _copy_literal(literal: Any, hps: Mapping[str, Any]) -> Any:
    cls = type(literal)
    child, parent = hps[literal.child.name], hps[literal.parent.name]
    value = literal.values if hasattr(literal, "values") else literal.value
    return cls(child, parent, value)


def _forbidden_hps(clause: Any) -> list[Any]:
    if hasattr(clause, "hyperparameter"):
        return [clause.hyperparameter]
    out = []
    for component in getattr(clause, "components", ()):
        out += _forbidden_hps(component)
    for name in ("left", "right"):
        if hasattr(clause, name):
            out.append(getattr(clause, name))
    return out


def model_hyperparameters(space: ConfigurationSpace, model: str, *, choice: str = "classifier") -> list[str]:
    """The hyperparameters of one model of a conditional (CASH) space, in space order.

    A hyperparameter belongs to ``model`` when, following its conditions up through its
    ancestors, it depends on the ``choice`` hyperparameter and those conditions hold for
    ``choice = model``.

    Raises:
        NotFoundError: the space has no ``choice`` hyperparameter or ``model`` is not one of its values.
    """
    if choice not in space:
        raise NotFoundError(f"space has no hyperparameter {choice!r} to select a model; it has {list(space.keys())}")
    choices = list(getattr(space[choice], "choices", ()))
    if model not in choices:
        raise NotFoundError(f"model {model!r} is not a choice of {choice!r}; choices are {choices}")
    return [name for name in space if name != choice and _belongs(space, name, model, choice, set())]


def _belongs(space: ConfigurationSpace, name: str, model: str, choice: str, seen: set[str]) -> bool:
    if name in seen:
        return False
    seen.add(name)
    for condition in space.parent_conditions_of[name]:
        for literal in _literals(condition):
            parent = literal.parent.name
            if parent == choice and literal.satisfied_by_value({choice: model}):
                return True
            if parent != choice and _belongs(space, parent, model, choice, seen):
                return True
    return False


def restrict_to_model(configurations: pd.DataFrame, space: ConfigurationSpace, model: str,
                      *, choice: str = "classifier") -> tuple[pd.DataFrame, list[str]]:
    """The configurations of one model and the names of its hyperparameters.

    Raises:
        NotFoundError: ``model`` is unknown (see :func:`model_hyperparameters`).
        ConfigError: no configuration uses ``model``.
    """
    names = model_hyperparameters(space, model, choice=choice)
    if choice not in configurations.columns:
        raise ConfigError(f"configurations have no column {choice!r}; columns are {list(configurations.columns)}")
    subset = configurations[configurations[choice] == model]
    if subset.empty:
        raise ConfigError(f"no configuration has {choice} = {model!r}")
    return subset, names
