"""Summary functions that turn a feature's many values into a fixed number of numbers.

Every summary ignores NaN values (a value undefined for one attribute, such as the skewness of
a constant column, does not make the whole summary undefined); a summary of no defined value is
NaN. ``sd`` uses ``ddof=1`` as pymfe does, so it is undefined (NaN) for a single value.
Quartiles use linear interpolation (numpy's default, as pymfe's ``quantiles``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from metakb.errors import ConfigError

__all__ = ["SUMMARIES", "DEFAULT_SUMMARY", "summarise", "summarise_sorted", "summarise_many",
           "finite_sorted", "check_summary"]


def _mean(v: np.ndarray) -> float:
    """``np.mean(v)`` of a 1-D float array: the same reduction and division, without its wrappers."""
    return float(np.add.reduce(v) / v.size)


def _sd(v: np.ndarray) -> float:
    """``np.std(v, ddof=1)`` of a 1-D float array (NaN for fewer than two values).

    The operations are numpy's own (``_var``: pairwise sum, divide, subtract, square, pairwise
    sum, divide by ``n - 1``, square root), so the value is bit-identical; only the Python
    wrappers, which cost more than the arithmetic on a few values, are skipped.
    """
    if v.size < 2:
        return float("nan")
    x = v - np.add.reduce(v) / v.size
    x *= x
    return float(np.sqrt(np.add.reduce(x) / (v.size - 1)))


def _skew(v: np.ndarray) -> float:
    if v.size < 2:
        return float("nan")
    sd = _sd(v)
    return _mean((v - _mean(v)) ** 3) / sd**3 if sd > 0 else float("nan")


def _kurt(v: np.ndarray) -> float:
    if v.size < 2:
        return float("nan")
    sd = _sd(v)
    return _mean((v - _mean(v)) ** 4) / sd**4 - 3.0 if sd > 0 else float("nan")


def _q(v: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of sorted ``v`` (numpy's default method, without its overhead)."""
    pos = q * (v.size - 1)
    lo = int(pos)
    hi = min(lo + 1, v.size - 1)
    return float(v[lo] + (pos - lo) * (v[hi] - v[lo]))


# Every function receives the finite values sorted in increasing order.
SUMMARIES: dict[str, Callable[[np.ndarray], float]] = {
    "mean": _mean,
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
    return summarise_sorted(finite_sorted(values), summary)


def finite_sorted(values: np.ndarray) -> np.ndarray:
    """The finite entries of ``values`` (any shape) as a sorted 1-D float array."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    v.sort()
    return v


def summarise_sorted(v: np.ndarray, summary: tuple[str, ...]) -> dict[str, float]:
    """``{summary_name: value}`` of ``v``, already the sorted finite values (:func:`finite_sorted`)."""
    if v.size == 0:
        return {s: (0.0 if s == "count" else float("nan")) for s in summary}
    return {s: SUMMARIES[s](v) for s in summary}


# ---------------------------------------------------------------------- many at once
# The same summaries of every row of a ``(k, m)`` matrix of sorted finite values: one numpy
# call per summary for ``k`` features instead of ``k`` calls. Each is the 1-D function's
# arithmetic on rows (numpy reduces each contiguous row with the same pairwise sum as a 1-D
# array), so the values are bit-identical to :data:`SUMMARIES`' (checked by the tests).
def _rows_mean(V: np.ndarray) -> np.ndarray:
    return np.add.reduce(V, axis=1) / V.shape[1]


def _rows_sd(V: np.ndarray) -> np.ndarray:
    m = V.shape[1]
    if m < 2:
        return np.full(V.shape[0], np.nan)
    x = V - (np.add.reduce(V, axis=1) / m)[:, None]
    x *= x
    return np.sqrt(np.add.reduce(x, axis=1) / (m - 1))


def _rows_q(V: np.ndarray, q: float) -> np.ndarray:
    m = V.shape[1]
    pos = q * (m - 1)
    lo = int(pos)
    hi = min(lo + 1, m - 1)
    return V[:, lo] + (pos - lo) * (V[:, hi] - V[:, lo])


def _rows_moment(V: np.ndarray, k: int) -> np.ndarray:
    if V.shape[1] < 2:
        return np.full(V.shape[0], np.nan)
    sd = _rows_sd(V)
    # sd ** k as the 1-D function takes it, a Python float power (numpy's array power may
    # multiply instead of calling pow, which rounds differently)
    denominator = np.array([x**k for x in sd.tolist()])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _rows_mean((V - _rows_mean(V)[:, None]) ** k) / denominator
    return np.where(sd > 0, out, np.nan)


_ROWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": _rows_mean,
    "sd": _rows_sd,
    "min": lambda V: V[:, 0],
    "q1": lambda V: _rows_q(V, 0.25),
    "median": lambda V: _rows_q(V, 0.5),
    "q3": lambda V: _rows_q(V, 0.75),
    "max": lambda V: V[:, -1],
    "range": lambda V: V[:, -1] - V[:, 0],
    "iq_range": lambda V: _rows_q(V, 0.75) - _rows_q(V, 0.25),
    "skewness": lambda V: _rows_moment(V, 3),
    "kurtosis": lambda V: _rows_moment(V, 4) - 3.0,
    "count": lambda V: np.full(V.shape[0], float(V.shape[1])),
}

def summarise_many(arrays: list[np.ndarray], summary: tuple[str, ...]) -> list[tuple[Sequence[float], int]]:
    """For each 1-D float array, its summaries (in ``summary`` order) over its finite values,
    and the number of finite values.

    Arrays with as many values are stacked and summarised together (the rows of one
    matrix); one with a non-finite value is summarised with the arrays as long as its finite
    part. The result equals ``summarise(a, summary)`` for each ``a``.
    """
    out: list[tuple[Sequence[float], int]] = [((), 0)] * len(arrays)
    by_size: dict[int, list[int]] = {}
    for i, a in enumerate(arrays):
        by_size.setdefault(a.size, []).append(i)
    finite: dict[int, list[tuple[int, np.ndarray]]] = {}  # the rows with a non-finite value
    for m, members in by_size.items():
        if m == 0:
            finite.setdefault(0, []).extend((i, arrays[i]) for i in members)
            continue
        V = np.concatenate([arrays[i] for i in members]).reshape(len(members), m)
        clean = np.isfinite(V).all(axis=1)
        if not clean.all():
            for row in np.flatnonzero(~clean).tolist():
                a = arrays[members[row]]
                a = a[np.isfinite(a)]
                finite.setdefault(a.size, []).append((members[row], a))
            V, members = V[clean], [i for i, ok in zip(members, clean.tolist(), strict=True) if ok]
        _summarise_rows(V, members, summary, out)
    for m, items in finite.items():
        members = [i for i, _ in items]
        if m == 0:
            empty = [0.0 if s == "count" else float("nan") for s in summary]
            for i in members:
                out[i] = (empty, 0)
            continue
        _summarise_rows(np.concatenate([a for _, a in items]).reshape(len(items), m), members, summary, out)
    return out


def _summarise_rows(V: np.ndarray, members: list[int], summary: tuple[str, ...],
                    out: list[tuple[Sequence[float], int]]) -> None:
    """``out[members[r]] = (summaries of row r, m)`` for the rows of ``V`` (finite values).

    The quantile summaries are interpolated together (:func:`_quantile_plan`), and the mean
    is computed once for ``mean`` and ``sd``; each is :data:`_ROWS`' arithmetic.
    """
    if not members:
        return
    V.sort(axis=1)
    k, m = V.shape
    table = np.empty((k, len(summary)))
    columns, lo, hi, fraction = _quantile_plan(m, summary)
    if columns:
        low = V[:, lo]
        table[:, columns] = low + fraction * (V[:, hi] - low)
    mean = None
    for col, s in enumerate(summary):
        if s in _QUANTILES:
            continue
        if s in ("mean", "sd"):
            if mean is None:
                mean = np.add.reduce(V, axis=1) / m
            if s == "mean":
                table[:, col] = mean
            elif m < 2:
                table[:, col] = np.nan
            else:
                x = V - mean[:, None]
                x *= x
                table[:, col] = np.sqrt(np.add.reduce(x, axis=1) / (m - 1))
        else:
            table[:, col] = _ROWS[s](V)
    for i, row in zip(members, table.tolist(), strict=True):
        out[i] = (row, m)


#: The quantile of each quantile summary.
_QUANTILES: dict[str, float] = {"q1": 0.25, "median": 0.5, "q3": 0.75}


@functools.lru_cache(maxsize=256)
def _quantile_plan(m: int, summary: tuple[str, ...]) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Columns (in ``summary``) of the quantile summaries of ``m`` sorted values, their lower
    and upper positions and interpolation weights (:func:`_q`'s, as arrays; read-only)."""
    columns = [col for col, s in enumerate(summary) if s in _QUANTILES]
    positions = [_QUANTILES[summary[col]] * (m - 1) for col in columns]
    lo = [int(pos) for pos in positions]
    plan = (np.array(lo, dtype=np.intp), np.array([min(i + 1, m - 1) for i in lo], dtype=np.intp),
            np.array([pos - i for pos, i in zip(positions, lo, strict=True)]))
    for a in plan:
        a.setflags(write=False)
    return (columns, *plan)
