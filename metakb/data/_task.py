"""The task type of a dataset (classification | regression): detection from the target, and checks.

Detection rule (:func:`detect_task`), applied to the non-missing target values in this order:

1. an explicit ``task`` (the CLI's ``--task``) wins, after its target is checked;
2. any value that is not a number (``"yes"``, ``"setosa"``) -> **classification**;
3. any number that is not integral (``2.5``) -> **regression**;
4. integral numbers *written as floats* (text ``"3.0"``, or a float dtype) with more than
   two distinct values -> **regression** (a writer that kept the decimal point meant a quantity);
5. integral numbers with at most :data:`MAX_CLASSES` distinct values -> **classification**,
   more -> **regression**.

PMLB folders declare their task (``metadata.yaml``/``index.csv``); :func:`pmlb_task` reads it
and it counts as the explicit task. Examples: ``529_pollen`` (continuous values) is regression
by rule 3. ``1027_ESL`` (9 ordinal scores 1..9, written ``6.0``) is regression by rule 4 and by
its PMLB declaration -- we keep it a regression (the scores are ordered and equally spaced, so a
squared-error model uses information a 9-class classifier throws away); the same values written
as plain integers would be detected as classification by rule 5, and ``task="regression"``
overrides that.

A regression :class:`~metakb.data.Table` holds its target as a float64 array (a classification
table holds strings); :func:`task_of_target` reads the task back from that dtype, which is how
the evaluation protocol and the metrics tell the two apart -- a table cannot be both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import DataError

__all__ = [
    "TASKS",
    "require_classification",
    "MAX_CLASSES",
    "check_task",
    "detect_task",
    "regression_target",
    "task_of_target",
    "as_task_table",
    "pmlb_task",
    "load_pmlb_task",
]

TASKS: tuple[str, ...] = ("classification", "regression")
#: Most distinct integral values a target written as integers may have and still be detected
#: as class labels (PMLB's classification targets have at most 26: ``letter``).
MAX_CLASSES = 30


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else one ConfigError-style DataError line."""
    if task not in TASKS:
        raise DataError(f"task must be one of {list(TASKS)}, got {task!r}")
    return task


def _present(y: Any) -> pd.Series:
    """The target's non-missing values as a Series (None, NaN and empty text are missing)."""
    values = pd.Series(np.asarray(y, dtype=object).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if values.dtype == object:
        values = values.map(lambda v: np.nan if v is None or (isinstance(v, str) and not v.strip())
                            else (v.strip() if isinstance(v, str) else v))
    return values[values.notna()]


def _as_numbers(values: pd.Series) -> tuple[np.ndarray, bool]:
    """The values as floats (NaN where not a number) and whether they were written as floats."""
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float), False
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float), pd.api.types.is_float_dtype(values)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    texts = [v for v in values if isinstance(v, str)]
    floats = [v for v in values if isinstance(v, (float, np.floating))]
    written = bool(floats) or any(("." in t or "e" in t.lower()) for t in texts)
    return numbers, written


def detect_task(y: Any, *, task: str | None = None, name: str = "target") -> str:
    """The task type of a target by the module's documented rule (``task`` overrides it).

    Args:
        y: the raw target values (text as read from a file, numbers, or labels).
        task: ``classification`` or ``regression`` to skip detection; the target is checked
            against it (a regression target must be numeric, finite and not constant).
        name: the target column's name, for messages.

    Raises:
        DataError: an unknown task; a target with no values; a regression target that is
            non-numeric, infinite or constant.
    """
    values = _present(y)
    if values.empty:
        raise DataError(f"target column {name!r} has no values (all missing)")
    if task is not None:
        check_task(task)
        if task == "regression":
            regression_target(values, name=name)
        return task
    numbers, written_as_float = _as_numbers(values)
    if np.isnan(numbers).any():
        return "classification"
    if np.isinf(numbers).any():
        regression_target(values, name=name)  # raises the infinite-value line
    distinct = np.unique(numbers)
    if not np.all(np.floor(distinct) == distinct):
        return "regression"
    if written_as_float and len(distinct) > 2:
        return "regression"
    return "classification" if len(distinct) <= MAX_CLASSES else "regression"


def regression_target(y: Any, *, name: str = "target") -> np.ndarray:
    """The target as a float64 array, refused with one DataError line unless it is usable.

    Raises:
        DataError: a missing value, a value that is not a number, +-inf, or a constant target.
    """
    raw = pd.Series(np.asarray(y, dtype=object).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    values = _present(raw)
    if values.empty:
        raise DataError(f"target column {name!r} has no values (all missing)")
    if len(values) < len(raw):
        raise DataError(f"target column {name!r} has {len(raw) - len(values)} missing values; "
                        f"drop those rows for a regression")
    numbers, _ = _as_numbers(values)
    bad = np.isnan(numbers)
    if bad.any():
        example = values[bad].iloc[0]
        raise DataError(f"target column {name!r} has non-numeric values such as {example!r} "
                        f"({int(bad.sum())} of {len(numbers)}); a regression needs a numeric target")
    infinite = np.isinf(numbers)
    if infinite.any():
        raise DataError(f"target column {name!r} has infinite values such as {float(numbers[infinite][0])!r} "
                        f"({int(infinite.sum())} of {len(numbers)}); a regression needs finite numbers")
    if np.ptp(numbers) == 0:
        raise DataError(f"target column {name!r} is constant ({float(numbers[0])!r}); a regression needs "
                        f"at least two distinct values")
    return numbers.astype(np.float64)


def task_of_target(y: Any) -> str:
    """``regression`` for a float target array (how a regression Table holds it), else classification."""
    return "regression" if np.asarray(y).dtype.kind == "f" else "classification"


def as_task_table(table: Any, task: str | None = None, *, declared: str | None = None) -> Any:
    """The :class:`~metakb.data.Table` of ``task`` (detected when None; ``declared`` is a source's own).

    A regression table gets its target as float64 (:func:`regression_target`) and
    ``notes["task"] = "regression"``; a classification table keeps its string labels. The
    explicit ``task`` wins over ``declared`` (e.g. PMLB's metadata), which wins over detection.
    The table's labels are already normalised text (``"3.0"`` became ``"3"``), so for a file
    the float-writing cue of rule 4 is lost here: pass ``task`` or ``declared`` when known.

    Raises:
        DataError: as :func:`detect_task` and :func:`regression_target`.
    """
    chosen = task if task is not None else declared
    if chosen is not None:
        check_task(chosen)
    kind = detect_task(table.y, task=chosen, name=table.target)
    if kind == "classification":
        if task_of_target(table.y) == "regression":
            table = replace(table, y=_labels_of(table.y))
        return replace(table, notes={**table.notes, "task": "classification"})
    y = regression_target(table.y, name=table.target)
    return replace(table, y=y, notes={**table.notes, "task": "regression"})


def _labels_of(y: np.ndarray) -> np.ndarray:
    """Float targets as class-label text (integral values without '.0')."""
    return np.asarray([str(int(v)) if float(v).is_integer() else repr(float(v)) for v in y], dtype=str)


def pmlb_task(folder: str | Path) -> str | None:
    """The task a PMLB dataset folder declares (``metadata.yaml``, else ``index.csv``), or None."""
    folder = Path(folder)
    meta = folder / "metadata.yaml"
    if meta.exists():
        import yaml

        try:
            task = (yaml.safe_load(meta.read_text()) or {}).get("task")
        except yaml.YAMLError as exc:
            raise DataError(f"cannot parse {meta}: {exc}") from exc
        if task in TASKS:
            return str(task)
    index = folder.parent.parent / "index.csv"
    if index.exists():
        rows = pd.read_csv(index, usecols=["name", "task"])
        match = rows.loc[rows["name"] == folder.name, "task"]
        if len(match) and match.iloc[0] in TASKS:
            return str(match.iloc[0])
    return None


def load_pmlb_task(folder: str | Path, task: str | None = None) -> Any:
    """:func:`~metakb.data.load_pmlb` with the task applied (``task``, else the folder's declaration)."""
    from metakb.data._tables import load_pmlb

    return as_task_table(load_pmlb(folder), task, declared=pmlb_task(folder))


def require_classification(table: Any, command: str) -> None:
    """Refuse a table whose target is a regression target, for a classification-only command.

    Until regression runs end to end (every command), a continuous target is not silently
    scored as thousands of classes: ``command`` says which command refused it.

    Raises:
        DataError: the target is detected as regression (:func:`detect_task`'s rule).
    """
    if detect_task(table.y, name=table.target) == "regression":
        raise DataError(f"the target {table.target!r} of {table.name!r} is continuous "
                        f"({len(np.unique(table.y))} distinct numbers, not all integers): a regression "
                        f"task, which `{command}` does not handle yet; give a class column as --target")
