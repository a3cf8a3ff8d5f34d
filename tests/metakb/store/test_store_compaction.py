"""Compact evaluations (migration 0005, #24 item 2): a run owns the rows it stored through their
``run_id`` (``run_evaluations`` links only the other runs) and the secondary scores keep 6
significant digits. A version-4 file reads the same before and after the migration."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from metakb.errors import ConfigError
from metakb.store import KnowledgeBase, latest_version
from metakb.store._migrations import load_migrations

REPO_MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"
LONG = 0.47733333333333333


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cell(kb: KnowledgeBase, h, dataset: int, config: int, run: str, **overrides) -> dict:
    return h.evaluation(dataset, config, run_id=run, origin=f"build:{run}", **overrides)


@pytest.fixture()
def version_4(tmp_path, monkeypatch, h) -> Path:
    """A schema-4 file as metakb 4 wrote it: every run's cells linked in ``run_evaluations``
    (also the links that repeat a row's own run) and scores at full precision."""
    old = tmp_path / "v4"
    old.mkdir()
    for migration in load_migrations(REPO_MIGRATIONS)[:4]:
        name = f"{migration.version:04d}_{migration.name}.sql"
        shutil.copy(REPO_MIGRATIONS / name, old / name)
    path = tmp_path / "kb.sqlite"
    monkeypatch.setenv("METAKB_MIGRATIONS", str(old))
    with KnowledgeBase(path) as kb:
        space = h.add_space(kb)
        d = h.add_dataset(kb)
        configs = [kb.add_configuration(space, {"x": i}, origin="t") for i in range(3)]
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


def test_migration_0005_is_a_deferrable_compaction():
    migration = {m.version: m for m in load_migrations(REPO_MIGRATIONS)}[5]
    assert migration.compaction and migration.deferrable and not migration.additive
    assert migration.tables == ()


def test_a_version_4_file_reads_the_same_before_and_after_the_migration(version_4):
    before = _sha(version_4)
    with KnowledgeBase(version_4, readonly=True) as kb:
        assert kb.schema_version == 4 and kb.pending_migrations == ("0005_compact_evaluations",)
        old_view = _runs_view(kb)
        old_keys = kb.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="run-b")
        old_values = sorted(kb.evaluations()["value"])
        assert kb.check() == ["datasets without meta-features: 1"]
    assert _sha(version_4) == before  # reading never changes the file
    assert old_view == {"run-a": [1, 2], "run-b": [2, 3]} and len(old_keys) == 2

    with KnowledgeBase(version_4) as kb:
        kb.upgrade()
        assert kb.schema_version == latest_version() == 5
        assert _runs_view(kb) == old_view
        assert kb.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="run-b") == old_keys
        links = [(r["run_id"], r["evaluation_id"]) for r in kb.rows("run_evaluations")]
        assert links == [("run-b", 2)]  # only run-b's link to run-a's row is left
        frame = kb.evaluations()
        assert sorted(frame["value"]) == old_values  # the primary value keeps full precision
        assert {json.loads(s)["balanced_accuracy"] for s in frame["scores"]} == {0.477333}
        assert {s for s in frame["scores"]} == {'{"balanced_accuracy":0.477333,"log_loss":0.333333,"n":7,"note":"x"}'}
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
    assert json.loads(rows.loc[a, "scores"]) == {"balanced_accuracy": 0.477333, "log_loss": 12345.7, "n": 3}
    assert json.loads(rows.loc[b, "scores"]) == {"roc_auc": 0.666667, "tiny": 1.23457e-9}
    assert store.connection.execute("SELECT scores FROM evaluations WHERE configuration_id = ?", (c,)).fetchone() == (None,)


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
    assert "schema version 4 -> 5" in out and "file size" in out
    assert not Path(str(version_4) + "-wal").exists()
    with KnowledgeBase(version_4, readonly=True) as kb:
        assert kb.schema_version == 5 and kb.pending_migrations == ()
        assert _runs_view(kb) == {"run-a": [1, 2], "run-b": [2, 3]}
    assert main(["db", "upgrade", "--db", str(version_4)]) == 0
    assert "schema version 5 (current)" in capsys.readouterr().out


def test_vacuum_is_refused_on_a_read_only_open(version_4):
    from metakb.errors import StoreError

    before = _sha(version_4)
    with KnowledgeBase(version_4, readonly=True) as kb, pytest.raises(StoreError, match="read-only"):
        kb.vacuum()
    assert _sha(version_4) == before
