"""Hyperparameter importance from a performance table: fANOVA and tunability.

Computation is apart from presentation: evaluators return :class:`ImportanceResult` objects;
:mod:`metakb.importance.plots` and the ``metakb importance`` command format them.
"""

from metakb.importance._base import (
    BaseImportanceEvaluator,
    ImportanceResult,
    pair_label,
    single_dataset,
)
from metakb.importance._fanova import FANOVA, FanovaResult, ForestSettings, Marginal
from metakb.importance._space import (
    model_hyperparameters,
    restrict_to_model,
    shrink_space,
    top_k_hyperparameters,
)
from metakb.importance._tunability import Tunability, TunabilityResult
from metakb.registry import Registry

__all__ = [
    "BaseImportanceEvaluator",
    "ImportanceResult",
    "FANOVA",
    "FanovaResult",
    "ForestSettings",
    "Marginal",
    "Tunability",
    "TunabilityResult",
    "top_k_hyperparameters",
    "shrink_space",
    "model_hyperparameters",
    "restrict_to_model",
    "pair_label",
    "single_dataset",
    "IMPORTANCE_EVALUATORS",
]

#: ``--method`` name -> evaluator class: one line per evaluator.
IMPORTANCE_EVALUATORS: Registry[type[BaseImportanceEvaluator]] = Registry("importance method")
IMPORTANCE_EVALUATORS.register("fanova", FANOVA)
IMPORTANCE_EVALUATORS.register("tunability", Tunability)
