"""The exception hierarchy of metakb.

Every error metakb raises on purpose derives from :class:`MetaKBError`; each subclass also
inherits the matching built-in so that callers can catch either (as ConfigSpace and
scikit-learn do). Messages are one line: the bad value and what was expected.
"""

from __future__ import annotations

__all__ = [
    "MetaKBError",
    "DataError",
    "ConfigError",
    "SpaceError",
    "StoreError",
    "SchemaVersionError",
    "NotFoundError",
    "EvaluationError",
    "NetworkError",
]


class MetaKBError(Exception):
    """Root of every error raised by metakb."""


class DataError(MetaKBError, ValueError):
    """A dataset file or array cannot be used (missing, empty, bad target, garbage values)."""


class ConfigError(MetaKBError, ValueError):
    """A parameter or configuration is invalid (bad JSON, value out of range, unknown option)."""


class SpaceError(ConfigError):
    """A search space name is unknown or a configuration does not belong to it."""


class StoreError(MetaKBError, RuntimeError):
    """The knowledge base file cannot be opened or written (not SQLite, corrupt, locked)."""


class SchemaVersionError(StoreError):
    """The knowledge base was written by a newer metakb (its schema version is unknown here)."""


class NotFoundError(MetaKBError, KeyError):
    """A named object (dataset, space, portfolio, run, ...) does not exist in the store."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it one readable line.
        return str(self.args[0]) if self.args else ""


class EvaluationError(MetaKBError, RuntimeError):
    """An evaluation could not be run (as opposed to a run that crashed, which is recorded)."""


class NetworkError(MetaKBError, ConnectionError):
    """A remote service (OpenML) did not answer in time or is unreachable."""
