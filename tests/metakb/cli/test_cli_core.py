"""The core commands in process (``metakb.cli.main``): db info/check, build, recommend, run."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from metakb.build import register_space, register_table
from metakb.cli import main
from metakb.data import load_pmlb
from metakb.evaluation import Protocol, evaluate_configuration
from metakb.store import KnowledgeBase, _paths, latest_version, user_kb_path

KB_DATASETS = ["analcatdata_aids", "analcatdata_happiness", "confidence"]
KNN = {"classifier": "k_neighbors", "numeric_imputer": "mean", "scaler": "standard",
       "categorical_encoding": "one_hot", "k_neighbors:n_neighbors": 5, "k_neighbors:weights": "uniform",
       "k_neighbors:p": "2"}


def tiny_kb(path: Path, pmlb_dir: Path) -> Path:
    """A real knowledge base: 3 PMLB datasets with meta-features x 3 configurations, evaluated here."""
    protocol = Protocol()
    # one BLAS/OpenMP thread, as in the workers: OpenMP spinning on a busy 2-core machine is 10x slower
    with KnowledgeBase(path) as kb, threadpool_limits(1):
        space_id, config_ids = register_space(kb, "sklearn-cash", 3, seed=0, origin="test")
        records = []
        for name in KB_DATASETS:
            table = load_pmlb(pmlb_dir / name)
            dataset_id = register_table(kb, table, origin="test")
            for cid in config_ids:
                result = evaluate_configuration(table, kb.get_configuration(cid), protocol=protocol, seed=0)
                records.append({"dataset_id": dataset_id, "configuration_id": cid, "budget": 1.0,
                                "protocol": protocol.key(), "seed": 0, "metric": protocol.metric,
                                "higher_is_better": True, "origin": "test", **result.to_record()})
        kb.add_evaluations(records)
    return path


def pmlb_as_tsv(pmlb_dir: Path, name: str, folder: Path) -> Path:
    """A PMLB dataset as a plain TSV file (what a user would pass to recommend or run)."""
    target = folder / f"{name}.tsv"
    with gzip.open(pmlb_dir / name / f"{name}.tsv.gz", "rb") as source:
        target.write_bytes(source.read())
    return target


@pytest.fixture(scope="module")
def seed_kb(pmlb_dir, tmp_path_factory) -> Path:
    return tiny_kb(tmp_path_factory.mktemp("seed") / "kb.sqlite", pmlb_dir)


@pytest.fixture()
def kb_path(seed_kb, tmp_path) -> Path:
    """A private copy of the tiny knowledge base."""
    path = tmp_path / "kb.sqlite"
    shutil.copy(seed_kb, path)
    return path


def _json(capsys) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


# ---------------------------------------------------------------------- db
def test_db_info_json(kb_path, capsys):
    assert main(["db", "info", "--db", str(kb_path), "--json"]) == 0
    info = _json(capsys)
    assert info["path"] == str(kb_path)
    assert info["schema_version"] == info["latest_schema_version"] == latest_version()
    assert info["counts"]["datasets"] == 3 and info["counts"]["configurations"] == 3
    assert info["counts"]["evaluations"] == 9
    assert info["spaces"] == [{"name": "sklearn-cash", "version": "1", "configurations": 3}]
    assert info["protocols"] == [{"protocol": "holdout:0.33", "metric": "balanced_accuracy", "n": 9}]
    assert info["size_bytes"] > 0


def test_db_info_text(kb_path, capsys):
    assert main(["db", "info", "--db", str(kb_path)]) == 0
    out = capsys.readouterr().out
    assert f"schema version  {latest_version()}" in out
    assert "space sklearn-cash v1: 3 configurations" in out


def test_db_check_clean_and_planted(kb_path, capsys):
    assert main(["db", "check", "--db", str(kb_path)]) == 0
    assert "ok: no problems found" in capsys.readouterr().out
    with sqlite3.connect(kb_path) as conn:
        conn.execute("UPDATE evaluations SET error = NULL, status = 'crashed', value = NULL WHERE id = 1")
    conn.close()
    assert main(["db", "check", "--db", str(kb_path), "--json"]) == 1
    report = _json(capsys)
    assert report["ok"] is False
    assert report["problems"] == ["failed evaluations without error text: 1"]


def test_db_without_action_prints_help(capsys):
    assert main(["db"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: metakb db")
    assert "info" in out and "check" in out  # its actions are listed


# ---------------------------------------------------------------------- which knowledge base
def test_db_option_and_environment(tmp_path, monkeypatch, capsys):
    env_db, arg_db = tmp_path / "env.sqlite", tmp_path / "arg.sqlite"
    for path in (env_db, arg_db):
        KnowledgeBase(path).close()
    monkeypatch.setenv("METAKB_DB", str(env_db))
    assert main(["db", "info", "--json"]) == 0
    assert _json(capsys)["path"] == str(env_db)
    assert main(["db", "info", "--json", "--db", str(arg_db)]) == 0
    assert _json(capsys)["path"] == str(arg_db)
    assert env_db.exists() and arg_db.exists()
    assert not user_kb_path().exists()


def test_read_only_commands_refuse_a_missing_file(tmp_path, capsys):
    missing = tmp_path / "typo.sqlite"
    assert main(["db", "info", "--db", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_default_is_the_users_kb_seeded_from_the_shipped_one(seed_kb, monkeypatch, capsys):
    monkeypatch.setattr(_paths, "shipped_kb_path", lambda: seed_kb)
    assert not user_kb_path().exists()
    assert main(["db", "info", "--json"]) == 0
    info = _json(capsys)
    assert info["path"] == str(user_kb_path())
    assert info["counts"]["evaluations"] == 9


def test_default_without_a_shipped_kb_is_empty(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_paths, "shipped_kb_path", lambda: tmp_path / "absent.sqlite")
    assert main(["db", "info", "--json"]) == 0
    info = _json(capsys)
    assert info["path"] == str(user_kb_path()) and user_kb_path().exists()
    assert sum(info["counts"].values()) == 0


# ---------------------------------------------------------------------- recommend
def test_recommend_json_with_provenance(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    assert main(["recommend", str(data), "--target", "target", "-k", "3", "--json", "--db", str(kb_path)]) == 0
    report = _json(capsys)
    assert report["dataset"] == "lupus" and report["method"] == "knn" and report["space"] == "sklearn-cash"
    assert report["excluded_self"] is None
    recs = report["recommendations"]
    assert [r["rank"] for r in recs] == [1, 2, 3]
    with KnowledgeBase(kb_path) as kb:
        matrix = kb.performance_matrix("sklearn-cash")
        configs = kb.configurations("sklearn-cash")
    assert len({r["configuration_id"] for r in recs}) == 3
    for rec in recs:
        assert rec["config"] == configs.loc[rec["configuration_id"], "config"]
        assert rec["sources"], "a recommendation without provenance"
        for source in rec["sources"]:
            assert source["dataset"] in KB_DATASETS
            assert source["score"] == pytest.approx(matrix.loc[source["dataset"], rec["configuration_id"]])
            assert source["distance"] >= 0


def test_recommend_leaves_out_the_dataset_itself(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "confidence", tmp_path)
    assert main(["recommend", str(data), "--target", "target", "-k", "2", "--json", "--db", str(kb_path)]) == 0
    report = _json(capsys)
    assert report["excluded_self"] == "confidence"
    sources = {s["dataset"] for r in report["recommendations"] for s in r["sources"]}
    assert "confidence" not in sources
    assert main(["recommend", str(data), "--target", "target", "-k", "2", "--json", "--include-self",
                 "--db", str(kb_path)]) == 0
    report = _json(capsys)
    assert report["excluded_self"] is None


def test_recommend_text_output(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    assert main(["recommend", str(data), "--target", "target", "-k", "1", "--db", str(kb_path)]) == 0
    out = capsys.readouterr().out
    assert "configurations for 'lupus'" in out and "#1  configuration" in out and "from " in out


def test_recommend_writes_nothing(kb_path, pmlb_dir, tmp_path, capsys):
    before = kb_path.read_bytes()
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    assert main(["recommend", str(data), "--target", "target", "-k", "1", "--db", str(kb_path)]) == 0
    assert kb_path.read_bytes() == before


# ---------------------------------------------------------------------- run
def test_run_stores_its_evaluation(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    code = main(["run", str(data), "--target", "target", "--config", json.dumps(KNN), "--json",
                 "--db", str(kb_path), "--protocol", "holdout:0.33"])
    assert code == 0
    out = _json(capsys)
    assert out["status"] == "ok" and 0 <= out["value"] <= 1 and out["stored"] is True
    assert out["config"] == KNN and out["protocol"] == "holdout:0.33"
    with KnowledgeBase(kb_path) as kb:
        rows = kb.evaluations(dataset="lupus")
        assert len(rows) == 1 and rows.iloc[0]["value"] == pytest.approx(out["value"])
        assert kb.get_configuration(out["configuration_id"]) == KNN
        assert kb.meta_features("lupus")  # the new dataset got its meta-features
        assert kb.get_run(rows.iloc[0]["run_id"])["status"] == "finished"
        assert kb.check() == []
    assert out["storage"] == "new"


def test_running_the_same_cell_twice_says_the_first_is_kept(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    args = ["run", str(data), "--target", "target", "--config", json.dumps(KNN), "--db", str(kb_path),
            "--protocol", "holdout:0.33"]
    assert main([*args, "--json"]) == 0
    first = _json(capsys)
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "not stored" in text and "keeps the first evaluation" in text
    assert main([*args, "--json"]) == 0
    third = _json(capsys)
    assert third["stored"] is False and third["storage"] == "already stored"
    with KnowledgeBase(kb_path) as kb:
        rows = kb.evaluations(dataset="lupus")
        assert len(rows) == 1 and rows.iloc[0]["fit_seconds"] == pytest.approx(first["fit_seconds"])


def test_run_from_a_config_file_without_storing(kb_path, pmlb_dir, tmp_path, capsys):
    data = pmlb_as_tsv(pmlb_dir, "lupus", tmp_path)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(KNN))
    before = kb_path.read_bytes()
    assert main(["run", str(data), "--target", "target", "--config", f"@{config}", "--no-store",
                 "--db", str(kb_path), "--protocol", "holdout:0.33"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lupus: balanced_accuracy 0.")
    assert kb_path.read_bytes() == before
