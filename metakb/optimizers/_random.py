"""Random search: uniform configurations, each on the same budget (the baseline of every study).

References:
    Bergstra, Bengio. Random Search for Hyper-Parameter Optimization. JMLR 13, 2012.
"""

from __future__ import annotations

import numbers
from typing import Any

from metakb.optimizers._base import (
    BaseOptimizer,
    OptimizerState,
    Trial,
    configspace_from_json,
    configspace_to_json,
)
from metakb.optimizers._space import SpaceCodec
from metakb.params import SEED, Interval

__all__ = ["RandomSearch"]


class RandomSearch(BaseOptimizer):
    """Configurations drawn uniformly (forbidden draws redrawn, inactive values dropped).

    Args:
        configspace: the ConfigSpace 1.x search space.
        budget: the budget every configuration is evaluated on.
        seed: seed of the optimizer's own random generator.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "budget": [Interval(numbers.Real, 0, None, closed="neither")],
        "seed": [*SEED],
    }  # and the search space (BaseOptimizer._space_constraints)

    def __init__(self, configspace: Any, budget: float = 1.0, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.configspace = configspace
        self.budget = budget
        self._validate_params()  # here: the constructor derives the space's encoding
        self.codec_ = SpaceCodec(configspace)

    def _new_trial(self) -> tuple[dict[str, Any], float, dict[str, Any]]:
        return self.codec_.sample(self._rng), float(self.budget), {"model_based_pick": False}

    def _tell(self, trial: Trial, loss: float) -> None:
        return None

    def _settings(self) -> dict[str, Any]:
        return {"configspace": configspace_to_json(self.configspace), "budget": self.budget,
                "seed": self.seed}

    @classmethod
    def from_state(cls, state: OptimizerState) -> RandomSearch:
        """Rebuild a run from :meth:`state`."""
        settings = dict(state.settings)
        space = configspace_from_json(settings.pop("configspace"))
        opt = cls(space, **settings)
        opt._load_state(state)
        return opt
