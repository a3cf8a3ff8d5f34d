"""Configurations as numbers in the unit cube, and back.

Both importance methods see a hyperparameter through one column of numbers in ``[0, 1]``:
numerical hyperparameters through their (log-)scaled position between the bounds, categorical
and ordinal ones through ``k`` equally spaced code points ``(i + 0.5) / k``. With this encoding
the uniform measure on the cube is the uniform distribution over the space that fANOVA
decomposes (log-uniform for log-scaled hyperparameters, one weight ``1/k`` per category).

Inactive (conditional) values are imputed with the hyperparameter's default, as the reference
fANOVA's ecosystem does (``ConfigSpace.util.impute_inactive_values`` in CAVE/PIMP): the
reference fANOVA itself treats every hyperparameter as always active.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    Constant,
    NumericalHyperparameter,
    OrdinalHyperparameter,
)

from metakb.errors import ConfigError

__all__ = ["Param", "params_of_space", "encode", "decode_value"]


@dataclass(frozen=True)
class Param:
    """One hyperparameter as the importance methods see it.

    Attributes:
        name: the hyperparameter's name.
        kind: ``"float"``, ``"int"``, ``"categorical"`` or ``"ordinal"``.
        lower, upper, log: bounds and scale of a numerical hyperparameter.
        choices: the values of a categorical or ordinal one, in order.
        default: the default value (used for inactive values).
    """

    name: str
    kind: str
    lower: float = 0.0
    upper: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    default: Any = None

    @property
    def is_numerical(self) -> bool:
        return self.kind in ("float", "int")

    @property
    def n_choices(self) -> int:
        return len(self.choices)

    def code_points(self) -> np.ndarray:
        """The unit-cube positions of the choices of a categorical/ordinal hyperparameter."""
        k = self.n_choices
        return (np.arange(k) + 0.5) / k

    def to_unit(self, values: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Encode raw values (no missing ones) into ``[0, 1]``."""
        if self.is_numerical:
            x = np.asarray(values, dtype=float)
            lo, hi = self.lower, self.upper
            if self.log:
                x, lo, hi = np.log(x), math.log(lo), math.log(hi)
            unit = (x - lo) / (hi - lo) if hi > lo else np.full_like(x, 0.5)
            return np.clip(unit, 0.0, 1.0)
        index = {_key(c): i for i, c in enumerate(self.choices)}
        try:
            codes = np.array([index[_key(v)] for v in values], dtype=float)
        except KeyError as exc:
            raise ConfigError(f"hyperparameter {self.name!r} got value {exc.args[0]!r}, "
                              f"expected one of {list(self.choices)}") from None
        return (codes + 0.5) / self.n_choices

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Decode unit-cube positions back to raw values (an object array for categories)."""
        unit = np.asarray(unit, dtype=float)
        if self.is_numerical:
            lo, hi = self.lower, self.upper
            if self.log:
                values = np.exp(math.log(lo) + unit * (math.log(hi) - math.log(lo)))
            else:
                values = lo + unit * (hi - lo)
            return np.round(values) if self.kind == "int" else values
        codes = np.clip(np.floor(unit * self.n_choices).astype(int), 0, self.n_choices - 1)
        return np.array([self.choices[c] for c in codes], dtype=object)


def _key(value: Any) -> Any:
    """Compare choices by value across types that JSON round trips change (True/'True', 1/1.0)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value)


def params_of_space(space: ConfigurationSpace, names: Iterable[str] | None = None) -> list[Param]:
    """The hyperparameters of ``space`` (or just ``names``) as :class:`Param`, constants left out.

    Raises:
        ConfigError: a name is not in the space, or a hyperparameter type is unsupported.
    """
    all_names = list(space.keys())
    wanted = all_names if names is None else list(names)
    unknown = [n for n in wanted if n not in space]
    if unknown:
        raise ConfigError(f"hyperparameters {unknown} are not in the space; it has {all_names}")
    params = []
    for name in wanted:
        hp = space[name]
        if isinstance(hp, Constant) or (isinstance(hp, CategoricalHyperparameter) and len(hp.choices) < 2):
            continue  # no variance to attribute (the reference fails on constants)
        params.append(_param_of(hp))
    return params


def _param_of(hp: Any) -> Param:
    if isinstance(hp, NumericalHyperparameter):
        kind = "int" if "Integer" in type(hp).__name__ else "float"
        return Param(hp.name, kind, float(hp.lower), float(hp.upper), bool(getattr(hp, "log", False)),
                     default=hp.default_value)
    if isinstance(hp, CategoricalHyperparameter):
        return Param(hp.name, "categorical", choices=tuple(hp.choices), default=hp.default_value)
    if isinstance(hp, OrdinalHyperparameter):
        return Param(hp.name, "ordinal", choices=tuple(hp.sequence), default=hp.default_value)
    raise ConfigError(f"hyperparameter {hp.name!r} has unsupported type {type(hp).__name__}; "
                      "expected a numerical, categorical, ordinal or constant hyperparameter")


def encode(configurations: pd.DataFrame, params: Sequence[Param]) -> np.ndarray:
    """Configurations (one row each, raw values, NaN/None where inactive) as a unit-cube matrix.

    Inactive values are imputed with the hyperparameter's default before encoding.

    Raises:
        ConfigError: a hyperparameter has no column, or a value is out of its choices.
    """
    missing = [p.name for p in params if p.name not in configurations.columns]
    if missing:
        raise ConfigError(f"configurations lack columns {missing}; they have {list(configurations.columns)}")
    columns = []
    for p in params:
        raw = configurations[p.name].tolist()
        filled = [p.default if _is_missing(v) else v for v in raw]
        columns.append(p.to_unit(filled))
    return np.column_stack(columns) if columns else np.empty((len(configurations), 0))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def decode_value(param: Param, unit: float) -> Any:
    """One unit-cube position back to a plain Python value."""
    value = param.from_unit(np.array([unit]))[0]
    if param.kind == "int":
        return int(value)
    if param.kind == "float":
        return float(value)
    return value.item() if isinstance(value, np.generic) else value
