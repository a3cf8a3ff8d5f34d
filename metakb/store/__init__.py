"""The knowledge base store (SQLite through sqlite-utils)."""

from metakb.store._kb import EVALUATION_STATUSES, KnowledgeBase
from metakb.store._migrations import latest_version
from metakb.store._paths import open_kb, resolve_kb_path, shipped_kb_path, snapshot_kb, user_kb_path
from metakb.store._scores import read_scores, stored_scores
from metakb.store._util import canonical_json, sha256_text

__all__ = [
    "KnowledgeBase",
    "EVALUATION_STATUSES",
    "latest_version",
    "open_kb",
    "resolve_kb_path",
    "shipped_kb_path",
    "snapshot_kb",
    "user_kb_path",
    "canonical_json",
    "sha256_text",
    "stored_scores",
    "read_scores",
]
