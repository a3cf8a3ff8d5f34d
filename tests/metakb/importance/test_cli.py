"""``metakb importance`` in-process and as the installed console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import ConfigSpace as CS
import numpy as np
import pytest

from metakb.cli import main
from metakb.spaces import space_to_json
from metakb.store import KnowledgeBase

PNG = b"\x89PNG\r\n\x1a\n"


def _space() -> CS.ConfigurationSpace:
    space = CS.ConfigurationSpace({"classifier": ["svc", "knn"],
                                   "svc:C": CS.Float("svc:C", (0.01, 100.0), log=True, default=1.0),
                                   "svc:shrinking": ["true", "false"],
                                   "knn:k": CS.Integer("knn:k", (1, 50), log=True, default=5)})
    space.add([CS.EqualsCondition(space["svc:C"], space["classifier"], "svc"),
               CS.EqualsCondition(space["svc:shrinking"], space["classifier"], "svc"),
               CS.EqualsCondition(space["knn:k"], space["classifier"], "knn")])
    return space


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A knowledge base with 3 datasets and 60 configurations of a small CASH space.

    The score rises with log C for the SVC (shrinking does nothing) and falls with k for kNN.
    """
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    space = _space()
    space.seed(0)
    configs = [dict(c) for c in space.sample_configuration(60)]
    with KnowledgeBase(path) as kb:
        space_id = kb.add_space("toy-cash", "1", space_to_json(space), origin="test")
        ids = kb.add_configurations(space_id, configs, origin="test")
        records = []
        for d in range(3):
            dataset_id = kb.add_dataset(f"data{d}", f"hash{d}", source="test", origin="test")
            for cid, config in zip(ids, configs, strict=True):
                if config["classifier"] == "svc":
                    value = 0.5 + 0.05 * np.log10(config["svc:C"]) * (d + 1) / 3
                else:
                    value = 0.8 - 0.1 * np.log10(config["knn:k"])
                records.append({"dataset_id": dataset_id, "configuration_id": cid, "budget": 1.0,
                                "protocol": "cv5", "seed": 0, "metric": "balanced_accuracy",
                                "status": "ok", "value": float(value), "origin": "test"})
        kb.add_evaluations(records)
    return path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_fanova_json_for_one_model(db, capsys):
    assert main(["importance", "--space", "toy-cash", "--model", "svc", "--method", "fanova",
                 "--json", "--db", str(db)]) == 0
    data = _json(capsys)
    assert data["hyperparameters"] == ["svc:C", "svc:shrinking"]
    assert data["importance"][0]["name"] == "svc:C"
    assert data["importance"][0]["median"] > 0.8
    assert data["datasets"] == ["data0", "data1", "data2"]


def test_fanova_table_whole_space_and_plots(db, capsys, tmp_path):
    plot, marginals = tmp_path / "bar.png", tmp_path / "marginals.png"
    assert main(["importance", "--space", "toy-cash", "--dataset", "data1", "--db", str(db),
                 "--plot", str(plot), "--marginals", str(marginals)]) == 0
    out = capsys.readouterr().out
    assert "fanova on toy-cash: 1 dataset" in out
    assert "classifier" in out and "knn:k" in out
    assert plot.read_bytes()[:8] == PNG and marginals.read_bytes()[:8] == PNG


def test_tunability_table(db, capsys):
    assert main(["importance", "--space", "toy-cash", "--model", "knn", "--method", "tunability",
                 "--surrogate", "table", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "optimal default" in out and "algorithm tunability" in out
    assert main(["importance", "--space", "toy-cash", "--model", "knn", "--method", "tunability",
                 "--json", "--db", str(db)]) == 0
    data = _json(capsys)
    assert data["default"]["knn:k"] <= 2  # the smallest k sampled is the best everywhere
    assert data["hyperparameters"] == ["knn:k"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--space", "nope"], "search space 'nope'"),
    (["--space", "toy-cash", "--model", "rf"], "model 'rf'"),
    (["--space", "toy-cash", "--dataset", "nope"], "datasets ['nope']"),
    (["--space", "toy-cash", "--metric", "accuracy"], "no evaluated configuration"),
    (["--space", "toy-cash", "--method", "tunability", "--marginals", "x.png"], "--marginals needs"),
])
def test_errors_are_one_line_and_exit_2(db, capsys, argv, message):
    assert main(["importance", *argv, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_installed_console_script(db, metakb_script):
    out = subprocess.run([str(metakb_script), "importance", "--space", "toy-cash", "--model", "svc", "--json",
                          "--db", str(db)], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout)["method"] == "fanova"
