"""Schema migrations: fresh files, upgrades, refusal of newer or foreign files, atomic failure."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from metakb.errors import SchemaVersionError, StoreError
from metakb.store import KnowledgeBase, latest_version
from metakb.store._migrations import load_migrations, migrations_dir

REPO_MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def test_migration_files_are_numbered_without_gaps():
    files = sorted(p.name for p in REPO_MIGRATIONS.glob("*.sql"))
    assert files, "no migration files"
    assert [int(name[:4]) for name in files] == list(range(1, len(files) + 1))
    assert latest_version() == len(files)
    assert migrations_dir() == REPO_MIGRATIONS


def test_fresh_file_gets_every_migration(tmp_path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        assert kb.schema_version == len(list(REPO_MIGRATIONS.glob("*.sql")))
        rows = kb.connection.execute("SELECT version, name, applied_at FROM _migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, latest_version() + 1))
    assert rows[0][1] == "initial"
    assert all(r[2].endswith("Z") for r in rows)
    with sqlite3.connect(path) as raw:  # the version lives in the file itself
        assert raw.execute("PRAGMA user_version").fetchone()[0] == latest_version()


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "kb.sqlite"
    KnowledgeBase(path).close()
    with KnowledgeBase(path) as kb:
        assert kb.connection.execute("SELECT count(*) FROM _migrations").fetchone()[0] == latest_version()


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT)")
        raw.execute("INSERT INTO datasets (name) VALUES ('from the future')")
        raw.execute(f"PRAGMA user_version = {latest_version() + 1}")
    raw.close()
    before, files = _digest(path), _siblings(path)
    with pytest.raises(SchemaVersionError, match=rf"schema version {latest_version() + 1}.*upgrade metakb"):
        KnowledgeBase(path)
    with pytest.raises(SchemaVersionError):
        KnowledgeBase(path, readonly=True)
    assert _digest(path) == before, "refusing a newer file changed its bytes"
    assert _siblings(path) == files, "refusing a newer file left -wal/-shm files behind"


def test_newer_schema_is_refused_with_its_content_intact(tmp_path):
    """The logical content (rows and version) of a refused newer file is untouched."""
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT)")
        raw.execute("INSERT INTO datasets (name) VALUES ('from the future')")
        raw.execute(f"PRAGMA user_version = {latest_version() + 1}")
    raw.close()
    with pytest.raises(SchemaVersionError, match=str(latest_version() + 1)):
        KnowledgeBase(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == latest_version() + 1
        assert raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("datasets",)]
        assert raw.execute("SELECT name FROM datasets").fetchall() == [("from the future",)]
    raw.close()


@pytest.mark.parametrize("content", [b"this is not a database\n" * 50, b"SQLite format 3\x00" + b"\xff" * 200])
def test_non_sqlite_file_is_refused_and_left_unchanged(tmp_path, content):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="notes.sqlite"):
        KnowledgeBase(path)
    assert path.read_bytes() == content
    assert _siblings(path) == {"notes.sqlite"}


def test_directory_and_missing_folder_are_refused(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        KnowledgeBase(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        KnowledgeBase(tmp_path / "no" / "such" / "kb.sqlite")
    with pytest.raises(StoreError, match="does not exist"):
        KnowledgeBase(tmp_path / "absent.sqlite", readonly=True)
    assert not (tmp_path / "absent.sqlite").exists()


def test_readonly_opens_without_writing(tmp_path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        kb.add_dataset("d", "h", source="file", origin="t")
    before = _digest(path)
    with KnowledgeBase(path, readonly=True) as kb:
        assert kb.get_dataset("d")["content_hash"] == "h"
        with pytest.raises(sqlite3.OperationalError):
            kb.connection.execute("DELETE FROM datasets")
    assert _digest(path) == before


def _migration_folder(tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_MIGRATIONS / "0001_initial.sql", folder / "0001_initial.sql")
    for name, sql in extra.items():
        (folder / name).write_text(sql)
    return folder


def test_upgrade_from_an_older_schema(tmp_path, monkeypatch):
    """A file of schema 1 is brought to the newest schema when opened, keeping its rows."""
    old = _migration_folder(tmp_path / "v1", {})
    path = tmp_path / "kb.sqlite"
    monkeypatch.setenv("METAKB_MIGRATIONS", str(old))
    with KnowledgeBase(path) as kb:
        kb.add_dataset("kept", "h1", source="file", origin="t")
        assert kb.schema_version == 1
    new = _migration_folder(tmp_path / "v2", {"0002_add_notes.sql":
                                              "-- a comment; with a semicolon\nALTER TABLE datasets ADD COLUMN notes TEXT;"})
    monkeypatch.setenv("METAKB_MIGRATIONS", str(new))
    # readonly refuses an out-of-date file with the fix, and changes nothing
    with pytest.raises(StoreError, match="migrate"):
        KnowledgeBase(path, readonly=True)
    with KnowledgeBase(path) as kb:
        assert kb.schema_version == 2
        assert kb.get_dataset("kept")["notes"] is None
        names = [r[0] for r in kb.connection.execute("SELECT name FROM _migrations ORDER BY version")]
        assert names == ["initial", "add_notes"]


def test_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "kb.sqlite"
    monkeypatch.setenv("METAKB_MIGRATIONS", str(_migration_folder(tmp_path / "v1", {})))
    KnowledgeBase(path).close()
    broken = _migration_folder(tmp_path / "v2", {
        "0002_broken.sql": "CREATE TABLE half_done (x INTEGER);\nALTER TABLE no_such_table ADD COLUMN y TEXT;"})
    monkeypatch.setenv("METAKB_MIGRATIONS", str(broken))
    with pytest.raises(StoreError, match="0002_broken"):
        KnowledgeBase(path)
    monkeypatch.setenv("METAKB_MIGRATIONS", str(tmp_path / "v1" / "migrations"))
    with KnowledgeBase(path) as kb:
        assert kb.schema_version == 1
        tables = {r[0] for r in kb.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "half_done" not in tables
        assert kb.connection.execute("SELECT count(*) FROM _migrations").fetchone()[0] == 1


def test_gap_in_migration_numbers_is_refused(tmp_path):
    folder = _migration_folder(tmp_path, {"0003_skipped.sql": "SELECT 1;"})
    with pytest.raises(StoreError, match="expected 2"):
        load_migrations(folder)


def test_missing_migrations_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        load_migrations(tmp_path / "nowhere")
