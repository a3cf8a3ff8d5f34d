"""Declarative parameter constraints and one validator that writes scikit-learn's message.

A public class declares ``_parameter_constraints``: a dict from each constructor parameter to a
list of accepted constraints (the value must satisfy at least one), as in scikit-learn's
``sklearn.utils._param_validation``::

    _parameter_constraints = {
        "eta": [Interval(numbers.Real, 1, None, closed="neither")],
        "bracket_rule": [StrOptions({"hpbandster", "paper"})],
        "seed": [None, Interval(numbers.Integral, 0, None, closed="left")],
    }

:func:`validate_params` checks an instance against its table and raises
:class:`~metakb.errors.ConfigError` with scikit-learn's wording, e.g.
``The 'eta' parameter of BOHB must be a float in the range (1, inf). Got '3' instead.``
It is called where the parameters are first used (``fit``, first ``suggest``, or the
constructor of a class that derives its state there).

This module is a leaf: it imports only the standard library and :mod:`metakb.errors`, so every
algorithm package may use it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from metakb.errors import ConfigError

__all__ = ["Interval", "StrOptions", "Options", "Predicate", "ParamsMixin", "validate_params", "describe", "SEED"]


@dataclass(frozen=True)
class Interval:
    """Numbers of ``type`` (``numbers.Integral`` or ``numbers.Real``) between ``left`` and
    ``right`` (None: unbounded); ``closed`` is ``"left"``, ``"right"``, ``"both"`` or ``"neither"``.
    Booleans are never numbers here, and neither NaN nor an infinity is inside an interval."""

    type: type
    left: float | None
    right: float | None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be left, right, both or neither; got {self.closed!r}")

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is of the type and inside the interval."""
        if isinstance(value, bool) or not isinstance(value, self.type):
            return False
        number: Any = int(value) if isinstance(value, numbers.Integral) else float(cast(Any, value))
        if isinstance(number, float) and not math.isfinite(number):  # an unbounded side is open: "inf)"
            return False
        if self.left is not None and (number < self.left or (number == self.left
                                                              and self.closed in ("right", "neither"))):
            return False
        return self.right is None or not (number > self.right or (number == self.right
                                                                 and self.closed in ("left", "neither")))

    def __str__(self) -> str:
        kind = "an int" if self.type is numbers.Integral else "a float"
        left = "-inf" if self.left is None else _number(self.left)
        right = "inf" if self.right is None else _number(self.right)
        opening = "[" if self.closed in ("left", "both") and self.left is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (compared with ``==``)."""

    options: frozenset[Any]

    def __init__(self, options: Iterable[Any]) -> None:
        object.__setattr__(self, "options", frozenset(options))

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is one of the options."""
        try:
            return value in self.options
        except TypeError:  # unhashable
            return False

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(o) for o in sorted(self.options, key=repr)) + "}"


class StrOptions(Options):
    """One of a fixed set of strings."""

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is a str and one of the options."""
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"


@dataclass(frozen=True)
class Predicate:
    """A constraint no other kind expresses: a test and its words in the message, e.g.
    ``Predicate(lambda v: all(isinstance(f, str) for f in v), "a list of str")``. The test may
    raise ``TypeError`` or ``ValueError`` on a foreign value (read as "not satisfied")."""

    test: Callable[[Any], bool]
    description: str

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self.test(value))
        except (TypeError, ValueError):
            return False


Constraint = Any  # None, a type, "boolean", a callable, Interval, Options

#: The accepted seeds of a numpy generator: None or a non-negative int.
SEED: list[Constraint] = [None, Interval(numbers.Integral, 0, None, closed="left")]


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _satisfies(constraint: Constraint, value: Any) -> bool:
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, bool)
    if isinstance(constraint, type):
        return isinstance(value, constraint) and not (constraint is not bool and isinstance(value, bool)
                                                      and issubclass(constraint, numbers.Number))
    if isinstance(constraint, (Interval, Options)):
        return constraint.is_satisfied_by(value)
    if callable(constraint):
        return bool(constraint(value))
    raise TypeError(f"unknown parameter constraint {constraint!r}")


def describe(constraint: Constraint) -> str:
    """The constraint in words, as in scikit-learn's messages."""
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "an instance of 'bool'"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    if isinstance(constraint, (Interval, Options)):
        return str(constraint)
    return getattr(constraint, "description", getattr(constraint, "__name__", repr(constraint)))


def validate_params(obj: Any, constraints: Mapping[str, list[Constraint]] | None = None,
                    *, owner: str | None = None,
                    get: Callable[[Any, str], Any] = getattr) -> None:
    """Check every parameter of ``obj`` named in its constraint table.

    Args:
        obj: the instance; its parameters are read as attributes (``get``).
        constraints: the table; default ``type(obj)._parameter_constraints``.
        owner: the class name in the message; default ``type(obj).__name__``.

    Raises:
        ConfigError: "The 'eta' parameter of BOHB must be a float in the range (1, inf). Got
            '3' instead." -- the first parameter (in table order) that satisfies none of its
            constraints.
    """
    table = type(obj)._parameter_constraints if constraints is None else constraints
    name = owner or type(obj).__name__
    for param, accepted in table.items():
        value = get(obj, param)
        if any(_satisfies(c, value) for c in accepted):
            continue
        words = [describe(c) for c in accepted]
        expected = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
        raise ConfigError(f"The {param!r} parameter of {name} must be {expected}. Got {value!r} instead.")


class ParamsMixin:
    """``get_params`` / ``set_params`` of scikit-learn, read from the constructor's signature:
    the parameters are the ``__init__`` arguments, stored under their own names."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Any:
        """Change constructor parameters (scikit-learn convention); return ``self``.

        Raises:
            ConfigError: a name is not a constructor parameter.
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {name!r}; expected one of {sorted(valid)}")
            setattr(self, name, value)
        return self
