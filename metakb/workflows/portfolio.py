"""Workflow ``portfolio build``: read the performance matrix, build a portfolio, store it.

The construction is a method of :data:`portfolios.PORTFOLIO_METHODS` (it knows nothing of the
knowledge base); this module reads its input from the store and writes the result back with
its training and validation datasets and the objective after each member.
"""

from __future__ import annotations

import inspect
from typing import Any

from metakb.errors import ConfigError, DataError
from metakb.store import KnowledgeBase
from portfolios import PORTFOLIO_METHODS

__all__ = ["build_portfolio", "METHODS"]

#: The ``--method`` names: the registered portfolio methods.
METHODS = tuple(PORTFOLIO_METHODS)


def build_portfolio(kb: KnowledgeBase, *, space: str, size: int, name: str | None = None,
                    datasets: list[str] | None = None, metric: str | None = None,
                    method: str = "greedy", missing: str = "worst", normalize: bool = True,
                    validation: float | None = None, select_size: bool = False,
                    budget: float = 1.0, protocol: str | None = None, seed: int = 0,
                    replace: bool = False) -> dict[str, Any]:
    """Build a portfolio from the knowledge base and store it; return the stored portfolio.

    ``metric`` defaults to the space's (R² for a regression space, else balanced accuracy).

    Raises:
        ConfigError: a bad size, method or option, or a name already taken without ``replace``.
        DataError: no evaluations of the space and metric, or missing cells under ``refuse``.
        NotFoundError: an unknown space or dataset.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
    from metakb.workflows.warmstart import default_metric

    space_row = kb.get_space(space)
    metric = default_metric(kb, space, metric)
    ids = None if datasets is None else [int(kb.get_dataset(d)["id"]) for d in datasets]
    matrix = kb.performance_matrix(space_row["id"], metric=metric, budget=budget, protocol=protocol,
                                   datasets=ids)
    # Datasets without a single value carry no information (e.g. every run crashed): dropped.
    empty = [str(d) for d in matrix.index[matrix.isna().all(axis=1)]] if not matrix.empty else []
    matrix = matrix.dropna(how="all") if not matrix.empty else matrix
    if matrix.empty:
        raise DataError(f"no evaluations of space {space!r} with metric {metric!r} at budget {budget}"
                        + (f" and protocol {protocol!r}" if protocol else "") + "; nothing to build from")
    construct = PORTFOLIO_METHODS[method]
    accepted = inspect.signature(construct).parameters
    options: dict[str, Any] = {"missing": missing, "normalize": normalize}
    if "validation" in accepted:
        options.update(validation=validation, select_size=select_size)
    elif validation is not None or select_size:
        raise ConfigError(f"--validation and --select-size apply to the greedy method, not {method!r}")
    if "seed" in accepted:
        options["seed"] = seed
    result = construct(matrix, size, **options)
    name = name or f"{space}-{method}-{size}"
    roles = [(d, "train") for d in result.train_datasets] + [
        (d, "validation") for d in result.validation_datasets]
    settings = {**result.settings, "method": method, "metric": metric, "budget": budget,
                "protocol": protocol, "higher_is_better": bool(matrix.attrs["higher_is_better"]),
                "objective": result.objective, "validation_objective": result.validation_objective,
                "n_configurations": int(matrix.shape[1]), "n_datasets": int(matrix.shape[0]),
                "datasets_without_values": empty}
    members = [(int(str(c)), o) for c, o in zip(result.members, result.objective, strict=True)]
    kb.save_portfolio(
        name, int(space_row["id"]), members,
        datasets=[(int(kb.get_dataset(str(d))["id"]), role) for d, role in roles],
        settings=settings, origin="metakb portfolio build", replace=replace)
    return kb.get_portfolio(name)
