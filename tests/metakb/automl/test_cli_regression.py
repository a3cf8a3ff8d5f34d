"""``metakb fit`` / ``metakb predict`` on a regression (#22): the task picks the estimator."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main
from metakb.errors import DataError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fitcli-reg")
    rng = np.random.default_rng(5)
    n = 80
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "kind": rng.choice(["x", "y"], n)})
    frame["price"] = 100 + 20 * frame["a"] + 5 * (frame["kind"] == "x") + rng.normal(size=n)
    data = folder / "train.csv"
    frame.to_csv(data, index=False)
    kb = folder / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", kb)  # classification scores only
    return {"folder": folder, "data": data, "kb": kb}


def _refused(capsys, argv: list[str], match: str, out: Path) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err, err
    assert not out.exists()


def test_fit_then_predict_writes_numbers(files, capsys) -> None:
    from metakb.automl import load_model

    folder, data = files["folder"], files["data"]
    model = folder / "model.skops"
    # default warm start (auto): the shipped store has no regression scores, so it starts cold
    code = main(["fit", str(data), "--target", "price", "--time-budget", "120s", "--n-evaluations", "3",
                 "--ensemble-size", "2", "--db", str(files["kb"]), "--out", str(model)])
    printed = capsys.readouterr().out
    assert code == 0 and model.exists(), printed
    assert "internal R² (cv:5)" in printed
    loaded = load_model(model)
    assert loaded.task == "regression"
    out = folder / "pred.csv"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["prediction"] and pred["prediction"].dtype == np.float64
    frame = pd.read_csv(data)
    np.testing.assert_array_equal(pred["prediction"].to_numpy(), loaded.predict(frame))
    residual = frame["price"] - pred["prediction"]
    assert 1 - (residual ** 2).sum() / ((frame["price"] - frame["price"].mean()) ** 2).sum() > 0.5
    # --proba asks a regression model for class probabilities: one line, exit 2, nothing written
    never = folder / "never.csv"
    _refused(capsys, ["predict", str(model), str(data), "--proba", "--out", str(never)],
             "regression model; it predicts numbers and has no class probabilities", never)


def test_bad_regression_setups_are_refused_with_one_line(files, capsys) -> None:
    folder, data = files["folder"], files["data"]
    model, kb = folder / "never.skops", str(files["kb"])
    frame = pd.read_csv(data)
    _refused(capsys, ["fit", str(data), "--target", "price", "--space", "sklearn-cash", "--time-budget",
                      "5s", "--db", kb, "--out", str(model)], "sklearn-cash", model)
    _refused(capsys, ["fit", str(data), "--target", "kind", "--task", "regression", "--time-budget",
                      "5s", "--db", kb, "--out", str(model)], "non-numeric values such as", model)
    frame.assign(price=np.r_[float("inf"), frame["price"].to_numpy()[1:]]).to_csv(
        folder / "inf.csv", index=False)
    _refused(capsys, ["fit", str(folder / "inf.csv"), "--target", "price", "--time-budget", "5s",
                      "--db", kb, "--out", str(model)], "infinite", model)


@pytest.mark.parametrize(("task", "expected"), [
    (None, ("AutoMLClassifier", "classification")),           # integers 1..5: class labels
    ("regression", ("AutoMLRegressor", "regression")),        # --task overrides the detection
    ("classification", ("AutoMLClassifier", "classification"))])
def test_the_task_picks_the_estimator(files, capsys, monkeypatch, task, expected) -> None:
    from metakb.automl import AutoMLClassifier, AutoMLRegressor

    chosen: list[tuple[str, str, str]] = []

    def record(self, table):  # stands in for the search: which estimator, on which table
        chosen.append((type(self).__name__, table.notes["task"], self.space))
        raise DataError("stop here")

    monkeypatch.setattr(AutoMLClassifier, "fit_table", record)
    monkeypatch.setattr(AutoMLRegressor, "fit_table", record)
    folder = files["folder"]
    frame = pd.read_csv(files["data"])
    frame.assign(score=np.arange(len(frame)) % 5 + 1).to_csv(folder / "scores.csv", index=False)
    argv = ["fit", str(folder / "scores.csv"), "--target", "score", "--db", str(files["kb"]),
            "--out", str(folder / "m.skops"), *(["--task", task] if task else [])]
    assert main(argv) == 2 and "stop here" in capsys.readouterr().err
    space = "sklearn-cash-regression" if expected[1] == "regression" else "sklearn-cash"
    assert chosen == [(*expected, space)]
