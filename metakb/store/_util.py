"""Small helpers of the store: timestamps, a finiteness test; the shared converters are
re-exported from the leaf :mod:`metakb._convert` (their one home)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from metakb._convert import canonical_json, sha256_text, to_builtin

__all__ = ["utc_now", "is_finite", "canonical_json", "sha256_text", "to_builtin"]


def utc_now() -> str:
    """The current UTC time as ISO-8601 with seconds, e.g. ``2026-11-23T01:33:20Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_finite(value: Any) -> bool:
    """Whether ``value`` is a finite number (None, NaN, infinities and non-numbers are not)."""
    try:
        return value is not None and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False
