"""Optimizers with an ask/tell interface: BOHB (warm-startable) and random search.

Example:
    >>> from metakb.optimizers import BOHB
    >>> opt = BOHB(space, min_budget=1, max_budget=27, seed=0)  # doctest: +SKIP
    >>> trial = opt.suggest()                                     # doctest: +SKIP
    >>> opt.observe(trial.trial_id, loss=0.3)                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metakb.errors import ConfigError
from metakb.optimizers._base import (
    BaseOptimizer,
    OptimizeResult,
    OptimizerState,
    Result,
    Trial,
)
from metakb.optimizers._bohb import BOHB
from metakb.optimizers._hyperband import SuccessiveHalving, bracket_sizes, hyperband_budgets
from metakb.optimizers._random import RandomSearch
from metakb.registry import Registry

__all__ = [
    "BaseOptimizer",
    "BOHB",
    "RandomSearch",
    "Trial",
    "Result",
    "OptimizerState",
    "OptimizeResult",
    "SuccessiveHalving",
    "bracket_sizes",
    "hyperband_budgets",
    "restore",
    "OPTIMIZERS",
]

#: Optimizer kind (the class name a saved state records) -> class: one line per optimizer.
OPTIMIZERS: Registry[type[BaseOptimizer]] = Registry("optimizer kind")
OPTIMIZERS.register("BOHB", BOHB)
OPTIMIZERS.register("RandomSearch", RandomSearch)
_KINDS = OPTIMIZERS


def restore(state: OptimizerState | Mapping[str, Any]) -> BaseOptimizer:
    """Rebuild an optimizer from its :meth:`~BaseOptimizer.state` (or that state's dict).

    Finished evaluations are kept; trials in flight when the state was saved come out of
    ``suggest()`` again first.

    Raises:
        ConfigError: the state names an unknown optimizer.
    """
    if not isinstance(state, OptimizerState):
        state = OptimizerState.from_dict(state)
    cls = _KINDS.get(state.kind)
    if cls is None:
        raise ConfigError(f"optimizer kind {state.kind!r} is unknown; expected one of "
                          f"{sorted(_KINDS)}")
    return cls.from_state(state)
