"""``metakb fit`` / ``metakb predict``: round trip, and bad inputs give one line, exit 2, no file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fitcli")
    rng = np.random.default_rng(3)
    n = 80
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "kind": rng.choice(["x", "y"], n)})
    frame["label"] = np.where(frame["a"] > 0, "pos", "neg")
    data = folder / "train.csv"
    frame.to_csv(data, index=False)
    kb = folder / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", kb)
    model = folder / "model.skops"
    code = main(["fit", str(data), "--target", "label", "--time-budget", "60s", "--n-evaluations", "3",
                 "--warm-start", "none", "--ensemble-size", "2", "--db", str(kb), "--out", str(model)])
    assert code == 0 and model.exists()
    return {"folder": folder, "data": data, "model": model, "kb": kb}


def test_fit_then_predict_writes_labels_and_probabilities(files, capsys) -> None:
    out = files["folder"] / "pred.csv"
    assert main(["predict", str(files["model"]), str(files["data"]), "--proba", "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["prediction", "proba_neg", "proba_pos"]
    truth = pd.read_csv(files["data"])["label"]
    assert len(pred) == 80 and (pred["prediction"] == truth).mean() > 0.8
    np.testing.assert_allclose(pred[["proba_neg", "proba_pos"]].sum(axis=1), 1.0)


def _refused(capsys, argv: list[str], match: str, out: Path) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err, err
    assert not out.exists()


def test_bad_inputs_are_refused_with_one_line_and_nothing_written(files, capsys) -> None:
    folder, model, data = files["folder"], str(files["model"]), files["data"]
    out = folder / "never.csv"
    frame = pd.read_csv(data)
    frame.drop(columns="b").to_csv(folder / "lacking.csv", index=False)
    frame.assign(extra=1).to_csv(folder / "extra.csv", index=False)
    _refused(capsys, ["predict", model, str(folder / "lacking.csv"), "--out", str(out)],
             "lacks training column(s) ['b']", out)
    _refused(capsys, ["predict", model, str(folder / "extra.csv"), "--out", str(out)],
             "['extra'] the model was not trained on", out)
    (folder / "notmodel.skops").write_text("a,b\n1,2\n")
    _refused(capsys, ["predict", str(folder / "notmodel.skops"), str(data), "--out", str(out)],
             "is not a metakb model file", out)
    (folder / "trunc.skops").write_bytes(files["model"].read_bytes()[:1500])
    _refused(capsys, ["predict", str(folder / "trunc.skops"), str(data), "--out", str(out)],
             "truncated or damaged", out)
    new_model = folder / "never.skops"
    for budget in ("0", "abc"):
        _refused(capsys, ["fit", str(data), "--target", "label", "--time-budget", budget,
                          "--db", str(files["kb"]), "--out", str(new_model)], "--time-budget", new_model)
    frame.assign(label="same").to_csv(folder / "oneclass.csv", index=False)
    _refused(capsys, ["fit", str(folder / "oneclass.csv"), "--target", "label", "--time-budget", "5s",
                      "--db", str(files["kb"]), "--out", str(new_model)], "single class", new_model)
