"""Shared converters and the one rule for a metric's direction (a leaf: imports only the
standard library, numpy and :mod:`metakb.errors`).

Every layer needs the same few conversions: numpy values to plain JSON-able Python, canonical
JSON for identity by content, a content hash, a ConfigSpace space to and from JSON, and whether
a larger value of a metric is better. They live here once, below the store, the spaces, the
data importers and the evaluation, so that none of those imports another for a helper
(data flows only downwards: see ``DESIGN.md``, "Layers").
"""

from __future__ import annotations

import hashlib
import json
import math
from fractions import Fraction
from typing import Any

import numpy as np

from metakb.errors import ConfigError

__all__ = [
    "METRIC_DIRECTIONS",
    "METRIC_FLOORS",
    "higher_is_better",
    "metric_direction",
    "to_builtin",
    "canonical_json",
    "canonical_budget",
    "same_budget",
    "sha256_text",
    "space_to_json",
    "space_from_json",
]

# metric name -> whether a larger value is better. The one table of directions: the store's
# defaults, the evaluation protocols and the performance matrix all read it.
METRIC_DIRECTIONS: dict[str, bool] = {
    "balanced_accuracy": True,
    "accuracy": True,
    "roc_auc": True,
    "log_loss": False,
    "runtime": False,
    "par10": False,
    "error": False,
    "r2": True,
    "rmse": False,
    "mae": False,
}

# metric name -> the worst value a performance matrix keeps. R² has no lower bound (a diverged
# regressor scores -1e6) and anything below 0 is worse than predicting the training mean: such
# cells count as that baseline, so one wild model cannot flatten a dataset's normalised regrets
# or dominate a variance decomposition. Stored evaluations keep their raw values.
METRIC_FLOORS: dict[str, float] = {"r2": 0.0}

_STRICT = object()


def metric_direction(metric: str, default: Any = _STRICT) -> bool:
    """Whether larger values of ``metric`` are better.

    Args:
        metric: a metric name.
        default: the direction to assume for a metric metakb does not know (an imported
            scenario's own measure); without it an unknown name raises ConfigError.

    Raises:
        ConfigError: ``metric`` is unknown and no ``default`` was given.
    """
    if metric in METRIC_DIRECTIONS:
        return METRIC_DIRECTIONS[metric]
    if default is _STRICT:
        raise ConfigError(f"unknown metric {metric!r}; expected one of {sorted(METRIC_DIRECTIONS)}")
    return bool(default)


def higher_is_better(metric: str) -> bool:
    """Whether larger values of ``metric`` are better; unknown names raise ConfigError."""
    return metric_direction(metric)


def to_builtin(value: Any) -> Any:
    """Turn numpy scalars, arrays and nested containers into plain JSON-able Python values
    (NaN becomes None: JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_builtin(v) for v in value.tolist()]
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else value
    return value


#: Budgets within this relative distance of a simple fraction are that fraction.
BUDGET_RTOL = 1e-9


def canonical_budget(value: Any) -> float:
    """A budget as the one float every computation of it maps to.

    ``1/9``, ``3 ** -2`` and ``1 / 3 / 3`` differ in their last bits; stored as they come they
    would be three budgets (the evaluations' UNIQUE key compares floats exactly). A value within
    :data:`BUDGET_RTOL` of a fraction with a denominator up to 10**6 becomes that fraction's
    nearest float; any other finite value is returned as a float.

    Raises:
        ConfigError: the value is not a finite number.
    """
    try:
        budget = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"a budget must be a number, got {value!r}") from None
    if not math.isfinite(budget):
        raise ConfigError(f"a budget must be a finite number, got {value!r}")
    simple = float(Fraction(budget).limit_denominator(10**6))
    return simple if math.isclose(simple, budget, rel_tol=BUDGET_RTOL, abs_tol=0.0) else budget


def same_budget(a: float, b: float) -> bool:
    """Whether two budgets are the same (:func:`canonical_budget` tolerance)."""
    return math.isclose(float(a), float(b), rel_tol=BUDGET_RTOL, abs_tol=0.0)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal content gives equal text (identity by content).

    Raises:
        ConfigError: the value holds an infinite number (JSON has none).
    """
    try:
        return json.dumps(to_builtin(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ConfigError(f"value cannot be stored as JSON (infinite numbers are not allowed): {exc}") from exc


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def space_to_json(space: Any, *, sort_keys: bool = True) -> str:
    """ConfigSpace's own JSON serialisation of a ``ConfigurationSpace``.

    ``sort_keys`` (default) makes the text canonical, as the knowledge base stores it; the
    optimizers' saved states keep ConfigSpace's own key order (``sort_keys=False``).
    """
    return json.dumps(space.to_serialized_dict(), sort_keys=sort_keys)


def space_from_json(text: str) -> Any:
    """Read a space written by :func:`space_to_json` (a ``ConfigurationSpace``)."""
    from ConfigSpace import ConfigurationSpace

    return ConfigurationSpace.from_serialized_dict(json.loads(text))
