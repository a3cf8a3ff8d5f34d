"""The knowledge base: one SQLite file of datasets, meta-features, spaces, configurations,
evaluations, runs, portfolios, embeddings and architectures.

Contract (tested against an in-memory and a file-backed database in ``tests/metakb/store``):

* Opening a file applies the migrations of ``db/migrations`` in order; a file of a newer schema
  is refused (:class:`~metakb.errors.SchemaVersionError`); a file that is not SQLite is refused
  (:class:`~metakb.errors.StoreError`) and left untouched.
* WAL journal, foreign keys on. The switch to WAL (which rewrites header bytes) happens at the
  first write, so opening a file to read it, or a write command refused before it writes, leaves
  the file byte-identical. Every multi-row write happens in one transaction: on any error
  nothing of it is written.
* Identity by content: a dataset is identified by the hash of its content, a configuration by
  the hash of its canonical JSON within its space; adding either twice returns the existing row.
* Every row records its ``origin`` (a build run, an OpenML run id, an ASlib scenario, an
  optimizer run, ...) and ``created_at``.
* A file that lacks only *deferrable* migrations (new tables, or a compaction that changes only
  how rows are stored; see :mod:`metakb.store._migrations`) is not migrated at open: the tables
  those would create read as empty (:attr:`KnowledgeBase.pending_migrations` names the migrations) until the first
  write of a writable open applies them (with the WAL switch, just before the write's
  transaction), so a read-only open, or a writable one that writes nothing, leaves the file
  byte-identical. Any other migration is applied when the file is opened for writing.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from metakb._convert import canonical_budget, metric_direction
from metakb._matrix import performance_matrix
from metakb.errors import ConfigError, NotFoundError, StoreError
from metakb.store import _sources
from metakb.store._migrations import latest_version, load_migrations, migrate, refuse_newer
from metakb.store._scores import read_scores, stored_scores
from metakb.store._util import canonical_json, is_finite, sha256_text, to_builtin, utc_now

__all__ = ["KnowledgeBase", "EVALUATION_STATUSES", "NEAR_DUPLICATE_KINDS", "TABLES"]

EVALUATION_STATUSES = ("ok", "crashed", "timeout", "memout")
#: The identity of an evaluation cell (the evaluations table's UNIQUE key).
_CELL_FIELDS = ("dataset_id", "configuration_id", "budget", "protocol", "seed", "metric")
#: Evaluations of one run: those it stored and those another run had stored first.
#: (The run that stored a row is its own ``run_id``; ``run_evaluations`` links the other runs.)
_OF_RUN = " AND (e.run_id = ? OR e.id IN (SELECT evaluation_id FROM run_evaluations WHERE run_id = ?))"
#: Link a run to a stored cell unless the run is the one that stored it (migration 0005).
_LINK_RUN = ("INSERT OR IGNORE INTO run_evaluations (run_id, evaluation_id) SELECT ?1, id "
             "FROM evaluations WHERE dataset_id = ?2 AND configuration_id = ?3 AND budget = ?4 "
             "AND protocol = ?5 AND seed = ?6 AND metric = ?7 AND run_id IS NOT ?1")
#: Tables :meth:`KnowledgeBase.rows` and :meth:`KnowledgeBase.insert_rows` accept.
TABLES = ("datasets", "meta_features", "search_spaces", "configurations", "runs", "evaluations",
          "run_evaluations", "portfolios", "portfolio_members", "portfolio_datasets", "embeddings",
          "architectures", "fewshot_results", "dataset_signatures", "near_duplicates", "configuration_sources")
#: Kinds of near-duplicate pairs (the ``near_duplicates`` table's CHECK).
NEAR_DUPLICATE_KINDS = ("same-content", "same-statistics")
#: A running run whose heartbeat is older than this (seconds) is reported stale.
STALE_AFTER_SECONDS = 600.0

_EVALUATION_FIELDS = (
    "dataset_id", "configuration_id", "budget", "protocol", "seed", "metric", "higher_is_better",
    "value", "scores", "fit_seconds", "status", "error", "run_id", "origin",
)
# Keys every evaluation record must have, with a value (the NOT NULL columns the caller fills).
_REQUIRED_EVALUATION_FIELDS = (
    "dataset_id", "configuration_id", "budget", "protocol", "seed", "metric", "status", "origin",
)
_INTEGER_EVALUATION_FIELDS = ("dataset_id", "configuration_id", "seed")
_TEXT_EVALUATION_FIELDS = ("protocol", "metric", "origin")


class KnowledgeBase:
    """An open knowledge base file.

    Args:
        path: the SQLite file (created if missing) or ``":memory:"``.
        readonly: open without writing anything (no migration; the schema must be current).

    Raises:
        StoreError: the file is not an SQLite database or cannot be opened.
        SchemaVersionError: the file was written by a newer metakb.

    Threads: the connection is opened with ``check_same_thread=False`` so that an object made in
    one thread may be used from another (a progress or executor callback thread storing a
    result). One connection cannot hold two threads' transactions apart, so every write (all
    of them run in :meth:`transaction`) and the frame and row queries hold one re-entrant lock
    of this object: a second thread's write waits until the first thread's transaction has
    committed or rolled back, and its queries do not read the other's uncommitted rows
    mid-transaction. Single-statement reads (``info``, ``check``, ``evaluated_keys``) take no
    lock. The lock is per object; other processes are serialised by SQLite itself (WAL,
    ``BEGIN IMMEDIATE``, a 30 s busy timeout). Code that uses :attr:`connection` directly
    takes no lock.

    Example:
        >>> with KnowledgeBase(":memory:") as kb:
        ...     kb.info()["schema_version"] >= 1
        True
    """

    def __init__(self, path: str | Path = ":memory:", *, readonly: bool = False) -> None:
        self.path = str(path)
        self.readonly = readonly
        self._depth = 0
        self._lock = threading.RLock()  # see "Threads" in the class docstring
        self._wal_pending = False
        #: deferrable migrations an open of an older file lacks (their tables read as empty)
        self.pending_migrations: tuple[str, ...] = ()
        self._absent_tables: frozenset[str] = frozenset()
        self._conn = self._connect()
        try:
            try:
                self._configure()
            except sqlite3.OperationalError as exc:  # e.g. locked by another writer past the timeout
                raise self._store_error(exc, "cannot open") from exc
        except BaseException:
            self._conn.close()
            raise
        self.db = sqlite_utils.Database(self._conn)

    # ------------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            path = Path(self.path)
            if path.is_dir():
                raise StoreError(f"knowledge base path {path} is a directory, expected an SQLite file")
            if not path.parent.exists():
                raise StoreError(f"cannot create knowledge base {path}: folder {path.parent} does not exist")
            if self.readonly and not path.exists():
                raise StoreError(f"knowledge base {path} does not exist")
        # A read-only open needs a URI; the path is percent-encoded (as_uri) so that a '#', '?',
        # '%' or space in it is part of the file name, not a URI fragment or query.
        target = Path(self.path).resolve().as_uri() + "?mode=ro" if self.readonly else self.path
        try:
            conn = sqlite3.connect(target, isolation_level=None, uri=self.readonly,
                                   check_same_thread=False, timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open knowledge base {self.path}: {exc}") from exc
        return conn

    def _configure(self) -> None:
        try:
            self._conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an SQLite knowledge base ({exc})") from exc
        self._conn.execute("PRAGMA foreign_keys = ON")
        version = refuse_newer(self._conn, self.path)
        if self.readonly:
            if version != latest_version():
                pending = load_migrations()[version:]
                if not all(m.deferrable for m in pending):
                    raise StoreError(f"knowledge base {self.path} has schema version {version}; open it "
                                     f"once without readonly to migrate it to {latest_version()}")
                self._defer(pending)
            return
        self._conn.execute("PRAGMA synchronous = NORMAL")  # per connection, nothing is written
        self._wal_pending = self.path != ":memory:"
        pending = load_migrations()[version:]
        if version > 0 and pending and all(m.deferrable for m in pending):
            self._defer(pending)  # applied at the first write (see the module doc)
            return
        if version != latest_version():  # migrating is a write: WAL first
            self._ensure_wal()
        migrate(self._conn, self.path)

    def _defer(self, pending: Sequence[Any]) -> None:
        """Read the tables of the deferrable ``pending`` migrations as empty until they are applied."""
        self.pending_migrations = tuple(f"{m.version:04d}_{m.name}" for m in pending)
        self._absent_tables = frozenset(t for m in pending for t in m.tables)

    def upgrade(self) -> None:
        """Apply the deferrable migrations deferred at open now (a write; see the module doc).

        Raises:
            StoreError: the knowledge base is open read-only, or a migration failed.
        """
        if not self.pending_migrations:
            return
        if self.readonly:
            raise StoreError(f"knowledge base {self.path} is open read-only; it cannot be migrated")
        with self._lock:
            self._ensure_wal()
            migrate(self._conn, self.path)
            self.pending_migrations, self._absent_tables = (), frozenset()

    def vacuum(self) -> None:
        """Apply the deferred migrations, then rewrite the file without its free pages (SQLite
        ``VACUUM``) as one self-contained file: the WAL is checkpointed and the journal set back
        to a rollback journal, so the file can be copied or shipped alone (the next write
        switches it to WAL again). The rewrite is atomic: a failure leaves the file as it was.

        Raises:
            StoreError: the knowledge base is open read-only, or another connection holds it
                (e.g. a running build) past the busy timeout.
        """
        if self.readonly:
            raise StoreError(f"knowledge base {self.path} is open read-only; it cannot be compacted")
        with self._lock:
            self.upgrade()
            if self.path == ":memory:":
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.execute("PRAGMA journal_mode = DELETE")
                self._conn.execute("VACUUM")
            except sqlite3.OperationalError as exc:
                raise self._store_error(exc, "cannot compact") from exc
            self._wal_pending = True

    def _ensure_wal(self) -> None:
        """Switch the file to the WAL journal before its first write (not at open: that changes
        the header bytes of a file that is only read)."""
        if self._wal_pending:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._wal_pending = False

    def close(self) -> None:
        """Close the connection (checkpointing the WAL into the main file)."""
        self._conn.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.path!r})"

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying ``sqlite3`` connection (autocommit; use :meth:`transaction`)."""
        return self._conn

    def _store_error(self, exc: sqlite3.Error, action: str, suffix: str = "") -> StoreError:
        """A one-line :class:`StoreError` naming this file and SQLite's cause (e.g. "database
        is locked" once the busy timeout has passed), so the CLI never shows a raw sqlite3
        traceback."""
        return StoreError(f"{action} knowledge base {self.path}: {exc}{suffix}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[KnowledgeBase]:
        """All writes inside happen together or not at all; nested calls use savepoints.

        Raises:
            StoreError: SQLite refused the write (a broken constraint, the file locked by another
                writer past the busy timeout, a read-only file, a full disk); nothing was written.
        """
        with self._lock:
            yield from self._transaction()

    def _transaction(self) -> Iterator[KnowledgeBase]:
        try:
            if self._depth == 0:
                if self.pending_migrations and not self.readonly:
                    self.upgrade()  # a file lacking only deferrable migrations: they come first
                self._ensure_wal()
                self._conn.execute("BEGIN IMMEDIATE")
            else:
                self._conn.execute(f"SAVEPOINT sp{self._depth}")
        except sqlite3.OperationalError as exc:
            raise self._store_error(exc, "cannot write to") from exc
        self._depth += 1
        try:
            try:
                yield self
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"the write breaks a constraint of the knowledge base ({exc}); nothing was written") from exc
            except sqlite3.OperationalError as exc:
                raise self._store_error(exc, "cannot write to", "; nothing was written") from exc
        except BaseException:
            self._depth -= 1
            self._rollback()
            raise
        self._depth -= 1
        try:
            if self._depth == 0:
                self._conn.execute("COMMIT")
            else:
                self._conn.execute(f"RELEASE sp{self._depth}")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._store_error(exc, "cannot write to", "; nothing was written") from exc

    def _rollback(self) -> None:
        """Undo the innermost open transaction or savepoint (``self._depth`` already lowered).

        SQLite may have rolled the whole transaction back by itself (e.g. on a full disk); then
        there is nothing left to undo.
        """
        if not self._conn.in_transaction:
            return
        if self._depth == 0:
            self._conn.execute("ROLLBACK")
        else:
            self._conn.execute(f"ROLLBACK TO sp{self._depth}")
            self._conn.execute(f"RELEASE sp{self._depth}")

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """The rows of a query as dicts; a locked or unreadable file is a StoreError."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql, params)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.OperationalError as exc:
            if self._depth:  # inside a transaction: transaction() translates it and rolls back
                raise
            raise self._store_error(exc, "cannot read") from exc

    def _frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> pd.DataFrame:
        """A query as a frame; an empty result keeps the query's columns."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql, params)
                names = [d[0] for d in cursor.description]
                return pd.DataFrame(cursor.fetchall(), columns=names)
        except sqlite3.OperationalError as exc:
            if self._depth:
                raise
            raise self._store_error(exc, "cannot read") from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    @property
    def schema_version(self) -> int:
        """``PRAGMA user_version`` of the file."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # ------------------------------------------------------------------ datasets
    def add_dataset(
        self,
        name: str,
        content_hash: str,
        *,
        source: str,
        origin: str,
        source_id: str | None = None,
        task_type: str = "classification",
        n_rows: int | None = None,
        n_features: int | None = None,
        n_classes: int | None = None,
        target: str | None = None,
    ) -> int:
        """Store a dataset's description and return its id.

        The same content (hash) stored twice is one row: the existing id is returned. A
        different dataset with a name already taken is stored as ``name@hash8``.
        """
        if not name:
            raise ConfigError("dataset name must be a non-empty string, got ''")
        existing = self._one("SELECT id FROM datasets WHERE content_hash = ?", (content_hash,))
        if existing:
            return int(existing["id"])
        if self._one("SELECT id FROM datasets WHERE name = ?", (name,)):
            name = f"{name}@{content_hash[:8]}"
        row = dict(name=name, source=source, source_id=source_id, content_hash=content_hash,
                   task_type=task_type, n_rows=n_rows, n_features=n_features, n_classes=n_classes,
                   target=target, origin=origin, created_at=utc_now())
        with self.transaction():
            cursor = self._conn.execute(
                f"INSERT INTO datasets ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(to_builtin(v) for v in row.values()))
        return _row_id(cursor)

    def get_dataset(self, key: int | str) -> dict[str, Any]:
        """A dataset row by id, name or content hash."""
        if isinstance(key, (int, np.integer)):
            row = self._one("SELECT * FROM datasets WHERE id = ?", (int(key),))
        else:
            row = self._one("SELECT * FROM datasets WHERE name = ? OR content_hash = ?", (key, key))
        if row is None:
            raise NotFoundError(f"dataset {key!r} is not in the knowledge base {self.path}")
        return row

    def find_dataset(self, content_hash: str) -> dict[str, Any] | None:
        """The dataset with this content hash, or None."""
        return self._one("SELECT * FROM datasets WHERE content_hash = ?", (content_hash,))

    def datasets(self, *, source: str | None = None, task_type: str | None = None) -> pd.DataFrame:
        """All datasets (optionally of one source or task type), one row each, indexed by id."""
        sql = "SELECT * FROM datasets WHERE 1=1"
        params: list[Any] = []
        if source:
            sql, params = sql + " AND source = ?", [*params, source]
        if task_type:
            sql, params = sql + " AND task_type = ?", [*params, task_type]
        return self._frame(sql + " ORDER BY id", params).set_index("id")

    # ------------------------------------------------------------------ meta-features
    def set_meta_features(
        self,
        dataset_id: int,
        values: Mapping[str, float | None],
        *,
        groups: Mapping[str, str] | str,
        extractor_version: str,
        origin: str,
    ) -> int:
        """Store a dataset's meta-features of one or more groups in one transaction; return how many.

        The call replaces the dataset's previous values of every group it writes: rows of those
        groups whose name is not in ``values`` are deleted (a newer extractor that no longer
        produces a feature must not leave its old value feeding kNN distances). The groups
        written are those of the names in ``values``, and ``groups`` itself when it is one
        name. Rows of other groups (another extractor, e.g. ``openml`` beside ``general``) are
        kept as they are, whatever their version.

        Raises:
            ConfigError: a name has no group, or ``extractor_version``/``origin`` is empty;
                nothing is written then.
            NotFoundError: the dataset is not stored.
        """
        self.get_dataset(int(dataset_id))
        for label, text in (("extractor_version", extractor_version), ("origin", origin)):
            if not isinstance(text, str) or not text:
                raise ConfigError(f"meta-feature {label} must be a non-empty string, got {text!r}")
        now = utc_now()
        rows = []
        written = {groups} if isinstance(groups, str) else set()
        for name, value in values.items():
            group = groups if isinstance(groups, str) else groups.get(name)
            if group is None:
                raise ConfigError(f"meta-feature {name!r} has no group; pass groups= for every name")
            number = None if value is None else float(value)
            if number is not None and not np.isfinite(number):
                number = None
            written.add(group)
            rows.append({"dataset_id": int(dataset_id), "name": name, "grp": group, "value": number,
                         "extractor_version": extractor_version, "origin": origin, "created_at": now})
        with self.transaction():
            if written:
                self._conn.execute(
                    f"DELETE FROM meta_features WHERE dataset_id = ? AND grp IN ({', '.join('?' * len(written))})",
                    (int(dataset_id), *sorted(written)))
            # sqlite-utils' upsert runs inside this transaction (as a savepoint: it never commits it)
            self.db.table("meta_features").upsert_all(rows, pk=("dataset_id", "name"))
        return len(rows)

    def meta_features(self, dataset: int | str) -> dict[str, float]:
        """One dataset's meta-features as ``{name: value}`` (NaN where undefined)."""
        dataset_id = self.get_dataset(dataset)["id"]
        rows = self._rows("SELECT name, value FROM meta_features WHERE dataset_id = ?", (dataset_id,))
        return {r["name"]: (np.nan if r["value"] is None else r["value"]) for r in rows}

    def meta_feature_versions(self) -> dict[int, str]:
        """For each dataset id, the extractor version(s) of its meta-features (comma-joined)."""
        rows = self._rows("SELECT dataset_id, group_concat(DISTINCT extractor_version) AS v "
                          "FROM meta_features GROUP BY dataset_id")
        return {int(r["dataset_id"]): r["v"] for r in rows}

    def meta_feature_matrix(
        self, *, groups: Iterable[str] | None = None, datasets: Iterable[int] | None = None,
    ) -> pd.DataFrame:
        """Meta-features as a frame: one row per dataset (index: dataset name), one column each."""
        sql = ("SELECT d.name AS dataset, m.name AS feature, m.value FROM meta_features m "
               "JOIN datasets d ON d.id = m.dataset_id WHERE 1=1")
        params: list[Any] = []
        if groups is not None:
            groups = list(groups)
            sql += f" AND m.grp IN ({', '.join('?' * len(groups))})"
            params += groups
        if datasets is not None:
            ids = [int(i) for i in datasets]
            sql += f" AND m.dataset_id IN ({', '.join('?' * len(ids))})"
            params += ids
        long = pd.DataFrame(self._rows(sql, params), columns=["dataset", "feature", "value"])
        if long.empty:
            return pd.DataFrame()
        long["value"] = long["value"].astype(float)
        return long.pivot(index="dataset", columns="feature", values="value").sort_index()

    # ------------------------------------------------------------------ spaces and configurations
    def add_space(self, name: str, version: str, configspace_json: str, *, origin: str) -> int:
        """Store a search space (ConfigSpace JSON); the same name and version is one row."""
        existing = self._one("SELECT id, space_hash FROM search_spaces WHERE name = ? AND version = ?",
                             (name, version))
        space_hash = sha256_text(configspace_json)
        if existing:
            stored = self._one("SELECT configspace FROM search_spaces WHERE id = ?", (existing["id"],))
            same = existing["space_hash"] == space_hash or (
                stored is not None and _same_json(stored["configspace"], configspace_json))
            if not same:
                raise ConfigError(
                    f"search space {name!r} version {version!r} is already stored with a different "
                    "definition; bump the space's version when you change it")
            return int(existing["id"])
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO search_spaces (name, version, configspace, space_hash, origin, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (name, version, configspace_json, space_hash, origin, utc_now()))
        return _row_id(cursor)

    def get_space(self, key: int | str, version: str | None = None) -> dict[str, Any]:
        """A search-space row by id, or by name (the newest stored version unless given)."""
        if isinstance(key, (int, np.integer)):
            row = self._one("SELECT * FROM search_spaces WHERE id = ?", (int(key),))
        elif version is None:
            row = self._one("SELECT * FROM search_spaces WHERE name = ? ORDER BY id DESC LIMIT 1", (key,))
        else:
            row = self._one("SELECT * FROM search_spaces WHERE name = ? AND version = ?", (key, version))
        if row is None:
            known = [r["name"] for r in self._rows("SELECT DISTINCT name FROM search_spaces")]
            raise NotFoundError(f"search space {key!r} is not in the knowledge base; stored: {known}")
        return row

    def add_configurations(
        self, space_id: int, configs: Sequence[Mapping[str, Any]], *, origin: str,
        labels: Sequence[str | None] | None = None,
    ) -> list[int]:
        """Store configurations of one space in one transaction; return their ids in order.

        A configuration is identified by the hash of its canonical JSON: one stored before keeps
        its id (and its first origin).
        """
        self.get_space(int(space_id))
        if not isinstance(origin, str) or not origin:
            raise ConfigError(f"configuration origin must be a non-empty string, got {origin!r}")
        labels = list(labels) if labels is not None else [None] * len(configs)
        if len(labels) != len(configs):
            raise ConfigError(f"labels has {len(labels)} entries, expected one per configuration ({len(configs)})")
        ids: list[int] = []
        now = utc_now()
        with self.transaction():
            for config, label in zip(configs, labels, strict=True):
                text = canonical_json(dict(config))
                digest = sha256_text(text)
                self._conn.execute(  # only a stored duplicate is skipped; any other violation raises
                    "INSERT INTO configurations (space_id, config, config_hash, label, origin, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (space_id, config_hash) DO NOTHING",
                    (int(space_id), text, digest, label, origin, now))
                row = self._conn.execute("SELECT id FROM configurations WHERE space_id = ? AND config_hash = ?",
                                         (int(space_id), digest)).fetchone()
                ids.append(int(row[0]))
        return ids

    def spaces(self) -> pd.DataFrame:
        """The stored search spaces: id, name, version, origin (one row per version)."""
        return self._frame("SELECT id, name, version, origin, created_at FROM search_spaces ORDER BY name, id", [])

    def add_configuration(self, space_id: int, config: Mapping[str, Any], *, origin: str,
                          label: str | None = None) -> int:
        """Store one configuration (see :meth:`add_configurations`)."""
        return self.add_configurations(space_id, [config], origin=origin, labels=[label])[0]

    def configurations(self, space: int | str) -> pd.DataFrame:
        """The configurations of a space: index id, columns ``config`` (dict), ``label``, ``origin``."""
        space_id = self.get_space(space)["id"]
        rows = self._rows("SELECT id, config, label, origin FROM configurations WHERE space_id = ? ORDER BY id",
                          (space_id,))
        frame = pd.DataFrame(rows, columns=["id", "config", "label", "origin"])
        frame["config"] = [json.loads(c) for c in frame["config"]]
        return frame.set_index("id")

    def get_configuration(self, configuration_id: int) -> dict[str, Any]:
        """One configuration's values by id."""
        row = self._one("SELECT config FROM configurations WHERE id = ?", (int(configuration_id),))
        if row is None:
            raise NotFoundError(f"configuration {configuration_id} is not in the knowledge base")
        return json.loads(row["config"])

    def add_configuration_sources(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Store where configurations come from (the ``configuration_sources`` table) in one
        transaction; return how many rows were new.

        Each record has ``configuration_id``, ``kind`` (e.g. ``bohb-incumbent``), ``rank`` (1 =
        the search's best), ``settings`` (a mapping: the search's settings and seed) and
        ``origin``, and optionally ``dataset_id`` (the dataset searched), ``loss``, ``budget``
        and ``run_id``. The same configuration, dataset, kind and settings is stored once.

        Raises:
            ConfigError: a record lacks a required field or has a rank below 1.
            StoreError: SQLite refused the rows (e.g. an unknown configuration); nothing is written.
        """
        return _sources.add_configuration_sources(self, records)

    def configuration_sources(self, space: int | str | None = None, *, dataset: int | str | None = None,
                              settings: Mapping[str, Any] | None = None, kind: str | None = None) -> pd.DataFrame:
        """Provenance rows: one per (configuration, search that found it), with the dataset's
        name; ``settings`` selects one search's rows (equal canonical JSON)."""
        return _sources.configuration_sources(
            self, space_id=None if space is None else int(self.get_space(space)["id"]),
            dataset_id=None if dataset is None else int(self.get_dataset(dataset)["id"]),
            settings_hash=None if settings is None else _sources.search_key(settings), kind=kind)

    # ------------------------------------------------------------------ evaluations
    def add_evaluations(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Store evaluations in one transaction; return how many were new.

        Each record has the keys of the ``evaluations`` table (``scores``: a mapping or its JSON,
        stored as :func:`~metakb.store._scores.stored_scores`: the other metrics' floats at
        :data:`~metakb.store._scores.SCORE_DIGITS` significant digits; ``value``, the primary metric,
        keeps full precision).
        ``dataset_id``, ``configuration_id``, ``budget``, ``protocol``, ``seed``, ``metric``,
        ``status`` and ``origin`` are required and may not be None. ``higher_is_better``, when
        absent or None, is the direction of ``metric`` (``log_loss``, ``runtime``, ... are
        lower-is-better, see :data:`metakb._convert.METRIC_DIRECTIONS`); for a metric not known
        there it defaults to 1 (higher is better), so pass it for such metrics.
        An evaluation already stored (same dataset, configuration, budget, protocol, seed and
        metric) is kept as it is: storing results twice never duplicates a row.

        Raises:
            ConfigError: a record has an unknown status, a missing or None required field, or a
                non-finite value with status ``ok`` (the message names the record's index in
                the batch); nothing of the batch is written then.
            StoreError: SQLite refused the batch (e.g. an unknown dataset id); nothing is written.
        """
        rows = [self._evaluation_row(r, i) for i, r in enumerate(records)]
        now = utc_now()
        with self.transaction():
            before = self._conn.total_changes
            # Only the identity conflict (an evaluation stored before) is skipped; a NOT NULL or
            # CHECK violation raises and rolls the whole batch back (OR IGNORE would drop it).
            self._conn.executemany(
                f"INSERT INTO evaluations ({', '.join(_EVALUATION_FIELDS)}, created_at) "
                f"VALUES ({', '.join('?' * (len(_EVALUATION_FIELDS) + 1))}) "
                "ON CONFLICT (dataset_id, configuration_id, budget, protocol, seed, metric) DO NOTHING",
                [(*row, now) for row in rows])
            added = self._conn.total_changes - before
            self._link_run_evaluations(rows)
        return int(added)

    def _link_run_evaluations(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Record every run that evaluated a cell when another run had stored it first."""
        at = {name: i for i, name in enumerate(_EVALUATION_FIELDS)}
        links = [(row[at["run_id"]], *(row[at[k]] for k in _CELL_FIELDS))
                 for row in rows if row[at["run_id"]] is not None]
        if links:
            self._conn.executemany(_LINK_RUN, links)

    @staticmethod
    def _evaluation_row(record: Mapping[str, Any], index: int = 0) -> tuple[Any, ...]:
        """The ``evaluations`` columns of one record (number ``index`` of its batch), validated
        here so that a bad record is refused with its field named instead of being dropped or
        half-written by SQLite."""
        where = f"evaluation record {index}"
        missing = [k for k in _REQUIRED_EVALUATION_FIELDS if k not in record]
        if missing:
            raise ConfigError(f"{where} lacks {missing}; got keys {sorted(record)}")
        for key in _REQUIRED_EVALUATION_FIELDS:
            if record[key] is None:
                raise ConfigError(f"{where} has {key}=None; expected a value for every one of "
                                  f"{list(_REQUIRED_EVALUATION_FIELDS)}")
        for key in _TEXT_EVALUATION_FIELDS:
            if not isinstance(record[key], str) or not record[key].strip():
                raise ConfigError(f"{where} has {key}={record[key]!r}; expected a non-empty string")
        integers = {key: _integer(record[key], f"{where} {key}") for key in _INTEGER_EVALUATION_FIELDS}
        status = record["status"]
        if status not in EVALUATION_STATUSES:
            raise ConfigError(f"{where}: evaluation status must be one of {EVALUATION_STATUSES}, got {status!r}")
        value = record.get("value")
        if status == "ok" and not is_finite(value):
            raise ConfigError(f"{where}: an evaluation with status 'ok' needs a finite value, got {value!r}")
        try:  # one float per budget however it was computed (1/9 == 3 ** -2 here)
            budget = canonical_budget(record["budget"])
        except ConfigError:
            raise ConfigError(f"{where}: evaluation budget must be a fraction in (0, 1], "
                              f"got {record['budget']!r}") from None
        if not 0.0 < budget <= 1.0:
            raise ConfigError(f"{where}: evaluation budget must be a fraction in (0, 1], got {budget}")
        data = dict(record)
        data.update(integers)
        if data.get("higher_is_better") is None:
            data["higher_is_better"] = _default_direction(str(record["metric"]))
        data["higher_is_better"] = int(bool(data["higher_is_better"]))
        data["budget"] = budget
        data["value"] = float(value) if status == "ok" and value is not None else None
        data["scores"] = stored_scores(data.get("scores"), str(record["metric"]), data["value"], where)
        return tuple(to_builtin(data.get(k)) for k in _EVALUATION_FIELDS)

    def evaluated_keys(self, *, protocol: str, metric: str, space_id: int | None = None,
                       run_id: str | None = None) -> set[tuple[int, int, float, int]]:
        """``(dataset_id, configuration_id, budget, seed)`` of every stored evaluation of a protocol
        (budgets as :func:`metakb._convert.canonical_budget`, so ``1 / 9`` finds them).

        Builds and optimizer runs use it to skip finished work when they resume.
        """
        sql = ("SELECT e.dataset_id, e.configuration_id, e.budget, e.seed FROM evaluations e "
               "JOIN configurations c ON c.id = e.configuration_id WHERE e.protocol = ? AND e.metric = ?")
        params: list[Any] = [protocol, metric]
        if space_id is not None:
            sql, params = sql + " AND c.space_id = ?", [*params, int(space_id)]
        if run_id is not None:
            sql, params = sql + _OF_RUN, [*params, run_id, run_id]
        return {(int(a), int(b), canonical_budget(c), int(d)) for a, b, c, d in self._conn.execute(sql, params)}

    def evaluations(self, *, dataset: int | str | None = None, space: int | str | None = None,
                    run_id: str | None = None, status: str | None = None) -> pd.DataFrame:
        """Evaluations as a flat frame (one row each), filtered as asked.

        ``scores`` is the JSON of every metric of the evaluation, its primary ``metric`` (from
        ``value``, at full precision) included; missing (NaN in the frame) when it has none.
        """
        sql = ("SELECT e.*, d.name AS dataset, c.space_id FROM evaluations e "
               "JOIN datasets d ON d.id = e.dataset_id JOIN configurations c ON c.id = e.configuration_id "
               "WHERE 1=1")
        params: list[Any] = []
        if dataset is not None:
            sql, params = sql + " AND e.dataset_id = ?", [*params, self.get_dataset(dataset)["id"]]
        if space is not None:
            sql, params = sql + " AND c.space_id = ?", [*params, self.get_space(space)["id"]]
        if run_id is not None:
            sql, params = sql + _OF_RUN, [*params, run_id, run_id]
        if status is not None:
            sql, params = sql + " AND e.status = ?", [*params, status]
        frame = self._frame(sql + " ORDER BY e.id", params)
        if len(frame):
            frame["scores"] = [read_scores(s, m, v) for s, m, v in
                               zip(frame["scores"], frame["metric"], frame["value"], strict=True)]
        return frame

    def performance_matrix(
        self,
        space: int | str,
        *,
        metric: str = "balanced_accuracy",
        budget: float = 1.0,
        protocol: str | None = None,
        datasets: Iterable[int] | None = None,
        seed: int | None = None,
        floor: bool = True,
    ) -> pd.DataFrame:
        """Scores as a dataset × configuration frame (index: dataset name; columns: config ids).

        The store selects the rows; :func:`metakb._matrix.performance_matrix` (a pure function
        over an evaluations frame) builds the matrix.

        Cells average the ``ok`` evaluations over seeds (only those of ``seed`` when given, e.g.
        to compare two repeats of the same cells); a cell with no ``ok`` evaluation (a crash,
        timeout or memout, or never evaluated) is NaN: the caller chooses how to treat it.

        Values of different evaluation protocols are never mixed (a ``cv:3`` score and a
        ``holdout:0.33`` score are not comparable). With ``protocol=None`` the matrix uses one
        protocol: the one with the most evaluations among the rows selected by space, budget,
        seed and datasets (a tie goes to the alphabetically first name, so the choice is
        deterministic); the other protocols' rows are left out.

        A metric with a floor (R²: below 0, worse than the training mean) is raised to it
        (``floor=False`` keeps the raw means; the stored evaluations are never changed).

        The frame's ``attrs`` hold ``metric``, ``higher_is_better``, ``protocol`` (the one
        used; None for an empty frame when none was asked) and ``floor``.
        """
        space_id = self.get_space(space)["id"]
        budget = canonical_budget(budget)  # stored budgets are canonical; the 1e-9 covers older rows
        sql = ("SELECT d.name AS dataset, e.configuration_id, e.value, e.status, e.metric, e.scores, "
               "e.higher_is_better, e.protocol FROM evaluations e JOIN datasets d ON d.id = e.dataset_id "
               "JOIN configurations c ON c.id = e.configuration_id "
               "WHERE c.space_id = ? AND abs(e.budget - ?) < 1e-9")
        params: list[Any] = [space_id, float(budget)]
        if protocol is not None:
            sql, params = sql + " AND e.protocol = ?", [*params, protocol]
        if seed is not None:
            sql, params = sql + " AND e.seed = ?", [*params, int(seed)]
        if datasets is not None:
            ids = [int(i) for i in datasets]
            sql, params = sql + f" AND e.dataset_id IN ({', '.join('?' * len(ids))})", [*params, *ids]
        return performance_matrix(self._frame(sql, params), metric, protocol=protocol, floor=floor)

    # ------------------------------------------------------------------ runs
    def create_run(self, kind: str, settings: Mapping[str, Any], *, origin: str,
                   dataset_id: int | None = None, space_id: int | None = None,
                   run_id: str | None = None) -> str:
        """Record a new run (a build, an optimizer run, an import) and return its id.

        The run is owned by this process (host and pid are recorded) and its heartbeat starts
        now; see :meth:`stale_runs`.
        """
        run_id = run_id or f"{kind}-{utc_now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
        now = utc_now()
        with self.transaction():
            self._conn.execute(
                "INSERT INTO runs (id, kind, dataset_id, space_id, settings, state, status, origin, "
                "created_at, updated_at, owner, heartbeat_at) "
                "VALUES (?, ?, ?, ?, ?, NULL, 'running', ?, ?, ?, ?, ?)",
                (run_id, kind, dataset_id, space_id, canonical_json(dict(settings)), origin, now, now,
                 canonical_json(_this_process()), now))
        return run_id

    def update_run(self, run_id: str, *, status: str | None = None,
                   state: Mapping[str, Any] | None = None,
                   elapsed_seconds: float | None = None) -> None:
        """Change a run's status, saved state and/or wall seconds spent so far.

        Every update is also a heartbeat; setting the status to ``running`` (a resumed run)
        makes this process the run's owner.
        """
        self.get_run(run_id)
        now = utc_now()
        with self.transaction():
            if status is not None:
                self._conn.execute("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?",
                                   (status, now, run_id))
            if status == "running":
                self._conn.execute("UPDATE runs SET owner = ? WHERE id = ?",
                                   (canonical_json(_this_process()), run_id))
            if state is not None:
                self._conn.execute("UPDATE runs SET state = ?, updated_at = ? WHERE id = ?",
                                   (canonical_json(dict(state)), now, run_id))
            if elapsed_seconds is not None:
                self._conn.execute("UPDATE runs SET elapsed_seconds = ? WHERE id = ?",
                                   (float(elapsed_seconds), run_id))
            self._conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now, run_id))

    def heartbeat(self, run_id: str) -> None:
        """Say that the process running ``run_id`` is alive (long evaluations call it)."""
        with self.transaction():
            self._conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (utc_now(), run_id))

    def stale_runs(self, *, max_age: float = STALE_AFTER_SECONDS) -> list[dict[str, Any]]:
        """Runs marked ``running`` whose process is gone: killed, crashed, or on another machine
        and silent for more than ``max_age`` seconds (the heartbeat rule of Optuna's RDB storage).

        On the machine that started a run, a run is stale as soon as its process no longer
        exists; this reads only, it changes nothing (resume such a run, or see ``db check``).
        """
        import datetime as dt

        now = dt.datetime.now(dt.timezone.utc)
        stale = []
        with self._reading():
            rows = self._conn.execute(
                "SELECT id, kind, owner, heartbeat_at, updated_at FROM runs WHERE status = 'running'"
            ).fetchall()
        for run_id, kind, owner_json, heartbeat, updated in rows:
            owner: dict[str, Any] = json.loads(owner_json) if owner_json else {}
            beat = dt.datetime.fromisoformat(heartbeat or updated)
            beat = beat if beat.tzinfo else beat.replace(tzinfo=dt.timezone.utc)
            age = (now - beat).total_seconds()
            gone = bool(owner) and owner.get("host") == _this_process()["host"] \
                and not _process_alive(int(owner["pid"]))
            if gone or age > max_age:
                why = (f"its process {owner.get('pid')} is gone" if gone
                       else f"no heartbeat for {age:.0f} s")
                stale.append({"id": run_id, "kind": kind, "why": why})
        return stale

    def interrupt_stale_runs(self, kind: str | None = None) -> list[str]:
        """Mark the :meth:`stale_runs` (of ``kind``) as ``interrupted``; return their ids.

        Commands that start a run call it first, so a build or optimize run killed with
        ``kill -9`` does not stay ``running`` for ever once its work is taken up again.
        """
        stale = [r["id"] for r in self.stale_runs() if kind is None or r["kind"] == kind]
        if stale:
            with self.transaction():
                self._conn.executemany("UPDATE runs SET status = 'interrupted', updated_at = ? WHERE id = ?",
                                       [(utc_now(), run_id) for run_id in stale])
        return stale

    def get_run(self, run_id: str) -> dict[str, Any]:
        """A run with its settings and state decoded from JSON."""
        row = self._one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise NotFoundError(f"run {run_id!r} is not in the knowledge base {self.path}")
        row["settings"] = json.loads(row["settings"])
        row["state"] = json.loads(row["state"]) if row["state"] else None
        return row

    def runs(self, kind: str | None = None) -> pd.DataFrame:
        """All runs (optionally of one kind), newest first."""
        sql, params = "SELECT id, kind, status, dataset_id, space_id, created_at, updated_at FROM runs", []
        if kind:
            sql, params = sql + " WHERE kind = ?", [kind]
        return self._frame(sql + " ORDER BY created_at DESC", params)

    # ------------------------------------------------------------------ portfolios
    def save_portfolio(
        self, name: str, space_id: int, members: Sequence[tuple[int, float | None]],
        *, datasets: Sequence[tuple[int, str]], settings: Mapping[str, Any], origin: str,
        replace: bool = False,
    ) -> int:
        """Store a portfolio: ordered ``(configuration_id, objective)`` members and its datasets."""
        with self.transaction():
            existing = self._one("SELECT id FROM portfolios WHERE name = ?", (name,))
            if existing and not replace:
                raise ConfigError(f"portfolio {name!r} already exists; choose another name or pass --replace "
                                  "(replace=True in Python)")
            if existing:
                self._conn.execute("DELETE FROM portfolios WHERE id = ?", (existing["id"],))
            cursor = self._conn.execute(
                "INSERT INTO portfolios (name, space_id, settings, origin, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, int(space_id), canonical_json(dict(settings)), origin, utc_now()))
            pid = _row_id(cursor)
            self._conn.executemany(
                "INSERT INTO portfolio_members (portfolio_id, position, configuration_id, objective) "
                "VALUES (?, ?, ?, ?)",
                [(pid, i, int(c), None if o is None else float(o)) for i, (c, o) in enumerate(members)])
            self._conn.executemany(
                "INSERT INTO portfolio_datasets (portfolio_id, dataset_id, role) VALUES (?, ?, ?)",
                [(pid, int(d), role) for d, role in datasets])
        return pid

    def get_portfolio(self, name: str) -> dict[str, Any]:
        """A portfolio with its ordered members (configuration dicts) and datasets."""
        row = self._one("SELECT * FROM portfolios WHERE name = ?", (name,))
        if row is None:
            known = [r["name"] for r in self._rows("SELECT name FROM portfolios ORDER BY name")]
            raise NotFoundError(f"portfolio {name!r} is not in the knowledge base; stored: {known}")
        row["settings"] = json.loads(row["settings"])
        row["members"] = [
            {"position": r["position"], "configuration_id": r["configuration_id"],
             "objective": r["objective"], "config": json.loads(r["config"])}
            for r in self._rows(
                "SELECT m.position, m.configuration_id, m.objective, c.config FROM portfolio_members m "
                "JOIN configurations c ON c.id = m.configuration_id WHERE m.portfolio_id = ? ORDER BY m.position",
                (row["id"],))]
        row["datasets"] = self._rows(
            "SELECT d.name, p.role FROM portfolio_datasets p JOIN datasets d ON d.id = p.dataset_id "
            "WHERE p.portfolio_id = ? ORDER BY d.name", (row["id"],))
        return row

    def portfolios(self) -> pd.DataFrame:
        """Stored portfolios with their sizes."""
        return self._frame(
            "SELECT p.name, s.name AS space, count(m.position) AS size, p.created_at FROM portfolios p "
            "JOIN search_spaces s ON s.id = p.space_id LEFT JOIN portfolio_members m ON m.portfolio_id = p.id "
            "GROUP BY p.id ORDER BY p.name")

    # ------------------------------------------------------------------ embeddings
    def save_embedding(self, name: str, kind: str, state: Mapping[str, Any], settings: Mapping[str, Any],
                       *, origin: str) -> int:
        """Store (or replace) a learned model as JSON: a state dict of nested lists, never a pickle."""
        with self.transaction():
            self._conn.execute("DELETE FROM embeddings WHERE name = ?", (name,))
            table = self.db.table("embeddings").insert(
                {"name": name, "kind": kind, "state": canonical_json(dict(state)),
                 "settings": canonical_json(dict(settings)), "origin": origin, "created_at": utc_now()})
        if table.last_rowid is None:  # pragma: no cover - an INSERT always sets it
            raise StoreError("the database did not return the id of the new embedding")
        return int(table.last_rowid)

    def get_embedding(self, name: str) -> dict[str, Any]:
        """A stored model: ``state`` and ``settings`` decoded from JSON."""
        row = self._one("SELECT * FROM embeddings WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"embedding model {name!r} is not in the knowledge base; train it first")
        row["state"] = json.loads(row["state"])
        row["settings"] = json.loads(row["settings"])
        return row

    # ------------------------------------------------------------------ architectures
    def add_architecture(self, genotype: Mapping[str, Any], *, search_space: str, origin: str) -> int:
        """Store a DARTS genotype (identity by content) and return its id."""
        for label, value in (("search_space", search_space), ("origin", origin)):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"architecture {label} must be a non-empty string, got {value!r}")
        text = canonical_json(dict(genotype))
        digest = sha256_text(text)
        with self.transaction():
            self._conn.execute(
                "INSERT INTO architectures (genotype, genotype_hash, search_space, origin, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (genotype_hash) DO NOTHING",
                (text, digest, search_space, origin, utc_now()))
            row = self._conn.execute("SELECT id FROM architectures WHERE genotype_hash = ?", (digest,)).fetchone()
        return int(row[0])

    def add_fewshot_result(self, *, method: str, ways: int, shots: int, episodes: int, accuracy: float,
                           ci95: float, settings: Mapping[str, Any], origin: str,
                           architecture_id: int | None = None, gpu_seconds: float | None = None,
                           device: str | None = None) -> int:
        """Store one few-shot evaluation (accuracy with its 95% CI over ``episodes``)."""
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO fewshot_results (architecture_id, method, ways, shots, episodes, accuracy, ci95, "
                "gpu_seconds, device, settings, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (architecture_id, method, int(ways), int(shots), int(episodes), float(accuracy), float(ci95),
                 gpu_seconds, device, canonical_json(dict(settings)), origin, utc_now()))
        return _row_id(cursor)

    # ------------------------------------------------------------------ near-duplicate datasets
    def _has_table(self, table: str) -> bool:
        """Whether ``table`` exists here (not one of a pending additive migration's tables)."""
        return table not in self._absent_tables

    def set_dataset_signature(self, dataset_id: int, signature: Mapping[str, Any], *, origin: str) -> None:
        """Store (or replace) a dataset's signature (:meth:`metakb.data.duplicates.DatasetSignature.to_dict`).

        Raises:
            ConfigError: ``signature`` lacks ``version``, ``canonical_hash``, ``n_rows`` or
                ``n_features``, or ``origin`` is empty.
            NotFoundError: the dataset is not stored.
        """
        missing = [k for k in ("version", "canonical_hash", "n_rows", "n_features") if k not in signature]
        if missing:
            raise ConfigError(f"dataset signature lacks {missing}; got keys {sorted(signature)}")
        if not isinstance(origin, str) or not origin:
            raise ConfigError(f"signature origin must be a non-empty string, got {origin!r}")
        self.get_dataset(int(dataset_id))
        with self.transaction():
            self._conn.execute(
                "INSERT INTO dataset_signatures (dataset_id, version, canonical_hash, n_rows, n_features, "
                "signature, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id) DO UPDATE "
                "SET version = excluded.version, canonical_hash = excluded.canonical_hash, n_rows = excluded.n_rows, "
                "n_features = excluded.n_features, signature = excluded.signature, origin = excluded.origin, "
                "created_at = excluded.created_at",
                (int(dataset_id), str(signature["version"]), str(signature["canonical_hash"]),
                 int(signature["n_rows"]), int(signature["n_features"]), canonical_json(to_builtin(dict(signature))),
                 origin, utc_now()))

    def dataset_signatures(self, *, n_rows: int | None = None, n_features: int | None = None,
                           version: str | None = None, dataset_id: int | None = None) -> dict[int, dict[str, Any]]:
        """Stored signatures (decoded JSON) by dataset id, optionally of one shape, version or dataset."""
        if not self._has_table("dataset_signatures"):
            return {}
        sql = "SELECT dataset_id, signature FROM dataset_signatures WHERE 1=1"
        params: list[Any] = []
        for column, value in (("n_rows", n_rows), ("n_features", n_features), ("version", version),
                              ("dataset_id", dataset_id)):
            if value is not None:
                sql, params = sql + f" AND {column} = ?", [*params, value]
        return {int(r["dataset_id"]): json.loads(r["signature"]) for r in self._rows(sql + " ORDER BY dataset_id", params)}

    def near_duplicates(self) -> list[dict[str, Any]]:
        """The near-duplicate pairs with both datasets' names, ordered by the first dataset's name."""
        if not self._has_table("near_duplicates"):
            return []
        return self._rows(
            "SELECT n.dataset_id, a.name AS dataset, n.other_id, b.name AS other, n.kind, n.detail, n.origin, "
            "n.created_at FROM near_duplicates n JOIN datasets a ON a.id = n.dataset_id "
            "JOIN datasets b ON b.id = n.other_id ORDER BY a.name, b.name")

    def add_near_duplicates(self, pairs: Iterable[tuple[int, int, str, str]], *, origin: str,
                            replace: bool = False) -> tuple[int, int]:
        """Store near-duplicate pairs ``(dataset_id, other_id, kind, detail)``; return (added, removed).

        A pair is stored once whatever its order; a stored pair found again keeps its row (its
        kind and detail are updated if they changed). With ``replace`` the stored pairs not in
        ``pairs`` are deleted (a full recomputation).

        Raises:
            ConfigError: an unknown kind, a pair of a dataset with itself, or an empty origin.
        """
        if not isinstance(origin, str) or not origin:
            raise ConfigError(f"near-duplicate origin must be a non-empty string, got {origin!r}")
        wanted: dict[tuple[int, int], tuple[str, str]] = {}
        for first, second, kind, detail in pairs:
            if kind not in NEAR_DUPLICATE_KINDS:
                raise ConfigError(f"near-duplicate kind must be one of {NEAR_DUPLICATE_KINDS}, got {kind!r}")
            a, b = sorted((int(first), int(second)))
            if a == b:
                raise ConfigError(f"a dataset ({a}) cannot be a near-duplicate of itself")
            wanted[(a, b)] = (kind, str(detail))
        with self.transaction():
            stored = {(int(r[0]), int(r[1])): (r[2], r[3]) for r in
                      self._conn.execute("SELECT dataset_id, other_id, kind, detail FROM near_duplicates")}
            removed = [key for key in stored if key not in wanted] if replace else []
            self._conn.executemany("DELETE FROM near_duplicates WHERE dataset_id = ? AND other_id = ?", removed)
            new = [(a, b, k, d, origin, utc_now()) for (a, b), (k, d) in wanted.items() if (a, b) not in stored]
            self._conn.executemany("INSERT INTO near_duplicates (dataset_id, other_id, kind, detail, origin, "
                                   "created_at) VALUES (?, ?, ?, ?, ?, ?)", new)
            changed = [(k, d, a, b) for (a, b), (k, d) in wanted.items() if (a, b) in stored and stored[(a, b)] != (k, d)]
            self._conn.executemany("UPDATE near_duplicates SET kind = ?, detail = ? WHERE dataset_id = ? "
                                   "AND other_id = ?", changed)
        return len(new), len(removed)

    # ------------------------------------------------------------------ whole rows (merge, export)
    def _check_table(self, table: str) -> None:
        if table not in TABLES:
            raise ConfigError(f"table must be one of {list(TABLES)}, got {table!r}")

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the knowledge base's :data:`TABLES`, as stored, in insertion order
        (a table of a pending additive migration is empty)."""
        self._check_table(table)
        if not self._has_table(table):
            return []
        return self._rows(f"SELECT * FROM {table} ORDER BY rowid")

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert whole rows into one of :data:`TABLES` in one transaction; return how many were new.

        Each row maps column names to values (an ``id`` left out is assigned). A row that
        conflicts with a stored one on a unique key is skipped; any other violation (NOT NULL,
        CHECK, foreign key) raises and writes nothing.

        Raises:
            ConfigError: an unknown table or column.
            StoreError: SQLite refused the rows; nothing is written.
        """
        self._check_table(table)
        if not rows:
            return 0
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with self.transaction():  # (applies a deferred migration that creates the table)
            known = {r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")}
            unknown = sorted(set(columns) - known)
            if unknown:
                raise ConfigError(f"table {table} has no columns {unknown}; its columns are {sorted(known)}")
            before = self._conn.total_changes
            self._conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                "ON CONFLICT DO NOTHING", [tuple(to_builtin(row.get(c)) for c in columns) for row in rows])
            return int(self._conn.total_changes - before)

    def link_run_evaluations(self, links: Iterable[tuple[str, int, int, float, str, int, str]]) -> None:
        """Record that run ``run_id`` evaluated a cell: ``(run_id, dataset_id, configuration_id,
        budget, protocol, seed, metric)`` each (a cell not stored, a link stored, or a cell the run
        stored itself, is skipped)."""
        rows = [(str(r), int(d), int(c), float(b), str(p), int(s), str(m)) for r, d, c, b, p, s, m in links]
        if rows:
            with self.transaction():
                self._conn.executemany(_LINK_RUN, rows)

    # ------------------------------------------------------------------ info and checks
    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Direct reads of the connection: a locked or unreadable file is one StoreError line."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise self._store_error(exc, "cannot read") from exc

    def info(self) -> dict[str, Any]:
        """Counts of every table, the schema version, the file size, and per task type, space and
        protocol the datasets, configurations and evaluations."""
        with self._reading():
            return self._info()

    def _info(self) -> dict[str, Any]:
        counts = {}
        for table in ("datasets", "meta_features", "search_spaces", "configurations", "evaluations",
                      "runs", "portfolios", "embeddings", "architectures", "fewshot_results",
                      "dataset_signatures", "near_duplicates", "configuration_sources"):
            # sqlite-utils: ``select count(*)``; a table of a pending additive migration is empty
            counts[table] = int(self.db.table(table).count) if self._has_table(table) else 0
        statuses = dict(self._conn.execute("SELECT status, count(*) FROM evaluations GROUP BY status").fetchall())
        size = Path(self.path).stat().st_size if self.path != ":memory:" and Path(self.path).exists() else 0
        tasks: dict[str, dict[str, int]] = {}
        for task, n in self._conn.execute("SELECT task_type, count(*) FROM datasets GROUP BY task_type"):
            tasks.setdefault(str(task), {"datasets": 0, "evaluations": 0})["datasets"] = int(n)
        for task, n in self._conn.execute("SELECT d.task_type, count(*) FROM evaluations e "
                                          "JOIN datasets d ON d.id = e.dataset_id GROUP BY d.task_type"):
            tasks.setdefault(str(task), {"datasets": 0, "evaluations": 0})["evaluations"] = int(n)
        spaces = self._rows("SELECT s.name, s.version, count(c.id) AS configurations FROM search_spaces s "
                            "LEFT JOIN configurations c ON c.space_id = s.id GROUP BY s.id ORDER BY s.name")
        protocols = self._rows("SELECT protocol, metric, count(*) AS n FROM evaluations "
                               "GROUP BY protocol, metric ORDER BY metric, protocol")
        budgets = self._rows("SELECT budget, count(*) AS n FROM evaluations GROUP BY budget ORDER BY budget")
        return {"path": self.path, "schema_version": self.schema_version, "budgets": budgets,
                "latest_schema_version": latest_version(), "size_bytes": size, "counts": counts,
                "evaluation_status": statuses, "tasks": tasks, "spaces": spaces, "protocols": protocols,
                "near_duplicate_pairs": counts["near_duplicates"],
                "datasets_with_signature": counts["dataset_signatures"],
                "pending_migrations": list(self.pending_migrations)}

    def check(self) -> list[str]:
        """Integrity checks; return the problems found (an empty list when all is well)."""
        with self._reading():
            return self._check()

    def _check(self) -> list[str]:
        problems = []
        integrity = self._conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems += [f"integrity: {r[0]}" for r in integrity]
        for table, rowid, parent, _ in self._conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign key: {table} row {rowid} points to a missing {parent}")
        queries = {
            "evaluations with status ok but no value":
                "SELECT count(*) FROM evaluations WHERE status = 'ok' AND value IS NULL",
            "failed evaluations without error text":
                "SELECT count(*) FROM evaluations WHERE status != 'ok' AND (error IS NULL OR error = '')",
            "configurations whose hash does not match their JSON": None,
            "datasets without meta-features":
                "SELECT count(*) FROM datasets d WHERE NOT EXISTS "
                "(SELECT 1 FROM meta_features m WHERE m.dataset_id = d.id)",
        }
        for label, sql in queries.items():
            if sql is None:
                bad = sum(1 for text, digest in self._conn.execute("SELECT config, config_hash FROM configurations")
                          if sha256_text(text) != digest)
            else:
                bad = int(self._conn.execute(sql).fetchone()[0])
            if bad:
                problems.append(f"{label}: {bad}")
        problems += [f"stale run {r['id']} ({r['kind']}): marked running, but {r['why']}; "
                     "resume it or ignore it" for r in self.stale_runs()]
        if self.schema_version != latest_version() and not self.pending_migrations:
            # (an open lacking only deferrable migrations is current enough: the first
            # write migrates it)
            problems.append(f"schema version {self.schema_version}, expected {latest_version()}")
        return problems


def _integer(value: Any, label: str) -> int:
    """``value`` as an int (an int, a NumPy integer or a whole float); else a ConfigError."""
    if isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{label} must be an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise ConfigError(f"{label} must be an integer, got {value!r}")


def _default_direction(metric: str) -> int:
    """``higher_is_better`` of a record that does not give it: the metric's known direction,
    or 1 (higher is better) for a metric metakb does not know."""
    return int(metric_direction(metric, default=True))


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just wrote."""
    if cursor.lastrowid is None:  # pragma: no cover - sqlite3 always sets it after an INSERT
        raise StoreError("the database did not return the id of the new row")
    return int(cursor.lastrowid)


def _same_json(a: str, b: str) -> bool:
    """Whether two JSON texts hold the same value (formatting aside)."""
    try:
        return bool(json.loads(a) == json.loads(b))
    except json.JSONDecodeError:
        return False


def _this_process() -> dict[str, Any]:
    import os
    import socket

    return {"host": socket.gethostname(), "pid": os.getpid()}


def _process_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
