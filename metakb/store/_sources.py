"""The ``configuration_sources`` table: which search on which dataset found a configuration.

Kept apart from :mod:`metakb.store._kb` (already large); :class:`~metakb.store.KnowledgeBase`
exposes these functions as methods. Identity: one row per (configuration, dataset, kind, search
settings), so the same configuration found by two searches is one ``configurations`` row with
two sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from metakb._convert import canonical_budget
from metakb.errors import ConfigError
from metakb.store._util import canonical_json, sha256_text, utc_now

if TYPE_CHECKING:
    from metakb.store._kb import KnowledgeBase

__all__ = ["SOURCE_COLUMNS", "add_configuration_sources", "configuration_sources", "search_key"]

_REQUIRED = ("configuration_id", "kind", "rank", "settings", "origin")
SOURCE_COLUMNS = ["id", "configuration_id", "space_id", "dataset_id", "dataset", "kind", "rank", "loss", "budget",
                  "settings", "settings_hash", "run_id", "origin", "created_at"]


def search_key(settings: Mapping[str, Any]) -> str:
    """The identity of a search's settings (hash of their canonical JSON)."""
    return sha256_text(canonical_json(dict(settings)))


def _row(record: Mapping[str, Any], index: int) -> tuple[Any, ...]:
    missing = [k for k in _REQUIRED if record.get(k) is None]
    if missing:
        raise ConfigError(f"configuration source {index} lacks {missing}; got keys {sorted(record)}")
    if not isinstance(record["origin"], str) or not record["origin"]:
        raise ConfigError(f"configuration source {index}: origin must be a non-empty string, got {record['origin']!r}")
    rank = int(record["rank"])
    if rank < 1:
        raise ConfigError(f"configuration source {index}: rank must be an int >= 1, got {record['rank']!r}")
    settings = dict(record["settings"])
    loss, budget = record.get("loss"), record.get("budget")
    return (int(record["configuration_id"]),
            None if record.get("dataset_id") is None else int(record["dataset_id"]),
            str(record["kind"]), rank, None if loss is None else float(loss),
            None if budget is None else canonical_budget(budget), canonical_json(settings), search_key(settings),
            record.get("run_id"), record["origin"])


def add_configuration_sources(kb: KnowledgeBase, records: Iterable[Mapping[str, Any]]) -> int:
    """Store provenance rows in one transaction; return how many were new (a row already
    stored for the same configuration, dataset, kind and settings is kept as it is)."""
    rows = [_row(r, i) for i, r in enumerate(records)]
    now = utc_now()
    with kb.transaction():  # (applies the deferred additive migration that creates the table)
        before = kb.connection.total_changes
        kb.connection.executemany(
            "INSERT INTO configuration_sources (configuration_id, dataset_id, kind, rank, loss, budget, settings, "
            "settings_hash, run_id, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (configuration_id, dataset_id, kind, settings_hash) DO NOTHING",
            [(*row, now) for row in rows])
        return int(kb.connection.total_changes - before)


def configuration_sources(kb: KnowledgeBase, *, space_id: int | None = None, dataset_id: int | None = None,
                          settings_hash: str | None = None, kind: str | None = None) -> pd.DataFrame:
    """Provenance rows (with the space and the dataset's name), filtered as asked, in id order."""
    if not kb._has_table("configuration_sources"):
        return pd.DataFrame(columns=SOURCE_COLUMNS)
    sql = ("SELECT s.id, s.configuration_id, c.space_id, s.dataset_id, d.name AS dataset, s.kind, s.rank, s.loss, "
           "s.budget, s.settings, s.settings_hash, s.run_id, s.origin, s.created_at FROM configuration_sources s "
           "JOIN configurations c ON c.id = s.configuration_id LEFT JOIN datasets d ON d.id = s.dataset_id WHERE 1=1")
    params: list[Any] = []
    for column, value in (("c.space_id", space_id), ("s.dataset_id", dataset_id),
                          ("s.settings_hash", settings_hash), ("s.kind", kind)):
        if value is not None:
            sql, params = sql + f" AND {column} = ?", [*params, value]
    rows = kb._rows(sql + " ORDER BY s.id", params)
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)
