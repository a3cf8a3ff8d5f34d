"""Exports load in Optuna (enqueue_trial) and ConfigSpace (SMAC initial design)."""

from __future__ import annotations

import json

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer

from metakb.errors import ConfigError
from portfolios import EXPORT_FORMATS, export_portfolio, load_smac_initial_design


def _space() -> ConfigurationSpace:
    space = ConfigurationSpace(name="toy")
    model = Categorical("model", ["tree", "linear"])
    depth = Integer("tree:depth", (1, 20))
    c = Float("linear:C", (1e-3, 10.0), log=True)
    space.add([model, depth, c])
    space.add([EqualsCondition(depth, model, "tree"), EqualsCondition(c, model, "linear")])
    return space


CONFIGS = [{"model": "tree", "tree:depth": 7}, {"model": "linear", "linear:C": 0.25},
           {"model": "tree", "tree:depth": 1}]


def test_json_export_keeps_order():
    out = export_portfolio(CONFIGS, "json", name="p")
    assert out == {"portfolio": "p", "configurations": CONFIGS}
    json.dumps(out)


def test_optuna_export_is_evaluated_first_in_order():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    items = export_portfolio(CONFIGS, "optuna", name="p")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for item in json.loads(json.dumps(items)):  # through JSON, as a file would carry it
        study.enqueue_trial(**item)

    def objective(trial):
        model = trial.suggest_categorical("model", ["tree", "linear"])
        if model == "tree":
            return float(trial.suggest_int("tree:depth", 1, 20))
        return trial.suggest_float("linear:C", 1e-3, 10.0, log=True)

    study.optimize(objective, n_trials=4)
    assert [t.params for t in study.trials[:3]] == CONFIGS
    assert [t.user_attrs["portfolio_position"] for t in study.trials[:3]] == [0, 1, 2]


def test_smac_export_loads_as_configspace_configurations():
    space = _space()
    out = export_portfolio(CONFIGS, "smac", name="p", configspace_json=_to_json(space))
    configs = load_smac_initial_design(json.loads(json.dumps(out)))
    assert [dict(c) for c in configs] == CONFIGS
    assert all(c.config_space == space for c in configs)


def test_smac_export_rejects_an_invalid_configuration():
    out = export_portfolio([{"model": "tree", "tree:depth": 99}], "smac",
                           configspace_json=_to_json(_space()))
    with pytest.raises(ConfigError, match="configuration 0 is not valid"):
        load_smac_initial_design(out)


def test_bad_format_and_smac_without_space():
    assert EXPORT_FORMATS == ("json", "optuna", "smac")
    with pytest.raises(ConfigError, match="export format must be one of"):
        export_portfolio(CONFIGS, "yaml")
    with pytest.raises(ConfigError, match="needs the search space"):
        export_portfolio(CONFIGS, "smac")


def _to_json(space: ConfigurationSpace) -> str:
    import io

    buffer = io.StringIO()
    space.to_json(buffer)
    return buffer.getvalue()
