"""Tunability on a small table checked by hand."""

from __future__ import annotations

import itertools

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.importance import Tunability, TunabilityResult, pair_label


@pytest.fixture()
def grid_table():
    """A full 3 x 2 grid of configurations on two datasets.

    configuration: (0,x) (0,y) (1,x) (1,y) (2,x) (2,y)
    d1:             .5    .6    .7    .9    .4    .5
    d2:             .6    .6    .8    .7    .9    .3
    mean:           .55   .60   .75   .80   .65   .40   -> default (a=1, b=y), id 3

    d1: default .9 = best         -> algorithm 0, a 0, b 0
    d2: default .7, best .9 (2,x) -> algorithm .2
        tuning a alone from (., y): max(.6, .7, .3) = .7 -> 0
        tuning b alone from (1, .): max(.8, .7)     = .8 -> .1
        tuning both: .9 -> .2; interaction .2 - max(0, .1) = .1
    """
    space = CS.ConfigurationSpace({"a": [0, 1, 2], "b": ["x", "y"]})
    configs = pd.DataFrame([{"a": a, "b": b} for a, b in itertools.product([0, 1, 2], ["x", "y"])])
    perf = pd.DataFrame([[0.5, 0.6, 0.7, 0.9, 0.4, 0.5], [0.6, 0.6, 0.8, 0.7, 0.9, 0.3]],
                        index=["d1", "d2"], columns=configs.index)
    return configs, perf, space


# bootstrap off and every feature at each split: every tree reproduces the grid exactly
EXACT_FOREST = {"bootstrap": False, "n_trees": 2, "max_features": 1.0}


@pytest.mark.parametrize("kwargs", [{"surrogate": "table"}, {"surrogate": "forest", **EXACT_FOREST}])
def test_hand_checked_table(grid_table, kwargs):
    configs, perf, space = grid_table
    result = Tunability(**kwargs).evaluate(configs, perf, space)
    assert isinstance(result, TunabilityResult)
    assert result.default_id == 3
    assert result.default == {"a": 1, "b": "y"}
    assert result.algorithm.to_dict() == pytest.approx({"d1": 0.0, "d2": 0.2})
    assert result.default_score.to_dict() == pytest.approx({"d1": 0.9, "d2": 0.7})
    assert result.best_score.to_dict() == pytest.approx({"d1": 0.9, "d2": 0.9})
    assert result.per_dataset.loc["d2"].to_dict() == pytest.approx({"a": 0.0, "b": 0.1})
    assert result.per_dataset.loc["d1"].to_dict() == pytest.approx({"a": 0.0, "b": 0.0})
    ab = pair_label("a", "b")
    assert result.pairs_per_dataset[ab].to_dict() == pytest.approx({"d1": 0.0, "d2": 0.2})
    assert result.interactions_per_dataset.loc["d2", ab] == pytest.approx(0.1)
    assert result.relative().loc["d2", "b"] == pytest.approx(0.5)
    assert np.isnan(result.relative().loc["d1", "b"])
    assert result.ranking() == ["b", "a"]
    data = result.to_dict()
    assert data["default"] == {"a": 1, "b": "y"} and data["algorithm"]["d2"] == pytest.approx(0.2)


def test_lower_is_better_metrics_are_flipped(grid_table):
    configs, perf, space = grid_table
    loss = 1.0 - perf
    loss.attrs["higher_is_better"] = False
    result = Tunability(surrogate="table").evaluate(configs, loss, space)
    assert result.default_id == 3
    assert result.algorithm["d2"] == pytest.approx(0.2)  # gains stay positive
    assert result.default_score["d2"] == pytest.approx(0.3)  # scores in the metric's own units


def test_median_aggregate_picks_a_different_default():
    space = CS.ConfigurationSpace({"a": [0, 1]})
    configs = pd.DataFrame({"a": [0, 1]})
    # config 0: mean .6, median .5; config 1: mean .55, median .55
    perf = pd.DataFrame([[0.5, 0.55], [0.5, 0.55], [0.8, 0.55]], index=["x", "y", "z"], columns=[0, 1])
    assert Tunability(surrogate="table").evaluate(configs, perf, space).default_id == 0
    assert Tunability(surrogate="table", aggregate="median").evaluate(configs, perf, space).default_id == 1


def test_missing_cells(grid_table):
    configs, perf, space = grid_table
    holes = perf.copy()
    holes.loc["d1", 3] = np.nan  # the best-on-average configuration is incomplete
    # the table keeps only complete configurations: means .55 .60 .75 - .65 .40 -> (1, x)
    assert Tunability(surrogate="table").evaluate(configs, holes, space).default_id == 2
    holes.loc["d2", [0, 1, 2, 4, 5]] = np.nan
    with pytest.raises(DataError, match="no configuration has a score on every dataset"):
        Tunability(surrogate="table").evaluate(configs, holes.drop(columns=[0]), space)



def test_forest_fills_missing_cells(grid_table):
    configs, perf, space = grid_table
    holes = perf.copy()
    holes.loc["d1", 3] = np.nan  # the table's default (1, y) loses its d1 score
    holes.loc["d2", 0] = np.nan
    result = Tunability(surrogate="forest", seed=0, **EXACT_FOREST).evaluate(configs, holes, space)
    # the forest keeps every configuration (the table would keep the 4 complete ones) ...
    assert result.details["n_configurations"] == 6
    assert np.isfinite(result.per_dataset.to_numpy()).all()
    assert (result.per_dataset.to_numpy() >= 0).all()
    # ... reproduces the observed cells (exact forest) and predicts a hole by a mean of
    # observed scores, never above their maximum: d1's best is its best observed .7 (2, x)
    assert result.best_score.to_dict() == pytest.approx({"d1": 0.7, "d2": 0.9})
    assert result.default_score.to_dict() == pytest.approx(holes[result.default_id].to_dict())


def test_numerical_hyperparameter_tuned_on_a_grid():
    # score = -(x - 0.8)^2 on every dataset: the default is the best sampled x, tuning x alone
    # can reach nearly 0 from it; y does not matter.
    rng = np.random.default_rng(0)
    space = CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    configs = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["x", "y"])
    perf = pd.DataFrame([-(configs["x"] - 0.8) ** 2] * 3, index=["a", "b", "c"])
    result = Tunability(seed=0, pairs=False).evaluate(configs, perf, space)
    assert abs(result.default["x"] - 0.8) < 0.05
    assert result.pairs_per_dataset is None
    assert (result.per_dataset["y"] < 1e-3).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"surrogate": "gp"}, "surrogate"), ({"aggregate": "max"}, "aggregate"), ({"grid_size": 1}, "grid sizes")])
def test_bad_settings_are_rejected(grid_table, kwargs, message):
    configs, perf, space = grid_table
    with pytest.raises(ConfigError, match=message):
        Tunability(**kwargs).evaluate(configs, perf, space)


def test_forest_skips_datasets_with_fewer_than_two_scores(grid_table):
    configs, perf, space = grid_table
    sparse = perf.copy()
    sparse.loc["d1", [1, 2, 3, 4, 5]] = np.nan
    result = Tunability(seed=0).evaluate(configs, sparse, space)
    assert result.datasets == ["d2"] and "d1" in result.details["skipped"]
    sparse.loc["d2", [1, 2, 3, 4, 5]] = np.nan
    with pytest.raises(DataError, match="no dataset has 2 or more finite scores"):
        Tunability().evaluate(configs, sparse, space)


def test_pairs_only_among_the_most_tunable():
    rng = np.random.default_rng(0)
    space = CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)})
    configs = pd.DataFrame(rng.uniform(size=(150, 3)), columns=["x", "y", "z"])
    perf = pd.DataFrame([-(configs["x"] - 0.8) ** 2 - 0.5 * (configs["y"] - 0.2) ** 2] * 2, index=["a", "b"])
    result = Tunability(seed=0, grid_size=10, pair_grid_size=5, pairs_of_top=2).evaluate(configs, perf, space)
    assert list(result.pairs_per_dataset.columns) == [pair_label("x", "y")]
    everything = Tunability(seed=0, grid_size=10, pair_grid_size=5, pairs_of_top=None)
    assert everything.evaluate(configs, perf, space).pairs_per_dataset.shape[1] == 3


def test_hyperparameters_inactive_in_the_default_are_not_tuned_alone():
    # b is active only when a == "on"; the default has a == "off", so b alone gains nothing,
    # while tuning a (which switches b on at its default) can gain.
    space = CS.ConfigurationSpace({"a": ["on", "off"], "b": CS.Float("b", (0.0, 1.0), default=0.5)})
    space.add(CS.EqualsCondition(space["b"], space["a"], "on"))
    configs = pd.DataFrame({"a": ["off", "on", "on", "on"], "b": [np.nan, 0.0, 0.5, 1.0]})
    perf = pd.DataFrame([[0.8, 0.1, 0.9, 0.1], [0.8, 0.1, 0.7, 0.1]], index=["d1", "d2"], columns=configs.index)
    result = Tunability(surrogate="table").evaluate(configs, perf, space)
    assert result.default == {"a": "off"}
    assert result.per_dataset["b"].tolist() == [0.0, 0.0]
    assert result.per_dataset["a"].to_dict() == pytest.approx({"d1": 0.1, "d2": 0.0})
