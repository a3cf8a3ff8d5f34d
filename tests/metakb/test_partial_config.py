"""``metakb run`` with a partial configuration, and ``metakb space show`` (#23 item 11)."""

from __future__ import annotations

import json

import pytest

from metakb.cli import main
from metakb.errors import ConfigError
from metakb.spaces import complete_configuration, describe_space, get_search_space


def test_a_partial_configuration_takes_the_defaults_of_what_it_activates() -> None:
    cs = get_search_space("sklearn-cash").build()
    config, filled = complete_configuration(cs, {"classifier": "svc", "svc:C": 2.0, "svc:gamma_mode": "value"})
    assert config["svc:C"] == 2.0 and config["classifier"] == "svc"
    # nested: gamma_mode=value activates svc:gamma, which takes its default
    assert config["svc:gamma"] == pytest.approx(cs["svc:gamma"].default_value)
    assert {"svc:gamma", "svc:class_weight", "scaler"} <= set(filled)
    assert not any(k.startswith("random_forest") for k in config)  # inactive ones stay out
    assert complete_configuration(cs, {})[0]["classifier"] == cs["classifier"].default_value
    with pytest.raises(ConfigError, match="unknown hyperparameters"):
        complete_configuration(cs, {"svc:CC": 1})
    with pytest.raises(ConfigError, match="not valid"):
        complete_configuration(cs, {"classifier": "svc", "svc:C": -1.0})


def test_space_show_lists_ranges_conditions_and_defaults(capsys) -> None:
    rows = {r["name"]: r for r in describe_space(get_search_space("sklearn-cash").build())}
    assert rows["svc:gamma"]["active_if"] == "svc:gamma_mode == 'value'" and rows["svc:gamma"]["log"]
    assert rows["classifier"]["active_if"] == ""
    assert main(["space", "show", "sklearn-cash", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in shown["hyperparameters"]} == set(rows)
    assert main(["space", "show", "nope"]) == 2


def test_run_prints_the_defaults_it_used(pmlb_dir, tmp_path, capsys) -> None:
    data = pmlb_dir / "appendicitis" / "appendicitis.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    assert main(["run", str(data), "--target", "target", "--config", '{"classifier": "k_neighbors"}',
                 "--protocol", "holdout:0.33", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("defaults used: ") and "k_neighbors:n_neighbors=" in out
