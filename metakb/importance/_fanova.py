"""fANOVA: hyperparameter importance by functional ANOVA of a random-forest surrogate.

A random forest is fitted to (configuration, score) pairs of one dataset; each tree is a
piecewise-constant function of the configuration, so its functional ANOVA decomposition over
the (bounded) space can be computed exactly from its leaves. The importance of a hyperparameter
is the fraction of the tree's variance explained by its main effect, averaged over trees; the
importance of a pair is the fraction explained by their interaction alone (the joint marginal's
variance minus both main effects). Marginal curves (mean ± sd over trees) show how the score
depends on one hyperparameter with all others averaged out.

The forest is scikit-learn's; its settings mirror the reference's pyrfr options (16 trees,
bootstrap, 70% of the features per split, min. samples to split/in a leaf, max. depth).
Hyperparameters live in the unit cube (log scale where the space says so), categorical ones as
equally weighted code points; inactive values are imputed with defaults (see ``_encoding``).

References:
    Hutter, Hoos, Leyton-Brown. An Efficient Approach for Assessing Hyperparameter Importance.
    ICML 2014. Reference implementation: automl/fanova 2.0.19 (pyrfr).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor, ExtraTreeRegressor

from metakb.errors import ConfigError, DataError
from metakb.importance._base import (
    BaseImportanceEvaluator,
    ImportanceResult,
    check_table,
    pair_label,
)
from metakb.importance._decomposition import TreeDecomposition, decompose_tree, random_split_points
from metakb.importance._encoding import Param, encode, params_of_space
from metakb.params import SEED, Interval, Predicate, StrOptions

__all__ = ["FANOVA", "FanovaResult", "Marginal", "fit_forest", "fit_trees", "ForestSettings"]


@dataclass(frozen=True)
class ForestSettings:
    """Random-forest settings, named after the reference fANOVA's (pyrfr) options.

    Attributes:
        n_trees: number of trees (reference default 16).
        bootstrap: resample the data for each tree (reference default True).
        max_features: fraction of the dimensions tried per split (reference: ``floor(0.7 D)``).
        min_samples_split: minimum samples to split a node (pyrfr 0 means 2 here).
        min_samples_leaf: minimum samples in a leaf (pyrfr 0 means 1 here).
        max_depth: maximum depth (reference default 64).
        kind: ``"random"`` (RandomForestRegressor) or ``"extra"`` (ExtraTreesRegressor).
        split_point: ``"random"`` draws each split point uniformly between the two data
            values it separates, as pyrfr does; ``"midpoint"`` keeps scikit-learn's midpoint.
    """

    n_trees: int = 16
    bootstrap: bool = True
    max_features: float = 0.7
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    max_depth: int | None = 64
    kind: str = "random"
    split_point: str = "random"

    def validate(self) -> None:
        if int(self.n_trees) < 1:
            raise ConfigError(f"n_trees must be an int >= 1, got {self.n_trees}")
        if not 0.0 < float(self.max_features) <= 1.0:
            raise ConfigError(f"max_features must be a fraction in (0, 1], got {self.max_features}")
        if self.kind not in ("random", "extra"):
            raise ConfigError(f"forest kind must be 'random' or 'extra', got {self.kind!r}")
        if self.split_point not in ("random", "midpoint"):
            raise ConfigError(f"split_point must be 'random' or 'midpoint', got {self.split_point!r}")


def fit_forest(x: np.ndarray, y: np.ndarray, settings: ForestSettings, seed: int | None) -> Any:
    """A scikit-learn forest fitted with the reference's settings (features as a floor count)."""
    settings.validate()
    n_features = max(1, math.floor(x.shape[1] * settings.max_features + 1e-9))
    cls = RandomForestRegressor if settings.kind == "random" else ExtraTreesRegressor
    forest = cls(n_estimators=int(settings.n_trees), bootstrap=settings.bootstrap, max_features=n_features,
                 min_samples_split=max(2, int(settings.min_samples_split)),
                 min_samples_leaf=max(1, int(settings.min_samples_leaf)), max_depth=settings.max_depth,
                 random_state=seed, n_jobs=1)
    return forest.fit(x, y)


def fit_trees(x: np.ndarray, y: np.ndarray, settings: ForestSettings,
              seed: int | None) -> list[tuple[Any, np.ndarray | None]]:
    """Bagged trees with the reference's settings, each with its split points.

    Like :func:`fit_forest`, but the trees are grown one by one on explicit bootstrap samples
    so that each split point can be redrawn from the data it separates
    (``settings.split_point == "random"``, as pyrfr does).

    Returns:
        ``(tree, thresholds)`` per tree; ``thresholds`` is None for scikit-learn's midpoints.
    """
    settings.validate()
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    n_features = max(1, math.floor(x.shape[1] * settings.max_features + 1e-9))
    cls = DecisionTreeRegressor if settings.kind == "random" else ExtraTreeRegressor
    trees = []
    for _ in range(int(settings.n_trees)):
        rows = rng.integers(0, n, n) if settings.bootstrap else np.arange(n)
        tree = cls(max_features=n_features, min_samples_split=max(2, int(settings.min_samples_split)),
                   min_samples_leaf=max(1, int(settings.min_samples_leaf)), max_depth=settings.max_depth,
                   random_state=int(rng.integers(2**31 - 1)))
        tree.fit(x[rows], y[rows])
        thresholds = random_split_points(tree, x[rows], rng) if settings.split_point == "random" else None
        trees.append((tree, thresholds))
    return trees


@dataclass
class Marginal:
    """The marginal curve of one hyperparameter on one dataset (mean ± sd over trees).

    Attributes:
        name: the hyperparameter.
        values: raw values where the curve is evaluated (choices for a categorical one).
        mean, std: the marginal predicted score at each value, mean and sd over trees.
        categorical: whether ``values`` are categories.
        log: whether the hyperparameter is on a log scale.
    """

    name: str
    values: list[Any]
    mean: np.ndarray
    std: np.ndarray
    categorical: bool
    log: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "values": [_plain(v) for v in self.values],
                "mean": self.mean.tolist(), "std": self.std.tolist(),
                "categorical": self.categorical, "log": self.log}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


@dataclass
class FanovaResult(ImportanceResult):
    """fANOVA importances; ``marginals[dataset][hyperparameter]`` holds the curves."""

    marginals: dict[str, dict[str, Marginal]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["marginals"] = {d: {h: m.to_dict() for h, m in curves.items()}
                             for d, curves in self.marginals.items()}
        return data


@dataclass
class DatasetDecomposition:
    """fANOVA of one dataset: per-tree variances, importances and marginals."""

    params: list[Param]
    trees: list[TreeDecomposition]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def _active_trees(self) -> list[TreeDecomposition]:
        trees = [t for t in self.trees if t.total_variance > 0]
        if not trees:
            raise DataError("every tree of the forest is constant (zero total variance); "
                            "the scores do not vary with the configuration")
        return trees

    def main_fractions(self) -> np.ndarray:
        """``(n_trees, D)`` fraction of each tree's variance explained by each main effect."""
        trees = self._active_trees()
        return np.array([[t.main_variance(d) / t.total_variance for d in range(len(self.params))]
                         for t in trees])

    def pair_fractions(self, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """``(n_trees, n_pairs)`` fraction explained by each pair's interaction alone."""
        trees = self._active_trees()
        out = np.empty((len(trees), len(pairs)))
        for i, t in enumerate(trees):
            for j, (d, e) in enumerate(pairs):
                joint = t.pair_variance(d, e)
                out[i, j] = max(joint - t.main_variance(d) - t.main_variance(e), 0.0) / t.total_variance
        return out

    def marginal(self, d: int, n_points: int = 50) -> Marginal:
        """The marginal curve of dimension ``d`` over a grid of its range (or its choices)."""
        p = self.params[d]
        if not p.is_numerical:
            unit = p.code_points()
        elif p.kind == "int" and not p.log and p.upper - p.lower + 1 <= n_points:
            unit = p.to_unit(np.arange(int(p.lower), int(p.upper) + 1))  # every integer
        elif p.kind == "int":
            unit = np.unique(p.to_unit(np.unique(p.from_unit(np.linspace(0.0, 1.0, n_points)))))
        else:
            unit = np.linspace(0.0, 1.0, n_points)
        curves = np.array([t.marginal_at(d, unit) for t in self.trees])
        values = list(p.from_unit(unit))
        return Marginal(p.name, values, curves.mean(axis=0), curves.std(axis=0),
                        categorical=not p.is_numerical, log=p.log)


FOREST_KINDS = ("random", "extra")
_COUNT = Interval(numbers.Integral, 1, None, closed="left")
_SIZE = Interval(numbers.Integral, 0, None, closed="left")  # pyrfr's 0: the smallest that works


class FANOVA(BaseImportanceEvaluator):
    """Functional ANOVA of a random-forest surrogate, computed exactly over the trees' leaves.

    Args:
        n_trees, bootstrap, max_features, min_samples_split, min_samples_leaf, max_depth,
            forest, split_point: the forest's settings (see :class:`ForestSettings`; the
            reference's defaults, split points drawn at random between data values as pyrfr does).
        pairs_of_top: compute pairwise importances among this many most important
            hyperparameters (by main effect; 0 for none, None for all pairs).
        marginal_points: grid size of the marginal curves of numerical hyperparameters.
        seed: seed of the forest.

    References:
        Hutter, Hoos, Leyton-Brown. An Efficient Approach for Assessing Hyperparameter
        Importance. ICML 2014.

    Example:
        >>> import numpy as np, pandas as pd, ConfigSpace as CS
        >>> space = CS.ConfigurationSpace({"a": (0.0, 1.0), "b": (0.0, 1.0)})
        >>> rng = np.random.default_rng(0)
        >>> configs = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["a", "b"])
        >>> perf = pd.DataFrame([configs["a"] * 10 + configs["b"]], index=["toy"])
        >>> FANOVA(seed=0).evaluate(configs, perf, space).ranking()
        ['a', 'b']
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "n_trees": [_COUNT],
        "bootstrap": ["boolean"],
        "max_features": [Interval(numbers.Real, 0, 1, closed="right")],
        "min_samples_split": [_SIZE],
        "min_samples_leaf": [_SIZE],
        "max_depth": [None, _COUNT],
        "forest": [Predicate(lambda v: isinstance(v, str) and v in FOREST_KINDS,
                             "a forest kind among {'extra', 'random'}")],
        "split_point": [StrOptions({"random", "midpoint"})],
        "pairs_of_top": [None, _SIZE],
        "marginal_points": [_COUNT],
        "seed": [*SEED, np.random.Generator],  # numpy's default_rng takes all three
    }

    def __init__(self, n_trees: int = 16, *, bootstrap: bool = True, max_features: float = 0.7,
                 min_samples_split: int = 2, min_samples_leaf: int = 1, max_depth: int | None = 64,
                 forest: str = "random", split_point: str = "random", pairs_of_top: int | None = 10,
                 marginal_points: int = 50, seed: int | None = 0) -> None:
        self.n_trees = n_trees
        self.bootstrap = bootstrap
        self.max_features = max_features
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.forest = forest
        self.split_point = split_point
        self.pairs_of_top = pairs_of_top
        self.marginal_points = marginal_points
        self.seed = seed

    def _settings(self) -> ForestSettings:
        return ForestSettings(self.n_trees, self.bootstrap, self.max_features, self.min_samples_split,
                              self.min_samples_leaf, self.max_depth, self.forest, self.split_point)

    def decompose(self, x: np.ndarray, y: np.ndarray, params: Sequence[Param]) -> DatasetDecomposition:
        """Fit the forest on unit-cube inputs ``x`` and scores ``y``; decompose every tree.

        Raises:
            DataError: fewer than 2 finite scores, or ``x`` has the wrong shape.
        """
        self._validate_params()
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(params) or x.shape[0] != y.shape[0]:
            raise DataError(f"inputs have shape {x.shape} for {y.shape[0]} scores and {len(params)} "
                            "hyperparameters; expected (n_scores, n_hyperparameters)")
        keep = np.isfinite(y)
        if keep.sum() < 2:
            raise DataError(f"fANOVA needs at least 2 finite scores, got {int(keep.sum())}")
        if len(params) == 0:
            raise ConfigError("no hyperparameter to analyse (all are constant)")
        trees = fit_trees(x[keep], y[keep], self._settings(), self.seed)
        n_choices = [0 if p.is_numerical else p.n_choices for p in params]
        return DatasetDecomposition(list(params), [decompose_tree(t, n_choices, thr) for t, thr in trees])

    def evaluate(self, configurations: pd.DataFrame, performance: pd.DataFrame, space: ConfigurationSpace,
                 *, hyperparameters: Sequence[str] | None = None) -> FanovaResult:
        self._validate_params()
        table = check_table(configurations, performance)
        params = params_of_space(space, hyperparameters)
        names = [p.name for p in params]
        x_all = encode(configurations.loc[table.columns], params)
        active = configurations.loc[table.columns, names].notna().to_numpy(dtype=float)
        coactive = (active.T @ active) > 0  # pairs never active together have no interaction
        mains, stds, pair_rows, marginals, variances, skipped = {}, {}, {}, {}, {}, {}
        for dataset, scores in table.iterrows():
            key = str(dataset)
            try:
                dec = self.decompose(x_all, scores.to_numpy(dtype=float), params)
                fractions = dec.main_fractions()
            except DataError as exc:
                skipped[key] = str(exc)
                continue
            mains[key] = dict(zip(names, fractions.mean(axis=0), strict=False))
            stds[key] = dict(zip(names, fractions.std(axis=0), strict=False))
            pairs = self._pairs(fractions.mean(axis=0), coactive)
            if pairs:
                values = dec.pair_fractions(pairs).mean(axis=0)
                pair_rows[key] = {pair_label(names[d], names[e]): v for (d, e), v in zip(pairs, values, strict=False)}
            marginals[key] = {n: dec.marginal(d, self.marginal_points) for d, n in enumerate(names)}
            variances[key] = float(np.mean([t.total_variance for t in dec.trees]))
        if not mains:
            raise DataError(f"fANOVA could not analyse any dataset: {skipped}")
        return FanovaResult(
            method="fanova", hyperparameters=names,
            per_dataset=pd.DataFrame.from_dict(mains, orient="index")[names],
            per_dataset_std=pd.DataFrame.from_dict(stds, orient="index")[names],
            pairs_per_dataset=pd.DataFrame.from_dict(pair_rows, orient="index") if pair_rows else None,
            details={"total_variance": variances, "skipped": skipped,
                     "forest": self._settings().__dict__, "seed": self.seed},
            marginals=marginals)

    def _pairs(self, main: np.ndarray, coactive: np.ndarray) -> list[tuple[int, int]]:
        """Pairs among the most important hyperparameters that are ever active together."""
        top = len(main) if self.pairs_of_top is None else min(int(self.pairs_of_top), len(main))
        if top < 2:
            return []
        order = sorted(int(i) for i in np.argsort(-main, kind="stable")[:top])
        return [(d, e) for d, e in itertools.combinations(order, 2) if coactive[d, e]]
