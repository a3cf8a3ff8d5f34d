"""Workflow ``importance``: the evaluators' inputs (configurations, performance, space) from the store.

:mod:`metakb.importance` computes from frames; this module reads them from the knowledge base,
optionally restricted to one model of a CASH space and to some datasets.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from metakb.errors import DataError, NotFoundError
from metakb.store import KnowledgeBase

__all__ = ["load_table"]


def load_table(kb: KnowledgeBase, space_name: str, *, model: str | None = None, choice: str = "classifier",
               datasets: list[str] | None = None, metric: str = "balanced_accuracy",
               budget: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame, Any, list[str] | None]:
    """The evaluator's inputs from the store: configurations, performance, space, hyperparameters.

    Raises:
        NotFoundError: the space, a dataset or the model is unknown.
        DataError: nothing was evaluated.
    """
    from ConfigSpace import ConfigurationSpace

    from metakb.importance import restrict_to_model

    space = ConfigurationSpace.from_json(io.StringIO(kb.get_space(space_name)["configspace"]))
    performance = kb.performance_matrix(space_name, metric=metric, budget=budget)
    if performance.empty:
        raise DataError(f"no evaluation of space {space_name!r} with metric {metric!r} at budget {budget}")
    stored = kb.configurations(space_name)
    configurations = pd.DataFrame(list(stored["config"]), index=stored.index)
    if datasets:
        missing = [d for d in datasets if d not in performance.index]
        if missing:
            raise NotFoundError(f"datasets {missing} have no evaluation of {space_name!r}; "
                                f"known: {list(performance.index)[:10]}")
        performance = performance.loc[datasets]
    names = None
    if model is not None:
        configurations, names = restrict_to_model(configurations, space, model, choice=choice)
    columns = [c for c in performance.columns if c in configurations.index]
    performance = performance[columns].dropna(axis=1, how="all")
    if performance.empty:
        raise DataError(f"no evaluated configuration of {model or space_name!r} on the chosen datasets")
    return configurations.loc[performance.columns], performance, space, names
