"""The contract of an importance evaluator and the result it returns.

An evaluator takes a performance table (the configurations, their scores on one or more
datasets, and the search space) and returns an :class:`ImportanceResult`: one importance per
hyperparameter (and pair) per dataset, with aggregates over datasets. It never reads or writes
the knowledge base and never prints: the CLI and :mod:`metakb.importance.plots` present results.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace

from metakb.errors import ConfigError, DataError
from metakb.params import ParamsMixin, validate_params

__all__ = ["BaseImportanceEvaluator", "ImportanceResult", "pair_label", "check_table", "MIN_PAIR_DATASETS"]

MIN_PAIR_DATASETS = 3
"""Pairs computed on fewer datasets than this (or than all the datasets analysed, when there are
fewer) are ranked after every other pair: fANOVA computes a pair only where both hyperparameters
are among the dataset's most important, and a median over one or two datasets is not comparable
with a median over many."""


def pair_label(a: str, b: str) -> str:
    """The label of a pair of hyperparameters in tables, JSON and plots."""
    return f"{a} × {b}"


def _quartiles(frame: pd.DataFrame, min_datasets: int = 0) -> pd.DataFrame:
    """Per column: median, quartiles, mean and number of datasets, sorted by median.

    Columns with fewer than ``min_datasets`` values come last (sorted by median among themselves).
    """
    if frame.empty:
        return pd.DataFrame(columns=["median", "q25", "q75", "mean", "n_datasets"])
    summary = pd.DataFrame({
        "median": frame.median(axis=0),
        "q25": frame.quantile(0.25, axis=0),
        "q75": frame.quantile(0.75, axis=0),
        "mean": frame.mean(axis=0),
        "n_datasets": frame.notna().sum(axis=0).astype(int),
    })
    summary = summary.sort_values(["median", "mean"], ascending=False, kind="stable")
    thin = summary["n_datasets"] < min_datasets
    return pd.concat([summary[~thin], summary[thin]])


@dataclass
class ImportanceResult:
    """Importances of hyperparameters on each dataset, and their aggregates.

    Attributes:
        method: the evaluator that produced it (``"fanova"``, ``"tunability"``).
        hyperparameters: the hyperparameters analysed, in space order.
        per_dataset: datasets × hyperparameters importances.
        pairs_per_dataset: datasets × pair labels (``"a × b"``) importances, or None.
        per_dataset_std: datasets × hyperparameters spread of each estimate (over trees), or None.
        details: method-specific data (JSON-ready), e.g. fANOVA's total variances.
    """

    method: str
    hyperparameters: list[str]
    per_dataset: pd.DataFrame
    pairs_per_dataset: pd.DataFrame | None = None
    per_dataset_std: pd.DataFrame | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def datasets(self) -> list[str]:
        return [str(d) for d in self.per_dataset.index]

    def summary(self) -> pd.DataFrame:
        """Hyperparameters sorted by median importance, with quartiles over datasets."""
        return _quartiles(self.per_dataset)

    def pair_summary(self) -> pd.DataFrame:
        """Pairs sorted by median importance, with quartiles over datasets (empty if none).

        ``n_datasets`` counts the datasets a pair was computed on; pairs on fewer than
        :data:`MIN_PAIR_DATASETS` (capped at the number of datasets analysed) come last.
        """
        need = min(MIN_PAIR_DATASETS, len(self.per_dataset))
        return _quartiles(self.pairs_per_dataset if self.pairs_per_dataset is not None else pd.DataFrame(), need)

    def ranking(self) -> list[str]:
        """Hyperparameter names, most important first (by median over datasets)."""
        return [str(n) for n in self.summary().index]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: aggregates, per-dataset values and the method's details."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:  # row-wise, keeping int columns int
            return [{"name": str(k), **{str(c): _plain(frame.at[k, c]) for c in frame.columns}}
                    for k in frame.index]

        def nested(frame: pd.DataFrame | None) -> dict[str, dict[str, Any]] | None:
            if frame is None:
                return None
            return {str(i): {str(c): _plain(v) for c, v in row.items()} for i, row in frame.iterrows()}

        return {
            "method": self.method,
            "hyperparameters": list(self.hyperparameters),
            "datasets": self.datasets,
            "importance": records(self.summary()),
            "pairs": records(self.pair_summary()),
            "per_dataset": nested(self.per_dataset),
            "per_dataset_std": nested(self.per_dataset_std),
            "pairs_per_dataset": nested(self.pairs_per_dataset),
            "details": self.details,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


class BaseImportanceEvaluator(ParamsMixin, abc.ABC):
    """Base class of importance evaluators (fANOVA, tunability).

    Subclasses implement :meth:`evaluate`. Settings are stored by ``__init__`` unchanged
    (scikit-learn style: :meth:`get_params`, :meth:`set_params`) and checked against the
    class's ``_parameter_constraints`` (:mod:`metakb.params`) when :meth:`evaluate` uses them;
    every stochastic evaluator takes a ``seed``.
    """

    #: every constructor parameter -> its accepted values, checked by ``evaluate``.
    _parameter_constraints: dict[str, list[Any]] = {}

    def _validate_params(self) -> None:
        """ConfigError in scikit-learn's wording for a parameter outside its table."""
        validate_params(self)

    @abc.abstractmethod
    def evaluate(
        self,
        configurations: pd.DataFrame,
        performance: pd.DataFrame,
        space: ConfigurationSpace,
        *,
        hyperparameters: Sequence[str] | None = None,
    ) -> ImportanceResult:
        """Importances of the hyperparameters of ``space`` on every dataset of ``performance``.

        Args:
            configurations: one row per configuration (index: configuration id), one column per
                hyperparameter with raw values; NaN/None where a hyperparameter is inactive.
            performance: datasets × configuration ids scores (NaN where not evaluated); its
                ``attrs['higher_is_better']`` gives the direction (default: higher is better).
            space: the ConfigSpace the configurations come from (bounds, log scales, choices).
            hyperparameters: analyse only these (default: every non-constant one).

        Returns:
            The importances per dataset and their aggregates.
        """


def check_table(configurations: pd.DataFrame, performance: pd.DataFrame) -> pd.DataFrame:
    """Align ``performance``'s columns with ``configurations``' index and validate both.

    Raises:
        DataError: no dataset, no configuration in common, or no finite score.
    """
    if not isinstance(performance, pd.DataFrame) or performance.empty:
        raise DataError("performance table is empty; expected datasets × configurations scores")
    common = [c for c in performance.columns if c in configurations.index]
    if not common:
        raise DataError("no performance column matches a configuration id; "
                        f"got columns {list(performance.columns)[:5]}..., ids {list(configurations.index)[:5]}...")
    table = performance[common].astype(float)
    if not np.isfinite(table.to_numpy()).any():
        raise DataError("performance table has no finite score")
    table.attrs.update(performance.attrs)
    return table


def single_dataset(frame: pd.DataFrame, score: str, *, dataset: str = "data") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a flat table (configurations + one score column) into the evaluator's two inputs.

    Raises:
        ConfigError: ``score`` is not a column of ``frame``.
    """
    if score not in frame.columns:
        raise ConfigError(f"score column {score!r} is not in the table; columns are {list(frame.columns)}")
    configurations = frame.drop(columns=[score]).reset_index(drop=True)
    performance = pd.DataFrame([frame[score].to_numpy(dtype=float)], index=[dataset],
                               columns=configurations.index)
    return configurations, performance
