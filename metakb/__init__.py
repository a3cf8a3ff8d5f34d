"""metakb: a knowledge base of machine-learning evaluations that warm-starts every new search.

The public API; the CLI (``metakb ...``) is a thin layer over it.
"""

from metakb.errors import (
    ConfigError,
    DataError,
    MetaKBError,
    NotFoundError,
    SchemaVersionError,
    SpaceError,
    StoreError,
)
from metakb.store import KnowledgeBase, open_kb

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "KnowledgeBase",
    "open_kb",
    "MetaKBError",
    "ConfigError",
    "DataError",
    "NotFoundError",
    "SchemaVersionError",
    "SpaceError",
    "StoreError",
]
