"""Summary functions that turn a feature's many values into a fixed number of numbers.

Every summary ignores NaN values (a value undefined for one attribute, such as the skewness of
a constant column, does not make the whole summary undefined); a summary of no defined value is
NaN. ``sd`` uses ``ddof=1`` as pymfe does, so it is undefined (NaN) for a single value.
Quartiles use linear interpolation (numpy's default, as pymfe's ``quantiles``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from metakb.errors import ConfigError

__all__ = ["SUMMARIES", "DEFAULT_SUMMARY", "summarise", "check_summary"]


def _sd(v: np.ndarray) -> float:
    return float(np.std(v, ddof=1)) if v.size > 1 else float("nan")


def _skew(v: np.ndarray) -> float:
    if v.size < 2:
        return float("nan")
    sd = np.std(v, ddof=1)
    return float(np.mean((v - v.mean()) ** 3) / sd**3) if sd > 0 else float("nan")


def _kurt(v: np.ndarray) -> float:
    if v.size < 2:
        return float("nan")
    sd = np.std(v, ddof=1)
    return float(np.mean((v - v.mean()) ** 4) / sd**4 - 3.0) if sd > 0 else float("nan")


def _q(v: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of sorted ``v`` (numpy's default method, without its overhead)."""
    pos = q * (v.size - 1)
    lo = int(pos)
    hi = min(lo + 1, v.size - 1)
    return float(v[lo] + (pos - lo) * (v[hi] - v[lo]))


# Every function receives the finite values sorted in increasing order.
SUMMARIES: dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda v: float(np.mean(v)),
    "sd": _sd,
    "min": lambda v: float(v[0]),
    "q1": lambda v: _q(v, 0.25),
    "median": lambda v: _q(v, 0.5),
    "q3": lambda v: _q(v, 0.75),
    "max": lambda v: float(v[-1]),
    "range": lambda v: float(v[-1] - v[0]),
    "iq_range": lambda v: _q(v, 0.75) - _q(v, 0.25),
    "skewness": _skew,
    "kurtosis": _kurt,
    "count": lambda v: float(v.size),
}

#: The summaries used when ``summary=None``.
DEFAULT_SUMMARY: tuple[str, ...] = ("mean", "sd", "min", "q1", "median", "q3", "max")


def check_summary(summary: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validate a summary selection; ``None`` means :data:`DEFAULT_SUMMARY`."""
    if summary is None:
        return DEFAULT_SUMMARY
    names = (summary,) if isinstance(summary, str) else tuple(summary)
    unknown = [s for s in names if s not in SUMMARIES]
    if unknown or not names:
        raise ConfigError(f"summary must be a non-empty subset of {tuple(SUMMARIES)}; got {summary!r}")
    return names


def summarise(values: np.ndarray, summary: tuple[str, ...]) -> dict[str, float]:
    """``{summary_name: value}`` over the finite entries of ``values``."""
    v = np.asarray(values, dtype=float).ravel()
    v = np.sort(v[np.isfinite(v)])
    if v.size == 0:
        return {s: (0.0 if s == "count" else float("nan")) for s in summary}
    return {s: SUMMARIES[s](v) for s in summary}
