"""The performance matrix as a pure function over an evaluations frame (a leaf: pandas, numpy,
:mod:`metakb._convert`).

The store selects the evaluation rows (by space, budget, seed, datasets); this function turns
them into the dataset × configuration frame every algorithm reads. Keeping it out of the store
means one rule for it, testable without a database, and usable on any evaluations frame (an
export, a benchmark's own rows).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from metakb._convert import METRIC_FLOORS, metric_direction

__all__ = ["EVALUATION_COLUMNS", "performance_matrix", "main_protocol"]

#: The columns :func:`performance_matrix` reads from each evaluation row.
EVALUATION_COLUMNS = ("dataset", "configuration_id", "value", "status", "metric", "scores",
                      "higher_is_better", "protocol")


def performance_matrix(evaluations: pd.DataFrame, metric: str, *, protocol: str | None = None,
                       floor: bool = True) -> pd.DataFrame:
    """Scores of ``metric`` as a dataset × configuration frame (index: dataset; columns: config ids).

    Args:
        evaluations: one row per evaluation with :data:`EVALUATION_COLUMNS` (``scores`` is the
            JSON text of the other metrics, or None).
        metric: the row's primary ``value`` when its ``metric`` is this one, else the value in
            its ``scores``.
        protocol: keep only this protocol's rows; None: the protocol with the most rows (a tie
            goes to the alphabetically first name), so scores of different protocols never mix.
        floor: raise cells below the metric's floor (:data:`metakb._convert.METRIC_FLOORS`:
            R² below 0, worse than the training mean, counts as 0) after averaging; False
            keeps the raw means.

    Returns:
        Cells average the ``ok`` rows (over seeds); a cell without one is NaN. ``attrs`` hold
        ``metric``, ``higher_is_better`` (the stored direction of the metric's rows, else
        :func:`metakb._convert.metric_direction`), ``protocol`` (the one used; None for an
        empty frame when none was asked) and, when a floor was applied, ``floor``. An empty input gives an empty frame with the same
        axis names.

    Raises:
        ConfigError: the input is empty or holds no row of ``metric`` as primary metric, and
            ``metric`` is not a known metric (its direction is unknown).
    """
    if evaluations.empty:
        frame = pd.DataFrame(index=pd.Index([], name="dataset"), columns=pd.Index([], name="configuration_id"))
        frame.attrs.update(metric=metric, higher_is_better=metric_direction(metric), protocol=protocol)
        return frame
    long = evaluations
    if protocol is None:
        protocol = main_protocol(long["protocol"])
    long = long.loc[long["protocol"] == protocol].copy()
    long["score"] = [_score_of(row, metric) for row in long.itertuples(index=False)]
    higher = _direction_of(long, metric)
    frame = long.pivot_table(index="dataset", columns="configuration_id", values="score",
                             aggfunc="mean", dropna=False)
    all_configs = sorted(long["configuration_id"].unique())
    frame = frame.reindex(columns=all_configs).sort_index()
    frame.columns.name = "configuration_id"
    low = METRIC_FLOORS.get(metric) if floor else None
    if low is not None:
        frame = frame.clip(lower=low)  # NaN cells stay NaN
        frame.attrs["floor"] = low
    frame.attrs.update(metric=metric, higher_is_better=higher, protocol=protocol)
    return frame


def main_protocol(protocols: pd.Series) -> str:
    """The protocol with the most rows; a tie goes to the alphabetically first name."""
    counts = protocols.value_counts()
    best = int(counts.max())
    return str(min(str(name) for name, n in counts.items() if n == best))


def _score_of(row: Any, metric: str) -> float:
    """The value of ``metric`` in one evaluation row: its primary value or one of its scores."""
    if row.status != "ok":
        return np.nan
    if row.metric == metric:
        return float(row.value)
    if isinstance(row.scores, str) and row.scores:  # None (or NaN in a frame): no other scores
        value = json.loads(row.scores).get(metric)
        return np.nan if value is None else float(value)
    return np.nan


def _direction_of(long: pd.DataFrame, metric: str) -> bool:
    primary = long.loc[long["metric"] == metric, "higher_is_better"]
    if len(primary):
        return bool(primary.iloc[0])
    return metric_direction(metric)
