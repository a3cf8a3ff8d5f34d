"""``metakb recommend`` with every kind of warm starter on the shipped knowledge base."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metakb.cli import main

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "db" / "metakb-default.sqlite"


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    if not SHIPPED.exists():
        pytest.skip("the shipped knowledge base is not in db/")
    copy = tmp_path / "kb.sqlite"
    shutil.copy(SHIPPED, copy)
    return copy


@pytest.mark.parametrize("method", ["knn", "knn-best", "rf-model", "cf"])
def test_every_registered_method_recommends(pmlb_dir: Path, kb_copy: Path, method: str, capsys) -> None:
    # car is in the knowledge base; its file is recognised by content (with the categorical
    # columns of its metadata.yaml, as the build read it) and left out of its own neighbours
    data = pmlb_dir / "car" / "car.tsv.gz"
    assert main(["recommend", str(data), "--target", "target", "-k", "3", "--method", method,
                 "--db", str(kb_copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == method and len(report["recommendations"]) == 3
    assert report["excluded_self"] == "car"  # a dataset never recommends from itself
    ids = [r["configuration_id"] for r in report["recommendations"]]
    assert len(set(ids)) == 3
    if method in ("knn", "rf-model", "cf"):  # scored methods say what they predict
        assert all("predicted_score" in r for r in report["recommendations"])


def test_a_method_parameter_it_does_not_take_is_one_line(pmlb_dir: Path, kb_copy: Path, capsys) -> None:
    data = pmlb_dir / "breast_w" / "breast_w.tsv.gz"
    assert main(["recommend", str(data), "--target", "target", "--method", "rf-model",
                 "--neighbors", "3", "--db", str(kb_copy)]) == 2
    err = capsys.readouterr().err
    assert "does not take ['n_neighbors']" in err and len(err.strip().splitlines()) == 1


def test_probes_are_evaluated_and_stored(pmlb_dir: Path, kb_copy: Path, capsys) -> None:
    from metakb.store import KnowledgeBase

    data = pmlb_dir / "breast_w" / "breast_w.tsv.gz"  # not in the knowledge base
    with KnowledgeBase(kb_copy, readonly=True) as kb:
        before = len(kb.evaluations())
    assert main(["recommend", str(data), "--target", "target", "-k", "3", "--method", "cf",
                 "--probes", "2", "--db", str(kb_copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    probes = report["notes"]["probes"]
    assert len(probes) == 2 and all(0 < s <= 1 for s in probes.values())
    probed = {int(c) for c in probes}
    assert not probed & {r["configuration_id"] for r in report["recommendations"]}
    with KnowledgeBase(kb_copy, readonly=True) as kb:
        after = kb.evaluations()
        assert len(after) == before + 2
        mine = after[after["dataset"] == "breast_w"]
        assert set(mine["configuration_id"]) == probed
        assert set(mine["protocol"]) == {"cv:3:max_rows=1500"}  # the matrix's own protocol


def test_probes_need_cf(pmlb_dir: Path, kb_copy: Path, capsys) -> None:
    data = pmlb_dir / "breast_w" / "breast_w.tsv.gz"
    assert main(["recommend", str(data), "--target", "target", "--probes", "2",
                 "--db", str(kb_copy)]) == 2
    assert "'probes' parameter" in capsys.readouterr().err


def test_the_predicted_score_is_labelled_normalised_not_the_metric(pmlb_dir: Path, kb_copy: Path, capsys) -> None:
    """Warm starters predict a normalised score (1 = a dataset's best configuration); the text
    report must not print it as a balanced accuracy (a kNN's 0.95 is not an accuracy of 0.95)."""
    data = pmlb_dir / "car" / "car.tsv.gz"
    assert main(["recommend", str(data), "--target", "target", "-k", "2", "--db", str(kb_copy)]) == 0
    out = capsys.readouterr().out
    assert "predicted normalised score: " in out and "1 = a similar dataset's best configuration" in out
    assert "predicted balanced_accuracy" not in out


def test_a_dataset_unlike_every_known_one_is_told_so(pmlb_dir: Path, kb_copy: Path, tmp_path: Path, capsys) -> None:
    """Random log-normal noise with 400 features is farther from every known dataset than 95% of
    the known datasets are from their own nearest: the report says the recommendations are
    generic; a real dataset close to the knowledge base's (breast_w) gets no such note."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    odd = pd.DataFrame(rng.lognormal(0, 3, size=(60, 400)), columns=[f"f{i}" for i in range(400)])
    odd["target"] = rng.integers(0, 7, 60)
    odd.to_csv(tmp_path / "odd.csv", index=False)
    assert main(["recommend", str(tmp_path / "odd.csv"), "--target", "target", "-k", "1", "--db", str(kb_copy),
                 "--json"]) == 0
    far = json.loads(capsys.readouterr().out)["notes"]["far"]
    assert "unlike the knowledge base" in far and "95%" in far
    assert main(["recommend", str(pmlb_dir / "breast_w" / "breast_w.tsv.gz"), "--target", "target", "-k", "1",
                 "--db", str(kb_copy), "--json"]) == 0
    assert "far" not in json.loads(capsys.readouterr().out)["notes"]
