"""Every capability answers for regression (#22 item 6), on a tiny regression knowledge base.

The knowledge base holds a few small PMLB regression datasets x the per-regressor defaults of
``sklearn-cash-regression``; ``1027_ESL`` is the new dataset (not in it). Each command runs
through the CLI, as a user would, with the task and the space found from the target.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.store import KnowledgeBase
from metakb.workflows.build import build_from_pmlb

TRAIN = ["1089_USCrime", "1096_FacultySalaries", "192_vineyard", "210_cloud", "195_auto_price"]
QUERY = "1027_ESL"


@pytest.fixture(scope="module")
def regression_kb(pmlb_dir: Path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("regkb") / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        report = build_from_pmlb(kb, pmlb_dir, space="sklearn-cash-regression", n_configs=6, datasets=TRAIN,
                                 progress=False, timeout=60)
    assert report.evaluated == len(TRAIN) * 6
    return path


@pytest.fixture()
def kb_copy(regression_kb: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kb.sqlite"
    shutil.copy(regression_kb, path)
    return path


@pytest.fixture()
def query(pmlb_dir: Path) -> Path:
    return pmlb_dir / QUERY / f"{QUERY}.tsv.gz"


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_recommend_answers_with_regressors_ranked_by_r2(kb_copy: Path, query: Path, capsys) -> None:
    report = _json(capsys, ["recommend", str(query), "--target", "target", "-k", "3", "--db", str(kb_copy),
                            "--json"])
    assert (report["space"], report["metric"]) == ("sklearn-cash-regression", "r2")
    assert len(report["recommendations"]) == 3
    for rec in report["recommendations"]:
        assert "regressor" in rec["config"] and "classifier" not in rec["config"]
        assert {s["dataset"] for s in rec["sources"]} <= set(TRAIN)


def test_run_scores_a_partial_regression_configuration_with_r2(kb_copy: Path, query: Path, capsys) -> None:
    out = _json(capsys, ["run", str(query), "--target", "target", "--config", '{"regressor": "ridge"}',
                         "--db", str(kb_copy), "--json"])
    assert out["status"] == "ok" and out["metric"] == "r2" and out["space"] == "sklearn-cash-regression"
    assert set(json.loads(out["scores"]) if isinstance(out["scores"], str) else out["scores"]) >= {"r2", "rmse", "mae"}
    with KnowledgeBase(kb_copy, readonly=True) as kb:
        stored = kb.datasets(task_type="regression")
        assert QUERY in set(stored["name"])


def test_optimize_warm_starts_a_regression_search(kb_copy: Path, query: Path, capsys) -> None:
    report = _json(capsys, ["optimize", str(query), "--target", "target", "--n-evaluations", "4",
                            "--warm-start", "knn", "--n-initial", "2", "--db", str(kb_copy), "--json"])
    assert report["metric"] == "r2" and report["higher_is_better"] is True
    assert report["n_evaluations"] == 4 and "regressor" in report["best_config"]
    with KnowledgeBase(kb_copy, readonly=True) as kb:
        frame = kb.evaluations(run_id=report["run_id"])
        assert set(frame["metric"]) == {"r2"} and len(frame) == 4


def test_portfolio_importance_and_evaluate_answer_for_the_regression_space(kb_copy: Path, capsys) -> None:
    space = ["--space", "sklearn-cash-regression"]
    built = _json(capsys, ["portfolio", "build", *space, "--size", "3", "--db", str(kb_copy), "--json"])
    assert built["settings"]["metric"] == "r2" and len(built["members"]) == 3
    shown = _json(capsys, ["portfolio", "show", built["name"], "--db", str(kb_copy), "--json"])
    assert shown["name"] == built["name"]
    importance = _json(capsys, ["importance", *space, "--method", "tunability", "--surrogate", "table",
                                "--db", str(kb_copy), "--json"])
    assert importance["metric"] == "r2" and importance["space"] == "sklearn-cash-regression"
    evaluation = _json(capsys, ["evaluate", "warmstart", *space, "--method", "knn", "-k", "1", "3",
                                "--quiet", "--db", str(kb_copy), "--json"])
    assert evaluation["settings"]["metric"] == "r2" and evaluation["summary"]


def test_db_info_counts_datasets_and_evaluations_per_task(kb_copy: Path, capsys) -> None:
    info = _json(capsys, ["db", "info", "--db", str(kb_copy), "--json"])
    assert info["tasks"] == {"regression": {"datasets": len(TRAIN), "evaluations": len(TRAIN) * 6}}
    assert main(["db", "info", "--db", str(kb_copy)]) == 0
    assert f"task regression: {len(TRAIN)} datasets, {len(TRAIN) * 6} evaluations" in capsys.readouterr().out


def test_features_extracts_the_regression_suite(query: Path, capsys) -> None:
    out = _json(capsys, ["features", str(query), "--target", "target", "--json"])
    assert out["task"] == "regression"
    assert {"y_skewness", "attr_y_cor.mean"} <= set(out["features"])
    assert not any(name.startswith("class_") for name in out["features"])
