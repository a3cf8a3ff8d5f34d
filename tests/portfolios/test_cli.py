"""``metakb portfolio build|show|export|list`` on a small file-backed knowledge base."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float, Integer

from metakb.cli import main
from metakb.store import KnowledgeBase
from portfolios import load_smac_initial_design

SCORES = np.array([[0.90, 0.50, 0.70, 0.60],
                   [0.50, 0.90, 0.70, 0.60],
                   [0.50, 0.50, 0.95, 0.60]])


def _space_json() -> str:
    space = ConfigurationSpace(name="toy")
    space.add([Float("x", (0.0, 1.0)), Integer("n", (1, 10))])
    buffer = io.StringIO()
    space.to_json(buffer)
    return buffer.getvalue()


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        space_id = kb.add_space("toy", "1", _space_json(), origin="test")
        configs = kb.add_configurations(space_id, [{"x": i / 4, "n": i + 1} for i in range(4)],
                                        origin="test", labels=[f"c{i}" for i in range(4)])
        records = []
        for d in range(3):
            did = kb.add_dataset(f"d{d}", f"hash{d}", source="test", origin="test")
            for c, cid in enumerate(configs):
                value = None if (d, c) == (2, 3) else SCORES[d, c]
                records.append({"dataset_id": did, "configuration_id": cid, "budget": 1.0,
                                "protocol": "holdout", "seed": 0, "metric": "balanced_accuracy",
                                "higher_is_better": True, "value": value,
                                "status": "ok" if value is not None else "crashed",
                                "error": None if value is not None else "boom", "origin": "test"})
        kb.add_evaluations(records)
    return str(path)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_build_show_list_export(db, capsys, tmp_path):
    code, out, _ = run(capsys, "portfolio", "build", "--space", "toy", "--size", "3", "--name", "P",
                       "--db", db, "--json")
    assert code == 0
    stored = json.loads(out)
    # normalised losses: d0 [0, 1, .5, .75], d1 [1, 0, .5, .75], d2 [1, 1, 0, 1] (c3 crashed:
    # worst); greedy: c2 (1/3), then c0 (1/6, tie with c1 broken by index), then c1 (0)
    assert [m["config"]["x"] for m in stored["members"]] == [0.5, 0.0, 0.25]
    assert [m["objective"] for m in stored["members"]] == pytest.approx([1 / 3, 1 / 6, 0.0])
    assert [d["name"] for d in stored["datasets"]] == ["d0", "d1", "d2"]
    assert stored["settings"]["objective"] == pytest.approx([1 / 3, 1 / 6, 0.0])

    code, out, _ = run(capsys, "portfolio", "show", "P", "--db", db)
    assert code == 0 and "portfolio P: 3 configurations" in out and "c2" in out
    code, out, _ = run(capsys, "portfolio", "list", "--db", db, "--json")
    assert json.loads(out)[0]["name"] == "P" and json.loads(out)[0]["size"] == 3

    code, out, _ = run(capsys, "portfolio", "export", "P", "--format", "smac", "--db", db)
    configs = load_smac_initial_design(json.loads(out))
    assert [dict(c) for c in configs] == [m["config"] for m in stored["members"]]
    code, out, _ = run(capsys, "portfolio", "export", "P", "--format", "optuna", "--db", db)
    assert [item["params"] for item in json.loads(out)] == [m["config"] for m in stored["members"]]
    target = tmp_path / "p.json"
    assert run(capsys, "portfolio", "export", "P", "--db", db, "-o", str(target))[0] == 0
    assert json.loads(target.read_text())["configurations"][0] == stored["members"][0]["config"]


def test_build_on_a_subset_with_a_baseline(db, capsys):
    code, out, _ = run(capsys, "portfolio", "build", "--space", "toy", "--size", "2", "--datasets",
                       "d0", "d1", "--method", "top-average-rank", "--db", db, "--json")
    assert code == 0
    stored = json.loads(out)
    assert stored["name"] == "toy-top-average-rank-2"
    assert [d["name"] for d in stored["datasets"]] == ["d0", "d1"]


@pytest.mark.parametrize("argv, message", [
    (["--size", "5"], "size 5 is larger than the number of configurations available (4)"),
    (["--missing", "refuse"], "1 missing cells (first: dataset 'd2'"),
    (["--metric", "log_loss"], "no evaluations of space 'toy' with metric 'log_loss'"),
    (["--datasets", "nope"], "dataset 'nope' is not in the knowledge base"),
])
def test_bad_builds_write_nothing(db, capsys, argv, message):
    code, out, err = run(capsys, "portfolio", "build", "--space", "toy", "--db", db, *argv)
    assert code == 2 and message in err and err.count("\n") == 1
    with KnowledgeBase(db) as kb:
        assert kb.portfolios().empty


def test_name_taken_and_unknown_portfolio(db, capsys):
    assert run(capsys, "portfolio", "build", "--space", "toy", "--size", "2", "--name", "P", "--db", db)[0] == 0
    code, _, err = run(capsys, "portfolio", "build", "--space", "toy", "--size", "2", "--name", "P", "--db", db)
    assert code == 2 and "already exists" in err
    assert run(capsys, "portfolio", "build", "--space", "toy", "--size", "3", "--name", "P",
               "--replace", "--db", db)[0] == 0
    code, _, err = run(capsys, "portfolio", "show", "Q", "--db", db)
    assert code == 2 and "portfolio 'Q' is not in the knowledge base" in err


def test_console_script_subprocess(db, metakb_script):
    result = subprocess.run([str(metakb_script), "portfolio", "build", "--space",
                             "toy", "--size", "2", "--db", db, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["members"]) == 2


def test_datasets_without_any_value_are_dropped_and_recorded(db, capsys):
    with KnowledgeBase(db) as kb:
        did = kb.add_dataset("all-crashed", "hash-x", source="test", origin="test")
        kb.add_evaluations([{"dataset_id": did, "configuration_id": int(c), "budget": 1.0,
                             "protocol": "holdout", "seed": 0, "metric": "balanced_accuracy",
                             "higher_is_better": True, "status": "crashed", "error": "boom",
                             "origin": "test"} for c in kb.configurations("toy").index])
    code, out, _ = run(capsys, "portfolio", "build", "--space", "toy", "--size", "2", "--db", db, "--json")
    stored = json.loads(out)
    assert code == 0 and stored["settings"]["datasets_without_values"] == ["all-crashed"]
    assert [d["name"] for d in stored["datasets"]] == ["d0", "d1", "d2"]
