"""metakb: a knowledge base of machine-learning evaluations that warm-starts every new search.

The public API; the CLI (``metakb ...``) is a thin layer over it. Heavy parts (the store, the
recommender) are imported on first use, so ``import metakb.errors`` costs nothing and works
where the store's dependencies are missing (a bare GPU machine running ``nas_meta``).
"""

from __future__ import annotations

import importlib
from typing import Any

from metakb.errors import (
    ConfigError,
    DataError,
    MetaKBError,
    NotFoundError,
    SchemaVersionError,
    SpaceError,
    StoreError,
)

__version__ = "0.1.0"

_LAZY = {
    "KnowledgeBase": "metakb.store",
    "open_kb": "metakb.store",
    "recommend": "metakb.workflows.recommend",
    "load_table": "metakb.data",
    "run_configuration": "metakb.workflows.run",
    "build_from_pmlb": "metakb.workflows.build",
    "AutoMLClassifier": "metakb.automl",
    "AutoMLRegressor": "metakb.automl",
}

__all__ = [
    "__version__",
    "KnowledgeBase",
    "open_kb",
    "recommend",
    "load_table",
    "run_configuration",
    "build_from_pmlb",
    "AutoMLClassifier",
    "AutoMLRegressor",
    "MetaKBError",
    "ConfigError",
    "DataError",
    "NotFoundError",
    "SchemaVersionError",
    "SpaceError",
    "StoreError",
]


def __getattr__(name: str) -> Any:
    """Import the public API's heavy members on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'metakb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
