"""Workflow ``nas``: store a few-shot run's genotype and its evaluations in the knowledge base.

``nas_meta`` trains and evaluates (tensors in, a summary dict out); this module checks the
summary and writes it, all or nothing.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from metakb.errors import ConfigError

__all__ = ["store_summary", "SEARCH_SPACE"]

SEARCH_SPACE = "darts-omniglot"

_RESULT_INTS = ("ways", "shots", "episodes")
_RESULT_FLOATS = ("accuracy", "ci95")


def _check_summary(summary: dict[str, Any]) -> None:
    """Refuse a summary that cannot be stored whole (before anything is written)."""
    if not isinstance(summary.get("method"), str) or not summary["method"]:
        raise ConfigError(f"the summary's method must be a non-empty string; got {summary.get('method')!r}")
    evaluations = summary.get("evaluations", [])
    if not isinstance(evaluations, list):
        raise ConfigError(f"the summary's evaluations must be a list; got {type(evaluations).__name__}")
    for i, ev in enumerate(evaluations):
        if not isinstance(ev, dict):
            raise ConfigError(f"evaluation {i} of the summary must be a mapping; got {ev!r}")
        for key in _RESULT_INTS:
            value = ev.get(key)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigError(f"evaluation {i} of the summary: {key} must be an int >= 1; got {value!r}")
        for key in _RESULT_FLOATS:
            value = ev.get(key)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ConfigError(f"evaluation {i} of the summary: {key} must be a finite number; got {value!r}")


def store_summary(kb: Any, summary: dict[str, Any], *, origin: str) -> list[int]:
    """Store one run's genotype (MetaNAS) and evaluations; return the few-shot result ids.

    Everything is written in one transaction: a summary that cannot be stored whole (checked
    first, or refused by the store) leaves the knowledge base unchanged.

    Raises:
        ConfigError: the method or an evaluation's ways, shots, episodes, accuracy or ci95 is bad.
    """
    _check_summary(summary)
    keys = ("steps", "steps_done", "meta_batch", "train_ways", "train_shots", "train_queries", "augment",
            "time_budget", "seed", "params", "parameter_free_share")
    ids = []
    with kb.transaction():
        arch_id = None
        if "genotype" in summary:
            arch_id = kb.add_architecture(summary["genotype"], search_space=SEARCH_SPACE, origin=origin)
        for ev in summary.get("evaluations", []):
            settings = {k: summary[k] for k in keys if k in summary}
            settings.update({k: v for k, v in ev.items() if k not in ("accuracy", "ci95", "ways", "shots", "episodes")})
            ids.append(kb.add_fewshot_result(
                method=summary["method"], ways=ev["ways"], shots=ev["shots"], episodes=ev["episodes"],
                accuracy=ev["accuracy"], ci95=ev["ci95"], settings=settings, origin=origin, architecture_id=arch_id,
                gpu_seconds=summary.get("train_seconds"), device=summary.get("device")))
    return ids
