"""``metakb features``: in-process and one real subprocess of the console script."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main


@pytest.fixture()
def csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40),
                          "colour": rng.choice(["r", "g"], size=40)})
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    path = tmp_path / "toy.csv"
    frame.to_csv(path, index=False)
    return path


def test_features_json(csv, capsys):
    assert main(["features", str(csv), "--target", "label", "--groups", "general",
                 "statistical", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["features"]["nr_inst"] == 40
    assert out["features"]["nr_cat"] == 1
    assert set(out["groups"].values()) == {"general", "statistical"}


def test_features_table_and_list(csv, capsys):
    assert main(["features", str(csv), "--target", "label", "--groups", "general"]) == 0
    assert "nr_inst" in capsys.readouterr().out
    assert main(["features", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["class_ent"]["group"] == "info-theory"


def test_features_errors(csv, capsys):
    assert main(["features"]) == 2
    assert "needs DATA" in capsys.readouterr().err
    assert main(["features", str(csv), "--target", "nope"]) == 2


def test_console_script(csv, metakb_script):
    out = subprocess.run([str(metakb_script), "features", str(csv), "--target", "label", "--groups", "general",
                          "--json"], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout)["features"]["nr_attr"] == 3
