"""A dataset, a search space and a metric are fitted to one task type (``metakb.workflows.task``).

A continuous target is a regression task (no longer scored as thousands of classes, #23 item 1);
asking a space of the other task type for it, or an unusable regression target, is refused with
one line, a non-zero exit and the knowledge base unchanged (#22, "Bad input").
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main
from metakb.data import load_table
from metakb.errors import ConfigError, DataError, SpaceError
from metakb.workflows.task import resolve_task

REPO = Path(__file__).resolve().parents[2]


def _shipped_copy(tmp_path: Path) -> tuple[Path, str]:
    kb = tmp_path / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", kb)
    return kb, hashlib.sha256(kb.read_bytes()).hexdigest()


def _refused(argv: list[str], kb: Path, before: str, capsys) -> str:
    assert main(argv + ["--db", str(kb)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert hashlib.sha256(kb.read_bytes()).hexdigest() == before
    return err


@pytest.mark.parametrize("argv", [
    ["run", "{data}", "--target", "target", "--config", '{"classifier": "k_neighbors"}'],
    ["recommend", "{data}", "--target", "target"],
    ["optimize", "{data}", "--target", "target", "--n-evaluations", "1"],
])
def test_a_continuous_target_is_refused_by_the_classification_space(pmlb_dir: Path, tmp_path: Path, capsys,
                                                                     argv) -> None:
    data = pmlb_dir / "529_pollen" / "529_pollen.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    kb, before = _shipped_copy(tmp_path)
    err = _refused([a.replace("{data}", str(data)) for a in argv] + ["--space", "sklearn-cash"], kb, before, capsys)
    assert "'sklearn-cash' is for classification" in err and "regression task" in err
    assert "sklearn-cash-regression" in err


@pytest.mark.parametrize("command", ["recommend", "optimize"])
def test_a_class_column_is_refused_by_the_regression_space(pmlb_dir: Path, tmp_path: Path, capsys,
                                                           command: str) -> None:
    data = pmlb_dir / "car" / "car.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    kb, before = _shipped_copy(tmp_path)
    extra = ["--n-evaluations", "1"] if command == "optimize" else []
    err = _refused([command, str(data), "--target", "target", "--space", "sklearn-cash-regression", *extra],
                   kb, before, capsys)
    assert "'sklearn-cash-regression' is for regression" in err and "classification task" in err
    assert "--task regression" in err


def _csv(tmp_path: Path, y: list) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=len(y)), "b": rng.normal(size=len(y)), "y": y})
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("values", "words"), [
    ([3.5] * 40, "constant"),
    ([float("nan")] * 40, "no values"),
    ([1.5, float("inf")] * 20, "infinite"),
    ([1.5, float("-inf")] * 20, "infinite"),
    (["low", "high"] * 20, "non-numeric"),
])
@pytest.mark.parametrize("command", ["recommend", "run", "optimize"])
def test_an_unusable_regression_target_is_one_line(tmp_path: Path, capsys, values, words, command) -> None:
    data = _csv(tmp_path, values)
    kb, before = _shipped_copy(tmp_path)
    extra = {"recommend": [], "run": ["--config", '{"regressor": "ridge"}'],
             "optimize": ["--n-evaluations", "1"]}[command]
    err = _refused([command, str(data), "--target", "y", "--task", "regression", *extra], kb, before, capsys)
    assert words in err


def test_the_task_picks_the_space_and_metric(pmlb_dir: Path) -> None:
    pollen = pmlb_dir / "529_pollen" / "529_pollen.tsv.gz"
    car = pmlb_dir / "car" / "car.tsv.gz"
    if not (pollen.exists() and car.exists()):
        pytest.skip("PMLB data not found")
    setup = resolve_task(load_table(pollen, "target"))
    assert (setup.task, setup.space, setup.metric) == ("regression", "sklearn-cash-regression", "r2")
    assert setup.table.y.dtype == np.float64 and setup.table.notes["task"] == "regression"
    assert resolve_task(setup.table).task == "regression"  # a typed table keeps its task
    setup = resolve_task(load_table(car, "target"))
    assert (setup.task, setup.space, setup.metric) == ("classification", "sklearn-cash", "balanced_accuracy")
    # an integer class column is a quantity when asked for
    assert resolve_task(load_table(car, "target"), task="regression").space == "sklearn-cash-regression"
    with pytest.raises(ConfigError, match="'balanced_accuracy' is a classification metric"):
        resolve_task(load_table(pollen, "target"), metric="balanced_accuracy")
    with pytest.raises(SpaceError, match="is for classification"):
        resolve_task(load_table(pollen, "target"), space="sklearn-cash")


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="single class"):
        resolve_task(load_table(_csv(tmp_path, ["a"] * 40), "y"))


def test_an_integer_class_column_is_still_classification(pmlb_dir: Path) -> None:
    from metakb.data import require_classification

    data = pmlb_dir / "car" / "car.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    require_classification(load_table(data, "target"), "metakb run")  # no error
