"""From a performance matrix (datasets × configurations) to a normalised loss matrix.

Every portfolio builder works on the same object: a :class:`LossMatrix`, losses in ``[0, 1]``
per dataset (0 = the best configuration of that dataset in the matrix, 1 = the worst), so that
datasets of different difficulty weigh the same in the mean (Auto-sklearn 2.0 §4.1 uses the
normalised balanced error rate for the same reason).

Missing cells (a crashed, timed-out or never-run evaluation) are handled by one of three
documented policies:

* ``"worst"`` (default): the cell gets the worst value observed on its dataset (normalised
  loss 1). A configuration that crashes on a dataset is as good as useless there.
* ``"skip"``: configurations with a missing cell on any of the given datasets are dropped; an
  error is raised when none remain.
* ``"refuse"``: any missing cell raises :class:`~metakb.errors.DataError` naming how many there
  are and the first one.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError

__all__ = ["LossMatrix", "to_loss_matrix", "MISSING_POLICIES"]

MISSING_POLICIES = ("worst", "skip", "refuse")


@dataclass(frozen=True)
class LossMatrix:
    """Normalised losses of configurations on datasets.

    Attributes:
        loss: array of shape ``(n_datasets, n_configurations)`` with values in ``[0, 1]``
            (or raw losses when normalisation is off), no NaN.
        datasets: the row labels.
        configurations: the column labels.
    """

    loss: np.ndarray
    datasets: list[Hashable]
    configurations: list[Hashable]

    def rows(self, datasets: Sequence[Hashable]) -> LossMatrix:
        """The sub-matrix of some datasets (in the given order)."""
        index = {d: i for i, d in enumerate(self.datasets)}
        unknown = [d for d in datasets if d not in index]
        if unknown:
            raise ConfigError(f"datasets {unknown[:5]} are not rows of the performance matrix")
        picked = [index[d] for d in datasets]
        return LossMatrix(self.loss[picked], list(datasets), list(self.configurations))


def to_loss_matrix(
    performance: pd.DataFrame,
    *,
    higher_is_better: bool | None = None,
    missing: str = "worst",
    normalize: bool = True,
) -> LossMatrix:
    """Validate a performance matrix and turn it into losses (lower is better).

    Args:
        performance: datasets × configurations scores; NaN marks a missing cell.
        higher_is_better: the direction of the scores; by default ``performance.attrs
            ["higher_is_better"]`` (set by ``KnowledgeBase.performance_matrix``).
        missing: ``"worst"``, ``"skip"`` or ``"refuse"`` (see the module docstring).
        normalize: scale each dataset's losses to ``[0, 1]`` (0 = its best configuration,
            1 = its worst); a dataset on which every configuration scores the same gets 0.

    Returns:
        The loss matrix.

    Raises:
        ConfigError: an unknown policy or no direction given.
        DataError: an empty matrix, a dataset with no value at all, non-numeric cells, missing
            cells under ``"refuse"``, or no complete configuration under ``"skip"``.
    """
    if missing not in MISSING_POLICIES:
        raise ConfigError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    if higher_is_better is None:
        higher_is_better = performance.attrs.get("higher_is_better")
        if higher_is_better is None:
            raise ConfigError("higher_is_better is not given and the matrix has no "
                              "attrs['higher_is_better']; pass True or False")
    if performance.shape[0] == 0 or performance.shape[1] == 0:
        raise DataError(f"the performance matrix is empty (shape {performance.shape}); "
                        "expected at least one dataset and one configuration")
    try:
        values = performance.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"the performance matrix has non-numeric cells ({exc})") from exc
    if np.isinf(values).any():
        raise DataError("the performance matrix has infinite cells; expected finite scores or NaN")
    loss = -values if higher_is_better else values.copy()
    datasets, configurations = list(performance.index), list(performance.columns)
    empty_rows = np.isnan(loss).all(axis=1)
    if empty_rows.any():
        names = [datasets[i] for i in np.flatnonzero(empty_rows)[:5]]
        raise DataError(f"datasets {names} have no value for any configuration; drop them first")
    holes = np.isnan(loss)
    if holes.any():
        loss, configurations = _apply_missing(loss, holes, missing, datasets, configurations)
    if normalize:
        loss = _normalise_rows(loss)
    return LossMatrix(loss, datasets, configurations)


def _apply_missing(loss: np.ndarray, holes: np.ndarray, missing: str, datasets: list[Hashable],
                   configurations: list[Hashable]) -> tuple[np.ndarray, list[Hashable]]:
    if missing == "refuse":
        row, col = np.argwhere(holes)[0]
        raise DataError(
            f"the performance matrix has {int(holes.sum())} missing cells (first: dataset "
            f"{datasets[row]!r}, configuration {configurations[col]!r}); choose missing='worst' "
            "or 'skip'")
    if missing == "skip":
        keep = ~holes.any(axis=0)
        if not keep.any():
            raise DataError(f"every one of the {len(configurations)} configurations has a missing "
                            "cell, so missing='skip' leaves none; use missing='worst'")
        return loss[:, keep], [configurations[i] for i in np.flatnonzero(keep)]
    worst = np.nanmax(loss, axis=1, keepdims=True)
    return np.where(holes, worst, loss), configurations


def _normalise_rows(loss: np.ndarray) -> np.ndarray:
    low = loss.min(axis=1, keepdims=True)
    span = loss.max(axis=1, keepdims=True) - low
    # A dataset on which every configuration is equal cannot tell them apart: loss 0 for all.
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (loss - low) / safe, 0.0)
