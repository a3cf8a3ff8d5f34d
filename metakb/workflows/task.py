"""Workflow ``task``: one rule that fits a dataset, a search space and a metric to one task type.

Every command that takes a dataset (``recommend``, ``run``, ``optimize``, ``fit``, ``features``)
resolves it here, before anything is computed or written:

1. the dataset's task type is ``task`` when given (the CLI's ``--task``), else the one its
   table already carries (a typed :class:`~metakb.data.Table`, a regression one holding a float
   target), else the one a PMLB file's ``metadata.yaml`` declares, else
   detected from the target (:func:`metakb.data.detect_task`, the documented rule, applied to
   the file's raw values when it was loaded, so ``6.0`` still reads as a quantity); a named
   space never changes it: an integer class column asked for a regression space is refused
   (``--task regression`` treats it as a quantity);
2. the space defaults to the task's CASH space (:data:`DEFAULT_SPACES`); a named space of the
   other task type is refused with one line (``check_space_task``);
3. the metric defaults to the task's (:data:`~metakb.evaluation.metrics.DEFAULT_METRIC`:
   balanced accuracy, R²); a metric of the other task type is refused.

A knowledge base's matrix is read per space, and a space belongs to one task type, so one
matrix never mixes classification and regression datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metakb.data import as_task_table, detect_task, task_of_target
from metakb.errors import ConfigError, DataError, SpaceError
from metakb.evaluation.metrics import DEFAULT_METRIC, metric_task
from metakb.spaces import check_space_task, get_search_space

__all__ = ["DEFAULT_SPACES", "TaskSetup", "default_space", "resolve_task", "space_metric"]

#: The search space a dataset of each task type uses when none is named.
DEFAULT_SPACES: dict[str, str] = {"classification": "sklearn-cash", "regression": "sklearn-cash-regression"}


@dataclass(frozen=True)
class TaskSetup:
    """A dataset fitted to its task: the typed table, the space, the metric and the task type."""

    table: Any
    task: str
    space: str
    metric: str


def default_space(task: str) -> str:
    """The CASH space of ``task``."""
    if task not in DEFAULT_SPACES:
        raise ConfigError(f"task must be one of {sorted(DEFAULT_SPACES)}, got {task!r}")
    return DEFAULT_SPACES[task]


def space_metric(space: str, metric: str | None = None) -> str:
    """``metric`` if given, else the default metric of the space's task type."""
    return metric or DEFAULT_METRIC[get_search_space(space).task]


def _table_task(table: Any, task: str | None) -> str:
    """The task type of ``table`` by the module's rule (step 1)."""
    if task is not None:
        return task
    notes = getattr(table, "notes", None) or {}
    for key in ("task", "declared_task"):  # a typed table's own; a PMLB file's metadata.yaml
        if notes.get(key):
            return str(notes[key])
    if task_of_target(table.y) == "regression":
        return "regression"
    if notes.get("detected_task"):  # the rule applied to the file's raw values at load time
        return str(notes["detected_task"])
    return detect_task(table.y, name=table.target)


def resolve_task(table: Any, *, task: str | None = None, space: str | None = None,
                 metric: str | None = None) -> TaskSetup:
    """The table typed for its task, with the space and metric of that task.

    Args:
        table: a :class:`~metakb.data.Table` as loaded (labels as text) or already typed.
        task: ``classification`` or ``regression`` to skip detection (``--task``).
        space: a registered space name, or None for the task's CASH space.
        metric: the metric to rank by, or None for the task's default.

    Raises:
        DataError: an unusable target for the task (constant, all missing, infinite, text for a
            regression).
        SpaceError: ``space`` is of the other task type.
        ConfigError: an unknown task, or a metric of the other task type.
    """
    if task is not None and task not in DEFAULT_SPACES:
        raise ConfigError(f"task must be one of {sorted(DEFAULT_SPACES)}, got {task!r}")
    kind = _table_task(table, task)
    typed = as_task_table(table, kind)
    if kind == "classification" and len(set(map(str, typed.y))) < 2:
        raise DataError(f"target column {typed.target!r} of {typed.name!r} has a single class "
                        f"({typed.y[0]!r}); a classification needs at least two")
    chosen = space or default_space(kind)
    try:
        check_space_task(chosen, kind, dataset=typed.name)
    except SpaceError as exc:
        hint = "; --task regression treats the target as a quantity" if kind == "classification" else ""
        raise SpaceError(f"{exc}{hint}") from None
    chosen_metric = metric or DEFAULT_METRIC[kind]
    metric_kind = metric_task(chosen_metric)
    if metric_kind is not None and metric_kind != kind:
        raise ConfigError(f"metric {chosen_metric!r} is a {metric_kind} metric but {typed.name!r} is a "
                          f"{kind} task; use one of the {kind} metrics (default {DEFAULT_METRIC[kind]!r})")
    return TaskSetup(table=typed, task=kind, space=chosen, metric=chosen_metric)
