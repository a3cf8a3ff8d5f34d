"""A file lacking only additive migrations (0003 near_duplicates, #24 item 3): read as it is,
never changed by a read or a writable open that writes nothing, migrated at the first write."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from metakb.errors import ConfigError
from metakb.store import KnowledgeBase, latest_version
from metakb.store._migrations import load_migrations

REPO_MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def version_2(tmp_path, monkeypatch) -> Path:
    """A knowledge base of schema 2 with one dataset (written before migration 0003 existed)."""
    old = tmp_path / "v2"
    old.mkdir()
    for name in ("0001_initial.sql", "0002_run_evaluations.sql"):
        shutil.copy(REPO_MIGRATIONS / name, old / name)
    path = tmp_path / "kb.sqlite"
    monkeypatch.setenv("METAKB_MIGRATIONS", str(old))
    with KnowledgeBase(path) as kb:
        kb.add_dataset("d", "h", source="file", origin="t")
    monkeypatch.delenv("METAKB_MIGRATIONS")
    return path


def test_migration_0003_is_additive():
    migrations = {m.version: m for m in load_migrations(REPO_MIGRATIONS)}
    assert migrations[3].additive and set(migrations[3].tables) == {"dataset_signatures", "near_duplicates"}
    assert not migrations[1].additive and not migrations[2].additive


def test_migration_0004_is_additive():
    migration = {m.version: m for m in load_migrations(REPO_MIGRATIONS)}[4]
    assert migration.additive and migration.tables == ("configuration_sources",)


def test_read_only_open_reads_the_missing_tables_as_empty(version_2):
    before = _sha(version_2)
    with KnowledgeBase(version_2, readonly=True) as kb:
        pending = ("0003_near_duplicates", "0004_configuration_sources", "0005_compact_evaluations",
                   "0006_primary_score_in_value")
        assert kb.schema_version == 2 and kb.pending_migrations == pending
        info = kb.info()
        assert info["counts"]["near_duplicates"] == 0 and info["pending_migrations"] == list(pending)
        assert info["counts"]["configuration_sources"] == 0 and kb.configuration_sources().empty
        assert kb.near_duplicates() == [] and kb.dataset_signatures() == {} and kb.rows("near_duplicates") == []
        assert kb.check() == ["datasets without meta-features: 1"]  # no schema problem
    assert _sha(version_2) == before


def test_writable_open_migrates_at_the_first_write_only(version_2):
    before = _sha(version_2)
    with KnowledgeBase(version_2) as kb:
        assert kb.schema_version == 2 and kb.near_duplicates() == []
        with pytest.raises(ConfigError):  # refused before anything is written
            kb.add_near_duplicates([(1, 1, "same-content", "x")], origin="t")
    assert _sha(version_2) == before
    with KnowledgeBase(version_2) as kb:
        other = kb.add_dataset("e", "h2", source="file", origin="t")  # the first write migrates
        assert kb.schema_version == latest_version() and kb.pending_migrations == ()
        kb.add_near_duplicates([(other, 1, "same-content", "x")], origin="t")
        assert [(p["dataset"], p["other"]) for p in kb.near_duplicates()] == [("d", "e")]
    with KnowledgeBase(version_2, readonly=True) as kb:
        assert kb.info()["near_duplicate_pairs"] == 1 and kb.pending_migrations == ()


def test_insert_rows_into_a_missing_table_migrates_first(version_2):
    with KnowledgeBase(version_2) as kb:
        added = kb.insert_rows("near_duplicates", [])
        assert added == 0 and kb.schema_version == 2  # nothing to write: nothing migrated
        kb.upgrade()
        assert kb.schema_version == latest_version()
        with pytest.raises(ConfigError, match="table must be one of"):
            kb.rows("sqlite_master")
