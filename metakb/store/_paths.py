"""Where the knowledge base lives: ``--db``, ``$METAKB_DB``, or the user's own file.

The shipped default knowledge base (``db/metakb-default.sqlite``) is a read-only seed: the
user's own file (``~/.metakb/metakb.sqlite``, or ``$METAKB_HOME/metakb.sqlite``) is created
from it on first use, and every write goes there.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from metakb.errors import StoreError
from metakb.store._kb import KnowledgeBase
from metakb.store._migrations import db_folder

__all__ = ["shipped_kb_path", "user_kb_path", "resolve_kb_path", "open_kb"]

SHIPPED_NAME = "metakb-default.sqlite"


def shipped_kb_path() -> Path:
    """The default knowledge base shipped in ``db/`` (package data of an installed metakb)."""
    return db_folder() / SHIPPED_NAME


def user_kb_path() -> Path:
    """The user's own knowledge base file (not necessarily existing yet)."""
    home = os.environ.get("METAKB_HOME")
    base = Path(home) if home else Path.home() / ".metakb"
    return base / "metakb.sqlite"


def resolve_kb_path(path: str | Path | None = None) -> Path:
    """``path`` if given, else ``$METAKB_DB``, else the user's file, seeded from the shipped one."""
    if path:
        return Path(path)
    env = os.environ.get("METAKB_DB")
    if env:
        return Path(env)
    target = user_kb_path()
    if not target.exists():
        _seed(target)
    return target


def _seed(target: Path) -> None:
    """Copy the shipped knowledge base to ``target`` through SQLite's backup API (atomic rename)."""
    source = shipped_kb_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists():  # no shipped file (e.g. a stripped install): start from an empty one
        KnowledgeBase(target).close()
        return
    partial = target.with_suffix(".partial")
    try:
        snapshot_kb(source, partial)
        with KnowledgeBase(partial) as kb:  # the user's copy is current (the shipped seed may lack
            kb.upgrade()                     # additive migrations, see KnowledgeBase)
        partial.replace(target)
    except (sqlite3.Error, StoreError) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot seed {target} from the shipped knowledge base {source}: {exc}") from exc


def snapshot_kb(source: str | Path, target: str | Path) -> Path:
    """Copy a knowledge base file to ``target`` through SQLite's online backup API.

    The copy is consistent even while another process writes the source (a long ``metakb
    build``): it holds every committed transaction, also those still in the source's WAL, and
    the source is only read. ``target`` is overwritten. Benchmarks read such copies, so that
    they neither lock nor change the file they measure.

    Raises:
        StoreError: the source is missing or not a readable SQLite file.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise StoreError(f"knowledge base {source} does not exist")
    # as_uri percent-encodes the path: a '#', '?' or '%' in it stays part of the file name
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot copy the knowledge base {source}: {exc}") from exc
    finally:
        src.close()
        dst.close()
    return target


def open_kb(path: str | Path | None = None, *, readonly: bool = False) -> KnowledgeBase:
    """Open the knowledge base chosen by :func:`resolve_kb_path`."""
    return KnowledgeBase(resolve_kb_path(path), readonly=readonly)
