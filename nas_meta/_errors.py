"""The errors nas_meta raises: metakb's when the store's package can be imported.

``nas_meta`` depends on torch and numpy only, and must run on a bare GPU machine where
metakb's store dependencies (pandas, sqlite-utils) are missing. Importing ``metakb.errors``
imports ``metakb/__init__`` and with it the store, so on such a machine the same two classes
are defined here with the same bases (``ValueError``), so callers can catch the built-in either way.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError"]

try:
    from metakb.errors import ConfigError, DataError
except ImportError:  # pragma: no cover - exercised only on machines without metakb's store deps

    class ConfigError(ValueError):  # type: ignore[no-redef]
        """A parameter is invalid (value out of range, unknown option)."""

    class DataError(ValueError):  # type: ignore[no-redef]
        """A dataset file or array cannot be used."""
