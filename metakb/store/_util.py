"""Small helpers of the store: timestamps, canonical JSON, content hashes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from typing import Any

import numpy as np

__all__ = ["utc_now", "canonical_json", "sha256_text", "to_builtin"]


def utc_now() -> str:
    """The current UTC time as ISO-8601 with seconds, e.g. ``2026-11-23T01:33:20Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_builtin(value: Any) -> Any:
    """Turn numpy scalars, arrays and nested containers into plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_builtin(v) for v in value.tolist()]
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else value
    return value


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal content gives equal text (identity by content).

    Raises:
        ConfigError: the value holds an infinite number (JSON has none).
    """
    try:
        return json.dumps(to_builtin(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        from metakb.errors import ConfigError

        raise ConfigError(f"value cannot be stored as JSON (infinite numbers are not allowed): {exc}") from exc


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
