"""How an evaluation's ``scores`` (every metric it computed) are stored, and read back.

An evaluation row holds its primary metric in ``value`` at full precision; its ``scores`` column
holds the JSON of the *other* metrics, rounded to :data:`SCORE_DIGITS` significant digits (far
below the noise of any resampling estimate). Storing the primary metric once saves about 30
bytes an evaluation (migration ``0006_primary_score_in_value``; the rounding is migration
``0005_compact_evaluations``). A reader sees every metric: :func:`read_scores` puts the primary
metric back from ``value``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from metakb.errors import ConfigError
from metakb.store._util import canonical_json, is_finite

__all__ = ["SCORE_DIGITS", "stored_scores", "read_scores"]

#: Significant digits of the stored ``scores`` (the primary ``value`` keeps full precision);
#: migration 0005 rounded the rows stored before it the same way (``printf('%.6g')``).
SCORE_DIGITS = 6


def stored_scores(scores: Mapping[str, Any] | str | None, metric: str, value: float | None,
                  where: str = "evaluation record") -> str | None:
    """The ``scores`` column of an evaluation of primary ``metric`` with primary ``value``.

    The entry of ``metric`` is dropped when ``value`` is a (finite) number (``value`` holds it; where the two
    differ, ``value`` is the evaluation's score); the other floats are rounded to
    :data:`SCORE_DIGITS` significant digits; nothing left is stored as NULL.

    Raises:
        ConfigError: ``scores`` is neither a mapping nor the JSON of an object (the message
            starts with ``where``).
    """
    if isinstance(scores, str):
        text = scores
        try:
            scores = json.loads(text)
        except ValueError:
            raise ConfigError(f"{where}: scores must be a JSON object, got {text[:80]!r}") from None
    if scores is None:
        return None
    if not isinstance(scores, Mapping):
        raise ConfigError(f"{where}: scores must be a mapping of metric to value, got {type(scores).__name__}")
    primary = metric if is_finite(value) else None  # the key value holds, dropped here
    kept = {str(k): _significant(v) for k, v in scores.items() if k != primary}
    return canonical_json(kept) if kept else None


def read_scores(stored: str | None, metric: str, value: Any) -> str | None:
    """The scores a reader sees: the stored ones with the primary ``metric`` put back from ``value``.

    ``value`` and ``stored`` may be NaN (a frame's missing value), read as None; a stored
    ``value`` is always finite (:meth:`~metakb.store.KnowledgeBase.add_evaluations` refuses others).
    """
    stored = stored if isinstance(stored, str) and stored else None
    if not is_finite(value):
        return stored
    scores = json.loads(stored) if stored else {}
    scores[metric] = float(value)
    return canonical_json(scores)


def _significant(value: Any) -> Any:
    """A finite float rounded to :data:`SCORE_DIGITS` significant digits; anything else as it is."""
    if isinstance(value, float | np.floating) and np.isfinite(value):
        return float(f"{float(value):.{SCORE_DIGITS}g}")
    return value
