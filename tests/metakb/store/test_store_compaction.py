"""Compact evaluations (#24 item 2). Migration 0005: a run owns the rows it stored through their
``run_id`` (``run_evaluations`` links only the other runs) and the secondary scores keep 6
significant digits. Migration 0006: the primary metric is stored once, in ``value``. Files of
versions 4 and 5 read the same before and after the migrations."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from metakb.errors import ConfigError
from metakb.store import KnowledgeBase, latest_version
from metakb.store._migrations import load_migrations

REPO_MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"
LONG = 0.47733333333333333


def _old_schema(tmp_path: Path, monkeypatch, version: int) -> Path:
    """A migrations folder holding migrations 1..``version`` only (what metakb ``version`` knew)."""
    old = tmp_path / f"v{version}"
    old.mkdir()
    for migration in load_migrations(REPO_MIGRATIONS)[:version]:
        name = f"{migration.version:04d}_{migration.name}.sql"
        shutil.copy(REPO_MIGRATIONS / name, old / name)
    monkeypatch.setenv("METAKB_MIGRATIONS", str(old))
    return old


def _toy(kb: KnowledgeBase, h, n_configs: int) -> tuple[int, list[int]]:
    """A stored toy space with ``n_configs`` configurations and one dataset: (dataset, configs)."""
    space = h.add_space(kb)
    d = h.add_dataset(kb)
    return d, [kb.add_configuration(space, {"x": i}, origin="t") for i in range(n_configs)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cell(kb: KnowledgeBase, h, dataset: int, config: int, run: str, **overrides) -> dict:
    return h.evaluation(dataset, config, run_id=run, origin=f"build:{run}", **overrides)


@pytest.fixture()
def version_4(tmp_path, monkeypatch, h) -> Path:
    """A schema-4 file as metakb 4 wrote it: every run's cells linked in ``run_evaluations``
    (also the links that repeat a row's own run) and scores at full precision."""
    _old_schema(tmp_path, monkeypatch, 4)
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        d, configs = _toy(kb, h, 3)
        for run in ("run-a", "run-b"):
            kb.create_run("build", {"space": "toy"}, origin="t", run_id=run)
        kb.add_evaluations([_cell(kb, h, d, c, "run-a") for c in configs[:2]])
        kb.add_evaluations([_cell(kb, h, d, c, "run-b") for c in configs[1:]])  # configs[1]: run-a's row
        conn = kb.connection
        conn.execute("INSERT OR IGNORE INTO run_evaluations (run_id, evaluation_id) SELECT run_id, id "
                     "FROM evaluations")  # what schema 4 stored beside the row's own run
        conn.execute("UPDATE evaluations SET scores = ?",
                     (json.dumps({"balanced_accuracy": LONG, "log_loss": 1 / 3, "n": 7, "note": "x"}),))
    monkeypatch.delenv("METAKB_MIGRATIONS")
    return path


def _runs_view(kb: KnowledgeBase) -> dict[str, list[int]]:
    return {run: sorted(kb.evaluations(run_id=run)["configuration_id"]) for run in ("run-a", "run-b")}


@pytest.mark.parametrize("version", [5, 6])
def test_migrations_0005_and_0006_are_deferrable_compactions(version):
    migration = {m.version: m for m in load_migrations(REPO_MIGRATIONS)}[version]
    assert migration.compaction and migration.deferrable and not migration.additive
    assert migration.tables == ()


def test_a_version_4_file_reads_the_same_before_and_after_the_migration(version_4):
    before = _sha(version_4)
    with KnowledgeBase(version_4, readonly=True) as kb:
        assert kb.schema_version == 4
        assert kb.pending_migrations == ("0005_compact_evaluations", "0006_primary_score_in_value")
        old_view = _runs_view(kb)
        old_keys = kb.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="run-b")
        old_values = sorted(kb.evaluations()["value"])
        assert kb.check() == ["datasets without meta-features: 1"]
    assert _sha(version_4) == before  # reading never changes the file
    assert old_view == {"run-a": [1, 2], "run-b": [2, 3]} and len(old_keys) == 2

    with KnowledgeBase(version_4) as kb:
        kb.upgrade()
        assert kb.schema_version == latest_version() == 6
        assert _runs_view(kb) == old_view
        assert kb.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="run-b") == old_keys
        links = [(r["run_id"], r["evaluation_id"]) for r in kb.rows("run_evaluations")]
        assert links == [("run-b", 2)]  # only run-b's link to run-a's row is left
        frame = kb.evaluations()
        assert sorted(frame["value"]) == old_values  # the primary value keeps full precision
        # the primary metric is read from value (full precision), the others keep 6 digits
        assert {s for s in frame["scores"]} == {json.dumps({"balanced_accuracy": 0.75, "log_loss": 0.333333,
                                                            "n": 7, "note": "x"}, separators=(",", ":"))}
        stored = {r["scores"] for r in kb.rows("evaluations")}
        assert stored == {'{"log_loss":0.333333,"n":7,"note":"x"}'}  # stored once, in value
        assert kb.check() == ["datasets without meta-features: 1"]


def test_scores_are_stored_at_six_significant_digits_and_the_value_at_full_precision(store, h):
    space = h.add_space(store)
    d = h.add_dataset(store)
    a, b, c = (store.add_configuration(space, {"x": i}, origin="t") for i in range(3))
    store.add_evaluations([
        h.evaluation(d, a, value=LONG, scores={"balanced_accuracy": LONG, "log_loss": 12345.678901, "n": 3}),
        h.evaluation(d, b, scores=json.dumps({"roc_auc": 2 / 3, "tiny": 1.23456789e-9})),
        h.evaluation(d, c, scores=None),
    ])
    rows = store.evaluations().set_index("configuration_id")
    assert rows.loc[a, "value"] == LONG
    assert json.loads(rows.loc[a, "scores"]) == {"balanced_accuracy": LONG, "log_loss": 12345.7, "n": 3}
    assert json.loads(rows.loc[b, "scores"]) == {"balanced_accuracy": 0.75, "roc_auc": 0.666667, "tiny": 1.23457e-9}
    assert json.loads(rows.loc[c, "scores"]) == {"balanced_accuracy": 0.75}  # the primary is always there
    stored = dict(store.connection.execute("SELECT configuration_id, scores FROM evaluations"))
    assert stored == {a: '{"log_loss":12345.7,"n":3}', b: '{"roc_auc":0.666667,"tiny":1.23457e-09}', c: None}


def test_an_evaluation_without_a_value_keeps_its_scores(store, h):
    space = h.add_space(store)
    d = h.add_dataset(store)
    a, b = (store.add_configuration(space, {"x": i}, origin="t") for i in range(2))
    store.add_evaluations([
        h.evaluation(d, a, status="crashed", value=None, scores={"balanced_accuracy": 0.5, "log_loss": 0.7}),
        h.evaluation(d, b, status="timeout", value=None, scores=None),
    ])
    rows = store.evaluations().set_index("configuration_id")
    assert json.loads(rows.loc[a, "scores"]) == {"balanced_accuracy": 0.5, "log_loss": 0.7}
    assert pd.isna(rows.loc[b, "scores"])  # no scores (None; NaN in a frame)
    matrix = store.performance_matrix(space, metric="log_loss")
    assert matrix.isna().all().all()  # a failed evaluation scores nothing, on any metric


@pytest.mark.parametrize("scores, why", [("{not json", "must be a JSON object"),
                                         ("[1, 2]", "must be a mapping"), (0.5, "must be a mapping")])
def test_bad_scores_are_refused_with_nothing_written(store, h, scores, why):
    space = h.add_space(store)
    d = h.add_dataset(store)
    config = store.add_configuration(space, {"x": 1}, origin="t")
    with pytest.raises(ConfigError, match=why):
        store.add_evaluations([h.evaluation(d, config, seed=1), h.evaluation(d, config, scores=scores)])
    assert store.evaluations().empty


def test_a_run_owns_its_rows_without_a_link_and_others_through_links(store, h):
    space = h.add_space(store)
    d = h.add_dataset(store)
    a, b = (store.add_configuration(space, {"x": i}, origin="t") for i in range(2))
    for run in ("first", "second"):
        store.create_run("build", {"space": "toy"}, origin="t", run_id=run)
    store.add_evaluations([h.evaluation(d, a, run_id="first")])
    store.add_evaluations([h.evaluation(d, a, run_id="second"), h.evaluation(d, b, run_id="second")])
    store.link_run_evaluations([("first", d, a, 1.0, "holdout:0.33", 0, "balanced_accuracy")])  # its own row
    assert [(r["run_id"], r["evaluation_id"]) for r in store.rows("run_evaluations")] == [("second", 1)]
    assert sorted(store.evaluations(run_id="first")["configuration_id"]) == [a]
    assert sorted(store.evaluations(run_id="second")["configuration_id"]) == [a, b]
    assert len(store.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="second")) == 2


def test_db_upgrade_vacuum_migrates_and_leaves_one_self_contained_file(version_4, capsys):
    from metakb.cli import main

    assert main(["db", "upgrade", "--db", str(version_4), "--vacuum"]) == 0
    out = capsys.readouterr().out
    assert f"schema version 4 -> {latest_version()}" in out and "file size" in out
    assert not Path(str(version_4) + "-wal").exists()
    with KnowledgeBase(version_4, readonly=True) as kb:
        assert kb.schema_version == latest_version() and kb.pending_migrations == ()
        assert _runs_view(kb) == {"run-a": [1, 2], "run-b": [2, 3]}
    assert main(["db", "upgrade", "--db", str(version_4)]) == 0
    assert f"schema version {latest_version()} (current)" in capsys.readouterr().out


def test_vacuum_is_refused_on_a_read_only_open(version_4):
    from metakb.errors import StoreError

    before = _sha(version_4)
    with KnowledgeBase(version_4, readonly=True) as kb, pytest.raises(StoreError, match="read-only"):
        kb.vacuum()
    assert _sha(version_4) == before


@pytest.fixture()
def version_5(tmp_path, monkeypatch, h) -> Path:
    """A schema-5 file as metakb 5 wrote it: the primary metric also in ``scores``, rounded."""
    _old_schema(tmp_path, monkeypatch, 5)
    path = tmp_path / "kb5.sqlite"
    with KnowledgeBase(path) as kb:
        d, configs = _toy(kb, h, 4)
        kb.add_evaluations([
            h.evaluation(d, configs[0], value=LONG, scores={"balanced_accuracy": LONG, "log_loss": 0.5}),
            h.evaluation(d, configs[1], value=0.6, scores={"balanced_accuracy": 0.6}),  # only the primary
            h.evaluation(d, configs[2], status="crashed", value=None, scores={"balanced_accuracy": 0.4, "log_loss": 2.0}),
            h.evaluation(d, configs[3], value=0.7, scores=None),
        ])
        v5_scores = ['{"balanced_accuracy":0.477333,"log_loss":0.5}', '{"balanced_accuracy":0.6}',
                     '{"balanced_accuracy":0.4,"log_loss":2.0}', None]  # as version 5 stored them
        kb.connection.executemany("UPDATE evaluations SET scores = ? WHERE configuration_id = ?",
                                  list(zip(v5_scores, configs, strict=True)))
    monkeypatch.delenv("METAKB_MIGRATIONS")
    return path


def _reader_view(kb: KnowledgeBase) -> tuple[list, str, str, str]:
    """What a reader sees: every evaluation's scores and value, the matrices of two metrics (as
    JSON, where NaN compares equal)."""
    frame = kb.evaluations()
    return (list(frame["scores"]), frame["value"].to_json(),
            kb.performance_matrix("toy", metric="balanced_accuracy").to_json(),
            kb.performance_matrix("toy", metric="log_loss").to_json())


def test_a_version_5_file_reads_the_same_before_and_after_migration_0006(version_5):
    before = _sha(version_5)
    with KnowledgeBase(version_5, readonly=True) as kb:
        assert kb.schema_version == 5 and kb.pending_migrations == ("0006_primary_score_in_value",)
        old_view = _reader_view(kb)
    assert _sha(version_5) == before
    assert json.loads(old_view[0][0]) == {"balanced_accuracy": LONG, "log_loss": 0.5}  # value's precision
    assert json.loads(old_view[3]) == {"1": {"d": 0.5}, "2": {"d": None}, "3": {"d": None}, "4": {"d": None}}

    with KnowledgeBase(version_5) as kb:
        kb.upgrade()
        assert kb.schema_version == latest_version()
        assert _reader_view(kb) == old_view
        stored = [r["scores"] for r in kb.rows("evaluations")]
    assert stored == ['{"log_loss":0.5}', None, '{"balanced_accuracy":0.4,"log_loss":2.0}', None]


def test_a_merge_from_a_version_5_file_stores_scores_the_new_way(version_5, store, h):
    from metakb.workflows.merge import merge_knowledge_base

    with KnowledgeBase(version_5, readonly=True) as other:
        expected = _reader_view(other)
    report = merge_knowledge_base(store, version_5)
    assert report.evaluations_added == 4
    assert _reader_view(store) == expected
    stored = [r["scores"] for r in store.rows("evaluations")]
    assert stored == ['{"log_loss":0.5}', None, '{"balanced_accuracy":0.4,"log_loss":2.0}', None]
