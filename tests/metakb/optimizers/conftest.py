"""Small search spaces for the optimizer tests."""

from __future__ import annotations

import ConfigSpace as CS
import pytest


def conditional_space(seed: int | None = None) -> CS.ConfigurationSpace:
    """A categorical parent, a float active under one choice, a log int and an ordinal."""
    space = CS.ConfigurationSpace(seed=seed)
    kind = CS.CategoricalHyperparameter("kind", ["linear", "tree", "knn"])
    alpha = CS.UniformFloatHyperparameter("alpha", 1e-4, 1.0, log=True)
    depth = CS.UniformIntegerHyperparameter("depth", 1, 32, log=True)
    size = CS.OrdinalHyperparameter("size", ["small", "medium", "large"])
    space.add([kind, alpha, depth, size, CS.EqualsCondition(alpha, kind, "linear"),
               CS.EqualsCondition(depth, kind, "tree")])
    return space


def box_space() -> CS.ConfigurationSpace:
    """Two floats in [0, 1]."""
    space = CS.ConfigurationSpace()
    space.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0),
               CS.UniformFloatHyperparameter("y", 0.0, 1.0)])
    return space


def conditional_loss(config: dict, budget: float) -> float:
    """Best at kind=linear, alpha=1e-2, size=medium; lower budgets add noise-free bias."""
    import math

    if config["kind"] == "linear":
        loss = (math.log10(config["alpha"]) + 2) ** 2 / 4
    elif config["kind"] == "tree":
        loss = 0.5 + abs(config["depth"] - 8) / 32
    else:
        loss = 0.9
    return loss + (config["size"] != "medium") * 0.1 + 1.0 / budget


@pytest.fixture()
def cond_space() -> CS.ConfigurationSpace:
    return conditional_space()


@pytest.fixture()
def box() -> CS.ConfigurationSpace:
    return box_space()


@pytest.fixture()
def cond_loss():
    return conditional_loss
