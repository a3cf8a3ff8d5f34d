"""Tunability: optimal defaults, and how much tuning an algorithm or a hyperparameter gains.

Given scores of many configurations on many datasets:

* the optimal default is the configuration with the best average score over datasets;
* the tunability of the algorithm on a dataset is the best score minus the default's score;
* the tunability of a hyperparameter on a dataset is the gain of tuning it alone, starting
  from the default with every other hyperparameter fixed (and of a pair, tuning both jointly;
  their interaction is the joint gain minus the larger single gain).

As in the paper, predictions off the table come from a surrogate model per dataset: here a
random forest on the unit-cube encoding (``surrogate="forest"``), evaluated on a grid over the
tuned hyperparameter(s) (every choice of a categorical one). With ``surrogate="table"`` only
observed scores are used: tuning a hyperparameter then searches the configurations of the
table that agree with the default everywhere else (exact on a full grid of configurations).
Gains are measured in the direction of the metric (positive = better).

References:
    Probst, Boulesteix, Bischl. Tunability: Importance of Hyperparameters of Machine Learning
    Algorithms. JMLR 20(53), 2019.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace

from metakb.errors import DataError
from metakb.importance._base import (
    BaseImportanceEvaluator,
    ImportanceResult,
    check_table,
    pair_label,
)
from metakb.importance._encoding import Param, encode, params_of_space
from metakb.importance._fanova import ForestSettings, fit_forest
from metakb.params import Interval, Predicate, StrOptions

__all__ = ["Tunability", "TunabilityResult"]


@dataclass
class TunabilityResult(ImportanceResult):
    """Tunability of each hyperparameter per dataset (``per_dataset``), plus the defaults.

    Attributes:
        default: the optimal default configuration: the active values of the analysed
            hyperparameters (inactive ones are left out).
        default_id: its configuration id in the table.
        algorithm: per dataset, the tunability of the whole algorithm (best minus default).
        default_score, best_score: per dataset, the default's and the best score (gain units).
        interactions_per_dataset: datasets × pairs, joint gain minus the larger single gain.
    """

    default: dict[str, Any] = field(default_factory=dict)
    default_id: Any = None
    algorithm: pd.Series | None = None
    default_score: pd.Series | None = None
    best_score: pd.Series | None = None
    interactions_per_dataset: pd.DataFrame | None = None

    def relative(self) -> pd.DataFrame:
        """Hyperparameter tunability divided by the algorithm's, per dataset (NaN where 0)."""
        algorithm = self.algorithm.replace(0.0, np.nan) if self.algorithm is not None else np.nan
        return self.per_dataset.div(algorithm, axis=0)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        series = {"algorithm": self.algorithm, "default_score": self.default_score, "best_score": self.best_score}
        data.update({
            "default": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.default.items()},
            "default_id": self.default_id.item() if isinstance(self.default_id, np.generic) else self.default_id,
            **{name: (None if s is None else {str(k): float(v) for k, v in s.items()}) for name, s in series.items()},
            "algorithm_summary": _series_summary(self.algorithm),
            "relative": {str(k): float(v) for k, v in self.relative().median(axis=0).items()},
        })
        return data


def _series_summary(series: pd.Series | None) -> dict[str, float] | None:
    if series is None or series.empty:
        return None
    return {"median": float(series.median()), "q25": float(series.quantile(0.25)),
            "q75": float(series.quantile(0.75)), "mean": float(series.mean())}


_GRID = Predicate(Interval(numbers.Integral, 2, None, closed="left").is_satisfied_by,
                  "an int in the range [2, inf) (grid sizes need at least 2 points)")


class Tunability(BaseImportanceEvaluator):
    """Tunability of an algorithm and of its hyperparameters across datasets.

    Args:
        surrogate: ``"forest"`` (a random forest per dataset predicts scores off the table, as
            the paper does with its surrogates) or ``"table"`` (observed scores only).
        aggregate: how the optimal default averages over datasets: ``"mean"`` or ``"median"``.
        grid_size: grid points per numerical hyperparameter when tuning one alone.
        pair_grid_size: grid points per numerical hyperparameter when tuning a pair.
        pairs: whether to compute pairwise tunability.
        pairs_of_top: only pairs among this many most tunable hyperparameters (None: all), and
            only pairs that are active together in some configuration.
        n_trees, bootstrap, max_features, min_samples_leaf: the surrogate forest's settings.
        seed: seed of the surrogate forests.

    References:
        Probst, Boulesteix, Bischl. Tunability: Importance of Hyperparameters of Machine
        Learning Algorithms. JMLR 20(53), 2019.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "surrogate": [StrOptions({"forest", "table"})],
        "aggregate": [StrOptions({"mean", "median"})],
        "grid_size": [_GRID],
        "pair_grid_size": [_GRID],
        "pairs": ["boolean"],
        "pairs_of_top": [None, Interval(numbers.Integral, 0, None, closed="left")],
        "n_trees": [Interval(numbers.Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "max_features": [Interval(numbers.Real, 0, 1, closed="right")],
        "min_samples_leaf": [Interval(numbers.Integral, 0, None, closed="left")],  # 0 means 1, as in pyrfr
        "seed": [None, Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],  # scikit-learn's random_state
    }

    def __init__(self, surrogate: str = "forest", *, aggregate: str = "mean", grid_size: int = 50,
                 pair_grid_size: int = 15, pairs: bool = True, pairs_of_top: int | None = 10,
                 n_trees: int = 32, bootstrap: bool = True,
                 max_features: float = 1.0, min_samples_leaf: int = 1, seed: int | None = 0) -> None:
        self.surrogate = surrogate
        self.aggregate = aggregate
        self.grid_size = grid_size
        self.pair_grid_size = pair_grid_size
        self.pairs = pairs
        self.pairs_of_top = pairs_of_top
        self.n_trees = n_trees
        self.bootstrap = bootstrap
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def evaluate(self, configurations: pd.DataFrame, performance: pd.DataFrame, space: ConfigurationSpace,
                 *, hyperparameters: Sequence[str] | None = None) -> TunabilityResult:
        self._validate_params()
        table = check_table(configurations, performance)
        sign = 1.0 if table.attrs.get("higher_is_better", True) else -1.0
        gains = table * sign  # higher is better from here on
        skipped: dict[str, str] = {}
        if self.surrogate == "forest":
            counts = np.isfinite(gains.to_numpy(dtype=float)).sum(axis=1)
            skipped = {str(d): f"{int(c)} finite scores; the surrogate needs >= 2"
                       for d, c in zip(gains.index, counts, strict=True) if c < 2}
            gains = gains[counts >= 2]
            if gains.empty:
                raise DataError(f"no dataset has 2 or more finite scores for the surrogate: {skipped}")
        params = params_of_space(space, hyperparameters)
        x = encode(configurations.loc[table.columns], params)
        predict = self._table_model(gains, x) if self.surrogate == "table" else self._forest_model(gains, x)
        complete = self._complete_matrix(gains, x, predict)
        default_col = self._default_column(complete)
        x_default = x[default_col]
        raw_default = configurations.loc[table.columns[default_col]]
        active = [not _missing(raw_default.get(p.name)) for p in params]
        default_score = complete.iloc[:, default_col]
        best_score = complete.max(axis=1)
        single = {p.name: self._tuned(predict, x, x_default, [d], params, active, self.grid_size)
                  for d, p in enumerate(params)}
        per_dataset = pd.DataFrame(single, index=gains.index).sub(default_score, axis=0).clip(lower=0.0)
        pairs_frame = interactions = None
        pairs = self._pairs(per_dataset, configurations.loc[table.columns, [p.name for p in params]])
        if pairs:
            joint = {pair_label(params[d].name, params[e].name):
                     self._tuned(predict, x, x_default, [d, e], params, active, self.pair_grid_size)
                     for d, e in pairs}
            pairs_frame = pd.DataFrame(joint, index=gains.index).sub(default_score, axis=0).clip(lower=0.0)
            interactions = pd.DataFrame({
                pair_label(params[d].name, params[e].name):
                    pairs_frame[pair_label(params[d].name, params[e].name)]
                    - np.maximum(per_dataset[params[d].name], per_dataset[params[e].name])
                for d, e in pairs})
        # the default's active values only (an inactive one has no value to recommend)
        default = {p.name: _plain_value(p, raw_default[p.name]) for p in params
                   if not _missing(raw_default.get(p.name))}
        return TunabilityResult(
            method="tunability", hyperparameters=[p.name for p in params], per_dataset=per_dataset,
            pairs_per_dataset=pairs_frame,
            details={"surrogate": self.surrogate, "aggregate": self.aggregate, "sign": sign, "skipped": skipped,
                     "n_configurations": int(table.shape[1]), "seed": self.seed},
            default=default, default_id=table.columns[default_col],
            algorithm=(best_score - default_score).clip(lower=0.0) * 1.0,
            default_score=default_score * sign, best_score=best_score * sign,
            interactions_per_dataset=interactions)

    def _pairs(self, single: pd.DataFrame, raw: pd.DataFrame) -> list[tuple[int, int]]:
        """Pairs among the most tunable hyperparameters (median gain) that are ever active together."""
        n = single.shape[1]
        if not self.pairs or n < 2:
            return []
        top = n if self.pairs_of_top is None else min(int(self.pairs_of_top), n)
        order = np.argsort(-single.median(axis=0).to_numpy(), kind="stable")[:top]
        active = raw.notna().to_numpy(dtype=float)
        coactive = (active.T @ active) > 0
        return [(int(d), int(e)) for d, e in itertools.combinations(sorted(order), 2) if coactive[d, e]]

    # ------------------------------------------------------------------ models of the scores
    def _table_model(self, gains: pd.DataFrame, x: np.ndarray):
        """Look up observed scores: a query returns the scores of the identical configuration."""
        values = gains.to_numpy(dtype=float)
        rounded = np.round(x, 9)
        index: dict[tuple[float, ...], list[int]] = {}
        for col, row in enumerate(map(tuple, rounded)):
            index.setdefault(row, []).append(col)

        def predict(queries: np.ndarray) -> np.ndarray:
            out = np.full((values.shape[0], len(queries)), np.nan)
            for q, row in enumerate(map(tuple, np.round(queries, 9))):
                cols = index.get(row)
                if cols:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        out[:, q] = np.nanmean(values[:, cols], axis=1) if len(cols) > 1 else values[:, cols[0]]
            return out

        return predict

    def _forest_model(self, gains: pd.DataFrame, x: np.ndarray):
        """One random forest per dataset, fitted on that dataset's finite scores."""
        settings = ForestSettings(n_trees=self.n_trees, bootstrap=self.bootstrap, max_features=self.max_features,
                                  min_samples_leaf=self.min_samples_leaf, max_depth=None)
        forests = []
        for _, row in gains.iterrows():
            y = row.to_numpy(dtype=float)
            keep = np.isfinite(y)
            forests.append(fit_forest(x[keep], y[keep], settings, self.seed))

        def predict(queries: np.ndarray) -> np.ndarray:
            return np.vstack([f.predict(queries) for f in forests])

        return predict

    def _complete_matrix(self, gains: pd.DataFrame, x: np.ndarray, predict) -> pd.DataFrame:
        """The observed table, or the surrogate's predictions for every configuration of it."""
        if self.surrogate == "table":
            return gains
        # every quantity from the surrogate, so that default, best and tuned scores agree
        return pd.DataFrame(predict(x), index=gains.index, columns=gains.columns)

    def _default_column(self, complete: pd.DataFrame) -> int:
        """Position of the configuration with the best average score over datasets."""
        values = complete.to_numpy(dtype=float)
        full = np.isfinite(values).all(axis=0)
        if not full.any():
            raise DataError("no configuration has a score on every dataset; use surrogate='forest' "
                            "to fill the missing cells")
        with np.errstate(all="ignore"):
            center = np.mean(values, axis=0) if self.aggregate == "mean" else np.median(values, axis=0)
        center = np.where(full, center, -np.inf)
        return int(np.argmax(center))

    def _tuned(self, predict, x: np.ndarray, x_default: np.ndarray, dims: list[int],
               params: Sequence[Param], active: Sequence[bool], grid_size: int) -> np.ndarray:
        """Per dataset, the best score reachable by changing only ``dims`` from the default.

        With the forest, candidates are a grid over ``dims``; with the table, the observed
        configurations that agree with the default on every other hyperparameter. A
        hyperparameter inactive in the default stays at its imputed value: it cannot be tuned
        without changing its parent (tuning the parent then uses the child's default).
        """
        dims = [d for d in dims if active[d]]
        if not dims:
            queries = x_default[None, :]
        elif self.surrogate == "table":
            others = [d for d in range(x.shape[1]) if d not in dims]
            same = np.all(np.isclose(x[:, others], x_default[others], atol=1e-9), axis=1)
            queries = np.vstack([x_default[None, :], x[same]])
        else:
            grids = [_unit_grid(params[d], grid_size) for d in dims]
            combos = np.array(list(itertools.product(*grids)))
            queries = np.repeat(x_default[None, :], len(combos) + 1, axis=0)
            queries[1:, dims] = combos  # row 0 is the default itself
        scores = predict(queries)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
            return np.nanmax(scores, axis=1)


def _unit_grid(param: Param, size: int) -> np.ndarray:
    if not param.is_numerical:
        return param.code_points()
    if param.kind == "int":
        span = int(param.upper - param.lower) + 1
        if span <= size and not param.log:
            return (np.arange(span)) / max(span - 1, 1)
    return np.linspace(0.0, 1.0, size)


def _plain_value(param: Param, value: Any) -> Any:
    """A raw value as a plain Python value of the hyperparameter's type."""
    if param.kind == "int":
        return int(value)
    if param.kind == "float":
        return float(value)
    return value.item() if isinstance(value, np.generic) else value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and bool(np.isnan(value)))
