"""Top-k hyperparameters, shrinking a space, and one model's part of a CASH space."""

from __future__ import annotations

import ConfigSpace as CS
import pandas as pd
import pytest

from metakb.errors import ConfigError, NotFoundError
from metakb.importance import (
    ImportanceResult,
    model_hyperparameters,
    restrict_to_model,
    shrink_space,
    top_k_hyperparameters,
)


@pytest.fixture()
def cash():
    space = CS.ConfigurationSpace({"classifier": ["svc", "rf"], "svc:C": (0.01, 100.0),
                                   "svc:kernel": ["rbf", "linear"], "svc:gamma": (0.001, 1.0),
                                   "rf:n": (10, 100), "scaler": ["none", "standard"]})
    space.add([CS.EqualsCondition(space["svc:C"], space["classifier"], "svc"),
               CS.EqualsCondition(space["svc:kernel"], space["classifier"], "svc"),
               CS.EqualsCondition(space["svc:gamma"], space["svc:kernel"], "rbf"),
               CS.EqualsCondition(space["rf:n"], space["classifier"], "rf")])
    return space


def _result(values: dict[str, list[float]]) -> ImportanceResult:
    frame = pd.DataFrame(values, index=[f"d{i}" for i in range(len(next(iter(values.values()))))])
    return ImportanceResult("fanova", list(values), frame)


def test_top_k_uses_the_median_over_datasets():
    # a has the largest mean (one outlier), b the largest median
    result = _result({"a": [0.9, 0.1, 0.1], "b": [0.3, 0.3, 0.3], "c": [0.0, 0.05, 0.0]})
    assert top_k_hyperparameters(result, 2) == ["b", "a"]
    assert top_k_hyperparameters(result, 10) == ["b", "a", "c"]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="k must be an int"):
            top_k_hyperparameters(result, bad)


def test_model_hyperparameters_follow_conditions_through_ancestors(cash):
    assert model_hyperparameters(cash, "svc") == ["svc:C", "svc:kernel", "svc:gamma"]
    assert model_hyperparameters(cash, "rf") == ["rf:n"]
    with pytest.raises(NotFoundError, match="not a choice"):
        model_hyperparameters(cash, "knn")
    with pytest.raises(NotFoundError, match="no hyperparameter 'model'"):
        model_hyperparameters(cash, "svc", choice="model")


def test_restrict_to_model(cash):
    configs = pd.DataFrame([{"classifier": "svc", "svc:C": 1.0, "svc:kernel": "linear"},
                            {"classifier": "rf", "rf:n": 20}], index=[7, 8])
    subset, names = restrict_to_model(configs, cash, "rf")
    assert list(subset.index) == [8] and names == ["rf:n"]
    with pytest.raises(ConfigError, match="no column"):
        restrict_to_model(configs.drop(columns=["classifier"]), cash, "rf")
    with pytest.raises(ConfigError, match="no configuration has"):
        restrict_to_model(configs.iloc[:1], cash, "rf")


def test_shrink_space_fixes_the_others_at_the_default(cash):
    default = {"classifier": "svc", "svc:C": 1.0, "svc:kernel": "rbf", "svc:gamma": 0.1, "scaler": "standard"}
    small = shrink_space(cash, ["svc:C", "svc:gamma"], default)
    assert set(small.keys()) == {"classifier", "svc:C", "svc:kernel", "svc:gamma", "scaler"}  # rf:n dropped
    assert isinstance(small["classifier"], CS.Constant) and small["classifier"].value == "svc"
    assert small["scaler"].value == "standard" and small["svc:kernel"].value == "rbf"
    assert isinstance(small["svc:C"], CS.UniformFloatHyperparameter)
    for config in small.sample_configuration(5):
        assert set(dict(config)) == {"classifier", "svc:C", "svc:kernel", "svc:gamma", "scaler"}


def test_shrink_space_drops_children_that_can_never_be_active(cash):
    small = shrink_space(cash, ["svc:C", "svc:gamma"], {"classifier": "svc", "svc:kernel": "linear"})
    assert "svc:gamma" not in small and "rf:n" not in small
    # without a default configuration, the space's own defaults are used
    keep_choice = shrink_space(cash, ["classifier", "svc:C"])
    assert keep_choice["rf:n"].value == cash["rf:n"].default_value
    assert {c.child.name for c in keep_choice.conditions} == {"svc:C", "svc:kernel", "svc:gamma", "rf:n"}
    assert {frozenset(dict(c)) for c in keep_choice.sample_configuration(20)} == {
        frozenset({"classifier", "svc:C", "svc:kernel", "svc:gamma", "scaler"}),
        frozenset({"classifier", "rf:n", "scaler"})}
    with pytest.raises(ConfigError, match="not in the space"):
        shrink_space(cash, ["nope"])
