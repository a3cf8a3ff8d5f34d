"""``metakb kb merge``: another knowledge base into this one, matched by content, in one
transaction (issue #24 item 4): exact counts with overlapping rows, a second merge adds
nothing, a refused merge leaves the target byte-identical."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.data.duplicates import DatasetSignature
from metakb.errors import ConfigError
from metakb.store import KnowledgeBase
from metakb.workflows.merge import merge_knowledge_base

SPACE = '{"hyperparameters": [{"name": "c", "type": "uniform_int", "lower": 0, "upper": 9}]}'


def _signature(name: str) -> dict[str, object]:
    """A signature whose canonical form is the name's: datasets 'a' and 'b' are planted
    near-duplicates (same-content) of each other, across the two knowledge bases."""
    column = (0.0, 0.0, 10.0, float(len(name)), 1.0, 0.0, 0.1, 0.2, 0.5, 0.7, 0.9, 1.0)
    canonical = "canon-ab" if name in ("a", "b") else f"canon-{name}"
    return DatasetSignature(canonical_hash=canonical, coded_hash=canonical, n_rows=10, n_features=2,
                            task="classification", columns=(column, column), names=("x1", "x2"),
                            target=(1.0, 0.0, 2.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0)).to_dict()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fill(path: Path, datasets: list[str], configs: list[int], cells: list[tuple[str, int]], *,
          space: str = SPACE, run: str, portfolio: str, embedding: str) -> None:
    """A knowledge base: datasets (content hash derived from the name), configurations
    ``{"c": i}``, evaluations of the given cells by one run, a portfolio and an embedding."""
    with KnowledgeBase(path) as kb:
        space_id = kb.add_space("toy", "1", space, origin="test")
        ids = {d: kb.add_dataset(d, f"hash-{d}", source="file", origin=f"test:{path.name}", n_rows=10,
                                 n_features=2, n_classes=2, target="y") for d in datasets}
        for d, dataset_id in ids.items():
            kb.set_meta_features(dataset_id, {"f1": float(len(d))}, groups="general", extractor_version="t",
                                 origin="test")
            kb.set_dataset_signature(dataset_id, _signature(d), origin="test")
        config_ids = dict(zip(configs, kb.add_configurations(space_id, [{"c": c} for c in configs], origin="test"),
                              strict=True))
        kb.create_run("build", {"space": "toy"}, origin="test", run_id=run)
        kb.add_evaluations([{"dataset_id": ids[d], "configuration_id": config_ids[c], "budget": 1.0,
                             "protocol": "cv:3", "seed": 0, "metric": "balanced_accuracy",
                             "value": 0.5 + c / 100, "status": "ok", "run_id": run, "origin": f"build:{run}"}
                            for d, c in cells])
        kb.update_run(run, status="finished")
        first = config_ids[configs[0]]
        kb.save_portfolio(portfolio, space_id, [(first, 0.5)], datasets=[(ids[datasets[0]], "train")],
                          settings={"size": 1}, origin="test")
        kb.save_embedding(embedding, "siamese", {"w": [1.0]}, {"datasets": datasets}, origin="test")


@pytest.fixture()
def two(tmp_path) -> tuple[Path, Path]:
    """Target: datasets a, shared; configs 1, 2. Other: shared, b; configs 2, 3; the cell
    (shared, 2) is in both."""
    target, other = tmp_path / "target.sqlite", tmp_path / "other.sqlite"
    _fill(target, ["a", "shared"], [1, 2], [("a", 1), ("a", 2), ("shared", 2)], run="build-target",
          portfolio="P", embedding="E")
    _fill(other, ["shared", "b"], [2, 3], [("shared", 2), ("shared", 3), ("b", 2), ("b", 3)], run="build-other",
          portfolio="P", embedding="E-other")
    return target, other


def _counts(path: Path) -> dict[str, int]:
    with KnowledgeBase(path, readonly=True) as kb:
        return kb.info()["counts"]


def test_merge_with_overlapping_rows_has_exact_counts(two):
    target, other = two
    other_before = _sha(other)
    with KnowledgeBase(target) as kb:
        report = merge_knowledge_base(kb, other)
        assert (report.datasets_added, report.datasets_matched) == (1, 1)
        assert (report.configurations_added, report.configurations_matched) == (1, 1)
        assert (report.evaluations_added, report.evaluations_skipped) == (3, 1)
        assert (report.runs_added, report.spaces_added, report.spaces_matched) == (1, 0, 1)
        assert report.portfolios_added == [] and set(report.portfolios_skipped) == {"P"}
        assert report.embeddings_added == ["E-other"] and report.meta_features_added == 1
        assert report.signatures_added == 1 and report.datasets_without_signature == 0
        assert report.near_duplicates_added == 1  # a ~ b: one from each knowledge base
        assert [(p["dataset"], p["other"], p["kind"]) for p in kb.near_duplicates()] == [("a", "b", "same-content")]
        frame = kb.evaluations()
        assert len(frame) == 6 and not frame.duplicated(["dataset_id", "configuration_id"]).any()
        assert set(kb.datasets()["name"]) == {"a", "shared", "b"}
        assert len(kb.configurations("toy")) == 3
        b = frame[frame["dataset"] == "b"]
        label = str(other.resolve())
        assert set(b["origin"]) == {f"merged from {label}: build:build-other"}
        assert set(b["run_id"]) == {"build-other"}
        assert kb.get_run("build-other")["status"] == "finished"
        shared = frame[frame["dataset"] == "shared"]  # the target's own row of the shared cell is kept
        assert set(shared.loc[shared["run_id"] == "build-target", "origin"]) == {"build:build-target"}
        assert kb.get_dataset("b")["origin"] == f"merged from {label}: test:other.sqlite"
        assert len(kb.evaluations(run_id="build-other")) == 4  # its shared cell is linked too
        assert kb.meta_features("b") == {"f1": 1.0}
    assert _sha(other) == other_before  # the other file is only read
    counts = _counts(target)
    with KnowledgeBase(target) as kb:
        again = merge_knowledge_base(kb, other)
    assert _counts(target) == counts  # a second merge adds nothing
    assert (again.datasets_added, again.configurations_added, again.evaluations_added, again.runs_added) == (0, 0, 0, 0)
    assert (again.evaluations_skipped, again.runs_matched, again.near_duplicates_added) == (4, 1, 0)
    assert set(again.embeddings_skipped) == {"E-other"}


def test_a_refused_merge_leaves_the_target_byte_identical(two, tmp_path, capsys):
    target, _ = two
    different = tmp_path / "different.sqlite"
    _fill(different, ["c"], [5], [("c", 5)], space=SPACE.replace("9", "99"), run="build-x", portfolio="Q",
          embedding="F")
    before = _sha(target)
    with KnowledgeBase(target) as kb, \
            pytest.raises(ConfigError, match="search space 'toy' version '1' has another definition"):
        merge_knowledge_base(kb, different)
    assert _sha(target) == before
    assert main(["kb", "merge", str(different), "--db", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'toy'" in err and "nothing was written" in err
    assert _sha(target) == before
    assert main(["kb", "merge", str(target), "--db", str(target)]) == 2
    assert "into itself" in capsys.readouterr().err
    assert main(["kb", "merge", str(tmp_path / "absent.sqlite"), "--db", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _sha(target) == before


def test_merge_command_prints_the_report(two, capsys):
    target, other = two
    assert main(["kb", "merge", str(other), "--db", str(target)]) == 0
    out = capsys.readouterr().out
    assert "datasets        1 new, 1 already stored" in out
    assert "evaluations     3 new, 1 skipped (already stored)" in out
    assert "portfolio P skipped" in out and "embedding E-other copied" in out
    assert main(["kb", "merge", str(other), "--db", str(target), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluations_added"] == 0 and report["evaluations_skipped"] == 4


def test_merge_into_a_new_file_copies_everything(two, tmp_path):
    target, other = two
    fresh = tmp_path / "fresh.sqlite"
    with KnowledgeBase(fresh) as kb:
        report = merge_knowledge_base(kb, other)
        assert (report.datasets_added, report.evaluations_added, report.spaces_added) == (2, 4, 1)
        assert report.portfolios_added == ["P"] and kb.get_portfolio("P")["members"][0]["config"] == {"c": 2}
        assert kb.check() == []
