"""A continuous target is refused by the classification commands with one line, never scored
as thousands of classes (#23 item 1); nothing is stored."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from metakb.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [
    ["run", "{data}", "--target", "target", "--config", '{"classifier": "k_neighbors"}'],
    ["recommend", "{data}", "--target", "target"],
    ["optimize", "{data}", "--target", "target", "--n-evaluations", "1"],
])
def test_a_continuous_target_is_refused(pmlb_dir: Path, tmp_path: Path, capsys, argv) -> None:
    data = pmlb_dir / "529_pollen" / "529_pollen.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    kb = tmp_path / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", kb)
    before = hashlib.sha256(kb.read_bytes()).hexdigest()
    assert main([a.replace("{data}", str(data)) for a in argv] + ["--db", str(kb)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "continuous" in err and "regression" in err
    assert hashlib.sha256(kb.read_bytes()).hexdigest() == before


def test_an_integer_class_column_is_still_classification(pmlb_dir: Path) -> None:
    from metakb.data import load_table, require_classification

    data = pmlb_dir / "car" / "car.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    require_classification(load_table(data, "target"), "metakb run")  # no error
