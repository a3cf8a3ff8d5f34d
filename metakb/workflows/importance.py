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

__all__ = ["load_table", "resolve_space", "chosen_space_note"]


def resolve_space(kb: KnowledgeBase, name: str | None) -> tuple[str, bool]:
    """The space a command works on, and whether it was chosen for the user.

    ``None`` means the knowledge base's only space; a knowledge base with several uses the
    classification CASH space ``sklearn-cash`` when it holds it (the shipped one also holds
    ``sklearn-cash-regression``), and otherwise asks for a name. A given name is returned as is
    (the store checks it exists).

    Raises:
        ConfigError: no name was given and the knowledge base holds no space, or several
            without ``sklearn-cash``.
    """
    from metakb.errors import ConfigError
    from metakb.workflows.task import DEFAULT_SPACES

    if name is not None:
        return name, False
    names = sorted(set(kb.spaces()["name"]))
    if len(names) == 1:
        return names[0], True
    if not names:
        raise ConfigError("the knowledge base holds no search space; build one with `metakb build`")
    if DEFAULT_SPACES["classification"] in names:
        return DEFAULT_SPACES["classification"], True
    raise ConfigError(f"the knowledge base holds {len(names)} spaces {names}; choose one with --space")


def chosen_space_note(kb: KnowledgeBase, space: str) -> str:
    """The line that says which space :func:`resolve_space` chose for the user, and why."""
    others = sorted(set(kb.spaces()["name"]) - {space})
    if not others:
        return f"space {space} (the only one in the knowledge base)"
    return f"space {space} (the default; the knowledge base also holds {', '.join(others)}: choose with --space)"


def load_table(kb: KnowledgeBase, space_name: str, *, model: str | None = None, choice: str | None = None,
               datasets: list[str] | None = None, metric: str | None = None,
               budget: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame, Any, list[str] | None]:
    """The evaluator's inputs from the store: configurations, performance, space, hyperparameters.

    ``metric`` defaults to the space's (R² for a regression space, else balanced accuracy) and
    ``choice``, the CASH model-choice hyperparameter, to ``regressor`` in a space that has one,
    else ``classifier``.

    Raises:
        NotFoundError: the space, a dataset or the model is unknown.
        DataError: nothing was evaluated.
    """
    from ConfigSpace import ConfigurationSpace

    from metakb.importance import restrict_to_model
    from metakb.workflows.warmstart import default_metric

    space = ConfigurationSpace.from_json(io.StringIO(kb.get_space(space_name)["configspace"]))
    metric = default_metric(kb, space_name, metric)
    choice = choice or ("regressor" if "regressor" in space else "classifier")
    performance = kb.performance_matrix(space_name, metric=metric, budget=budget)
    if performance.empty:
        raise DataError(f"no evaluation of space {space_name!r} with metric {metric!r} at budget {budget}")
    stored = kb.configurations(space_name)
    configurations = pd.DataFrame(list(stored["config"]), index=stored.index)
    # a hyperparameter that no stored configuration sets (e.g. svc:gamma in a knowledge base of
    # 8 configurations without an SVC) is a column of missing values: inactive everywhere
    never_set = [name for name in space if name not in configurations.columns]
    configurations = configurations.reindex(columns=[*configurations.columns, *never_set])
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
