"""Ordered, transactional, recorded schema migrations.

Migrations are the SQL files ``db/migrations/NNNN_name.sql`` (installed as the data package
``metakb_db``, see :func:`db_folder`), applied in the order of their
number. The schema version of a file is ``PRAGMA user_version`` (the number of the last applied
migration); the table ``_migrations`` records when each was applied. A file whose version is
newer than the newest migration known here is refused with the exact fix.

Two kinds of migration can wait until a file is written (:attr:`Migration.deferrable`):

* one whose SQL holds the line ``-- metakb: additive`` only creates new tables;
* one whose SQL holds the line ``-- metakb: compaction`` only changes how rows are stored, not
  what a reader of them sees (e.g. 0005 drops links that repeat an evaluation's own run).

A file that lacks only such migrations is opened as it is, read-only or for writing, and the
store reads the tables the additive ones would create as empty; a writable open applies them
just before its first write (see :class:`~metakb.store.KnowledgeBase`), so reading never changes
a file (:attr:`Migration.additive`, :attr:`Migration.tables`).
"""

from __future__ import annotations

import importlib.resources
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from metakb.errors import SchemaVersionError, StoreError
from metakb.store._util import utc_now

__all__ = ["Migration", "db_folder", "migrations_dir", "load_migrations", "latest_version", "migrate", "refuse_newer"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_ADDITIVE = "-- metakb: additive"
_COMPACTION = "-- metakb: compaction"
_CREATES = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)",
                      re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    """One schema step: its number (the version it produces), name and SQL."""

    version: int
    name: str
    sql: str

    @property
    def additive(self) -> bool:
        """Whether the migration declares that it only creates new tables (``-- metakb: additive``)."""
        return self._declares(_ADDITIVE)

    @property
    def compaction(self) -> bool:
        """Whether the migration declares that it changes only how rows are stored (``-- metakb: compaction``)."""
        return self._declares(_COMPACTION)

    @property
    def deferrable(self) -> bool:
        """Whether a reader of a file lacking this migration needs nothing from it, so that it
        may wait until the file's first write (additive or compaction)."""
        return self.additive or self.compaction

    def _declares(self, marker: str) -> bool:
        return any(line.strip().startswith(marker) for line in self.sql.splitlines())

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the migration creates."""
        return tuple(_CREATES.findall("\n".join(line.split("--", 1)[0] for line in self.sql.splitlines())))


DATA_PACKAGE = "metakb_db"


def db_folder() -> Path:
    """The folder holding ``migrations/`` and the shipped knowledge base.

    In a source checkout (``pyproject.toml`` and ``db/migrations`` beside the packages) it is
    the checkout's own ``db/``, so code and schema always come from the same tree, whatever is
    installed. Otherwise it is the data package ``metakb_db``, which the wheel builds from that
    same folder (``setup.py`` maps ``db/`` to it), found through :mod:`importlib.resources`.

    Raises:
        StoreError: neither exists (a broken install), or the package is not on the file system.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "db" / "migrations").is_dir():
        return checkout / "db"
    try:
        root = importlib.resources.files(DATA_PACKAGE)
    except ModuleNotFoundError:
        raise StoreError(f"metakb's data package {DATA_PACKAGE} (schema migrations, shipped knowledge "
                         "base) is not installed; reinstall metakb") from None
    folder = root / "migrations"  # a namespace package: joinpath yields a concrete Path
    if not isinstance(folder, Path):
        raise StoreError(f"metakb's data package {DATA_PACKAGE} is not on the file system ({root}); "
                         "install metakb unzipped")
    return folder.parent


def migrations_dir() -> Path:
    """The folder of migration files: ``$METAKB_MIGRATIONS`` or ``migrations/`` of :func:`db_folder`."""
    env = os.environ.get("METAKB_MIGRATIONS")
    if env:
        return Path(env)
    return db_folder() / "migrations"


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """Read the migration files of ``folder`` in version order, checking there are no gaps."""
    folder = folder or migrations_dir()
    if not folder.is_dir():
        raise StoreError(f"migrations folder {folder} does not exist; reinstall metakb from its repository")
    found = []
    for path in sorted(folder.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(f"migration {migration.name} has number {migration.version}, expected {expected}")
    return found


def latest_version(folder: Path | None = None) -> int:
    """The schema version that this metakb writes."""
    return len(load_migrations(folder))


def migrate(conn: sqlite3.Connection, path_label: str, folder: Path | None = None) -> int:
    """Bring the database on ``conn`` to the latest schema; return the version it had before.

    Each migration runs in its own transaction together with its ``_migrations`` row and the
    ``user_version`` bump, so a failure leaves the file at the previous version.

    Raises:
        SchemaVersionError: the file's version is newer than the newest migration known here.
    """
    migrations = load_migrations(folder)
    current = refuse_newer(conn, path_label, len(migrations))
    for migration in migrations[current:]:
        try:
            conn.execute("BEGIN IMMEDIATE")
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= migration.version:
                conn.execute("COMMIT")  # another connection applied it meanwhile
                continue
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for statement in _split_sql(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_now()),
            )
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"migration {migration.version:04d}_{migration.name} failed on {path_label}: {exc}") from exc
    return current


def refuse_newer(conn: sqlite3.Connection, path_label: str, known: int | None = None) -> int:
    """The file's schema version; raise SchemaVersionError if it is newer than ``known``.

    Called before anything is written (even the journal mode), so a refused file is untouched.
    """
    known = latest_version() if known is None else known
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > known:
        raise SchemaVersionError(
            f"knowledge base {path_label} has schema version {current}, but this metakb knows "
            f"versions up to {known}; upgrade metakb (pip install -U metakb) to open it"
        )
    return current


def _split_sql(sql: str) -> list[str]:
    """Split a migration file into statements (``executescript`` would commit implicitly)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
