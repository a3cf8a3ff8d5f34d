"""Which knowledge base is opened: ``--db``, ``$METAKB_DB``, or the user's own seeded file."""

from __future__ import annotations

from pathlib import Path

import pytest

from metakb.errors import StoreError
from metakb.store import (
    KnowledgeBase,
    _paths,
    latest_version,
    open_kb,
    resolve_kb_path,
    shipped_kb_path,
    snapshot_kb,
    user_kb_path,
)


def test_explicit_path_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("METAKB_DB", str(tmp_path / "env.sqlite"))
    assert resolve_kb_path(tmp_path / "arg.sqlite") == tmp_path / "arg.sqlite"
    assert resolve_kb_path(str(tmp_path / "arg.sqlite")) == tmp_path / "arg.sqlite"
    assert resolve_kb_path() == tmp_path / "env.sqlite"
    assert not user_kb_path().exists()  # the user's file is not created when not used


def test_user_file_lives_under_metakb_home(tmp_path, monkeypatch):
    monkeypatch.setenv("METAKB_HOME", str(tmp_path / "home"))
    assert user_kb_path() == tmp_path / "home" / "metakb.sqlite"
    monkeypatch.delenv("METAKB_HOME")
    assert user_kb_path() == Path.home() / ".metakb" / "metakb.sqlite"


def test_user_file_created_empty_without_a_shipped_kb(tmp_path, monkeypatch):
    monkeypatch.setattr(_paths, "shipped_kb_path", lambda: tmp_path / "absent.sqlite")
    with open_kb() as kb:
        assert Path(kb.path) == user_kb_path()
        assert kb.info()["counts"]["datasets"] == 0
    assert user_kb_path().exists()


def _shipped(tmp_path: Path) -> Path:
    path = tmp_path / "shipped" / "metakb-default.sqlite"
    path.parent.mkdir()
    with KnowledgeBase(path) as kb:
        kb.add_dataset("seeded", "seed-hash", source="pmlb", origin="shipped")
    return path


def test_user_file_seeded_from_the_shipped_kb(tmp_path, monkeypatch):
    shipped = _shipped(tmp_path)
    before = shipped.read_bytes()
    monkeypatch.setattr(_paths, "shipped_kb_path", lambda: shipped)
    with open_kb() as kb:
        assert kb.get_dataset("seeded")["origin"] == "shipped"
        kb.add_dataset("mine", "my-hash", source="file", origin="user")
    assert shipped.read_bytes() == before  # writes go to the user's copy, never the seed
    assert not user_kb_path().with_suffix(".partial").exists()
    with open_kb() as kb:  # a second open keeps the user's rows (no reseeding)
        assert set(kb.datasets()["name"]) == {"seeded", "mine"}


def test_explicit_and_env_paths_are_not_seeded(tmp_path, monkeypatch):
    shipped = _shipped(tmp_path)
    monkeypatch.setattr(_paths, "shipped_kb_path", lambda: shipped)
    with open_kb(tmp_path / "fresh.sqlite") as kb:
        assert kb.info()["counts"]["datasets"] == 0
    monkeypatch.setenv("METAKB_DB", str(tmp_path / "env.sqlite"))
    with open_kb() as kb:
        assert kb.path == str(tmp_path / "env.sqlite")
        assert kb.info()["counts"]["datasets"] == 0


def test_real_shipped_kb_seeds_a_user_copy():
    shipped = shipped_kb_path()
    if not shipped.exists():
        pytest.skip(f"no shipped knowledge base at {shipped} yet")
    # the shipped file may be growing (a build in progress): its counts bracket the copy's
    with KnowledgeBase(shipped, readonly=True) as kb:
        before = kb.info()["counts"]
    with open_kb() as kb:
        seeded = kb.info()["counts"]
        assert kb.schema_version == latest_version()
    with KnowledgeBase(shipped, readonly=True) as kb:
        after = kb.info()["counts"]
    assert seeded["datasets"] > 0
    for table, count in seeded.items():
        assert before[table] <= count <= after[table], table


def test_a_snapshot_holds_what_a_writer_committed_to_its_wal_and_leaves_the_source_alone(tmp_path):
    """A benchmark reads a copy of a knowledge base that a build is still writing: the copy
    must hold every committed row, also those only in the writer's WAL (a plain file copy of
    the main file alone would miss them), and the source must stay as it was."""
    import sqlite3

    source = tmp_path / "building.sqlite"
    writer = sqlite3.connect(source)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # keep the rows in the WAL, as a busy build does
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    writer.commit()
    assert Path(str(source) + "-wal").stat().st_size > 0
    wal = Path(str(source) + "-wal")
    before = (source.read_bytes(), wal.read_bytes())
    copy = snapshot_kb(source, tmp_path / "copy.sqlite")
    assert (source.read_bytes(), wal.read_bytes()) == before  # read only, nothing checkpointed
    writer.close()
    with sqlite3.connect(copy) as reader:
        assert reader.execute("SELECT count(*), sum(x) FROM t").fetchone() == (100, 4950)
    with pytest.raises(StoreError, match="does not exist"):
        snapshot_kb(tmp_path / "missing.sqlite", tmp_path / "x.sqlite")
