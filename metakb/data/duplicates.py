"""Near-duplicate datasets: signatures of a table and their comparison (no knowledge base here).

Two datasets are **near-duplicates** of one of two kinds:

``same-content`` (kind a)
    Their content is the same after canonical re-encoding: columns reordered, rows reordered,
    categorical codes relabelled, class labels renamed, column names changed. Both tables give
    the same :attr:`DatasetSignature.canonical_hash`, or the same
    :attr:`DatasetSignature.coded_hash`: the canonical form in which a numeric feature column of
    few values (at most :data:`CODED_LEVELS` distinct values, and at most half as many as rows,
    so that it repeats values) counts as a categorical column too -- an integer code stored as
    a number and re-based or relabelled (``symboling`` 1..6 for -2..3, a telephone flag 1 - x,
    an age stored as its category's code), which PMLB does. A collision of the canonical form
    is never a false alarm: the form is the table itself with rows and columns permuted and
    each categorical column's levels renamed, so equal forms are equal tables up to those.

``same-statistics`` (kind b)
    Same shape (rows, features) and task type, the same target statistics, and feature columns
    that match one to one (as multisets: a perfect matching) on their statistics up to a
    relative tolerance :data:`RTOL` (``1e-6``). Counts (missing values, distinct values) must be
    equal; the real-valued statistics (mean, standard deviation, min, the 10/25/50/75/90 %
    quantiles, max) may differ by at most ``RTOL`` times the larger absolute value of the two
    columns (their min and max). Up to ``max(1, n_features // 10)`` numeric feature columns may
    match *up to a constant shift* (the same statistics after subtracting the mean: a code
    re-based, as ``symboling`` 1..6 instead of -2..3); the detail names them.

The canonical form (kind a), version :data:`SIGNATURE_VERSION`:

1. *Tokens.* A numeric column keeps its values rounded to 12 significant digits (as the
   content hash does; a regression target always does); a categorical column (and a
   classification target) has its levels
   replaced by codes 0, 1, 2, ... in order of **decreasing frequency**. Levels of equal
   frequency are ordered by a *refinement key*: an order-free hash of the rows that hold the
   level, each row described by the multiset of its other cells (numeric values as they are,
   categorical cells by their level's frequency), so relabelling never changes the order.
   Levels that stay indistinguishable after this keep their order of first appearance (only
   then can a relabelled copy be missed). Missing values stay missing.
2. *Columns.* The feature columns are sorted by a per-column signature: (categorical or
   numeric, an order-free hash of the column's token multiset, then an order-free hash of the
   column's tokens paired with their rows' fingerprints, which separates columns of equal
   value multisets); the target comes last. Column names do not count.
3. *Rows.* The rows of the token matrix are sorted lexicographically (missing last).
4. The canonical hash is the SHA-256 of the shape, the column kinds in order and the sorted
   matrix's bytes.

Order-free hashes are sums modulo 2^64 of splitmix64-mixed 64-bit values (a multiset hash);
everything is vectorised with NumPy, so a million-row table takes seconds.

Example:
    >>> from metakb.data import table_from_frame
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "y"], "t": ["p", "q", "q"]})
    >>> copy = frame.iloc[[2, 0, 1], [1, 0, 2]].replace({"x": "u", "p": "no", "q": "yes"})
    >>> one = dataset_signature(table_from_frame(frame, "t", name="one"))
    >>> two = dataset_signature(table_from_frame(copy, "t", name="two"))
    >>> compare_signatures(one, two).kind
    'same-content'
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from metakb.data._tables import Table, _stable_floats
from metakb.errors import ConfigError

__all__ = ["SIGNATURE_VERSION", "CODED_LEVELS", "RTOL", "KINDS", "DatasetSignature", "NearDuplicate", "dataset_signature",
           "canonical_matrix", "compare_signatures", "find_near_duplicates", "max_shifted_columns"]

#: Version of the canonical form and of the statistics; signatures of another version are recomputed.
SIGNATURE_VERSION = "1"
#: Most distinct values a numeric feature column may have to count as categorical in the coded
#: canonical form (``coded_hash``).
CODED_LEVELS = 64
#: Relative tolerance of kind b (see the module doc).
RTOL = 1e-6
#: The kinds of near-duplicate, strongest first.
KINDS = ("same-content", "same-statistics")
#: Quantiles of the per-column statistics (besides min and max).
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
#: The statistics of a column, in the order of :attr:`DatasetSignature.columns` entries after
#: ``kind``, ``n_missing`` and ``n_distinct``.
STATISTICS = ("mean", "std", "min", *(f"q{int(q * 100)}" for q in QUANTILES), "max")

_NUMERIC, _CATEGORICAL = 0, 1
_MASK = (1 << 64) - 1
_MISSING_BITS = np.uint64(0x7FF8_0000_0000_0001)  # one fixed NaN pattern for every missing cell

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class NearDuplicate:
    """Why two datasets are near-duplicates: ``kind`` (one of :data:`KINDS`) and a readable detail."""

    kind: str
    detail: str


@dataclass(frozen=True)
class DatasetSignature:
    """What near-duplicate detection keeps of a dataset (JSON-able through :meth:`to_dict`).

    Attributes:
        canonical_hash: SHA-256 of the canonical form (kind a).
        coded_hash: SHA-256 of the canonical form with numeric columns of few values coded as
            categories (kind a too).
        n_rows, n_features: the shape.
        task: ``classification`` or ``regression``.
        columns: per feature column ``(kind, n_missing, n_distinct, *STATISTICS)`` with kind 0
            (numeric) or 1 (categorical; statistics of its frequency codes); NaN where undefined.
        names: the feature columns' names, in the order of ``columns`` (for details only).
        target: the target's entry, as a column's.
        version: :data:`SIGNATURE_VERSION` of the computation.
    """

    canonical_hash: str
    coded_hash: str
    n_rows: int
    n_features: int
    task: str
    columns: tuple[tuple[float, ...], ...]
    names: tuple[str, ...]
    target: tuple[float, ...]
    version: str = SIGNATURE_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN as None)."""
        return {"version": self.version, "canonical_hash": self.canonical_hash, "coded_hash": self.coded_hash,
                "n_rows": self.n_rows,
                "n_features": self.n_features, "task": self.task,
                "columns": [_json_row(c) for c in self.columns], "names": list(self.names),
                "target": _json_row(self.target)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetSignature:
        """The signature :meth:`to_dict` wrote."""
        try:
            return cls(canonical_hash=str(data["canonical_hash"]), coded_hash=str(data["coded_hash"]),
                       n_rows=int(data["n_rows"]),
                       n_features=int(data["n_features"]), task=str(data["task"]),
                       columns=tuple(_float_row(c) for c in data["columns"]),
                       names=tuple(str(n) for n in data["names"]), target=_float_row(data["target"]),
                       version=str(data["version"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"a stored dataset signature is malformed ({exc!r}); recompute it with "
                              "`metakb kb dedupe --recompute`") from exc


def _json_row(values: Sequence[float]) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in values]


def _float_row(values: Sequence[Any]) -> tuple[float, ...]:
    return tuple(np.nan if v is None else float(v) for v in values)


# ---------------------------------------------------------------------------------- hashing
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def _bits(tokens: np.ndarray) -> np.ndarray:
    """The 64 bits of float tokens, with -0.0 as 0.0 and every NaN as one pattern."""
    values = np.asarray(tokens, dtype=np.float64) + 0.0  # -0.0 + 0.0 == +0.0
    bits = values.view(np.uint64).copy()
    bits[np.isnan(values)] = _MISSING_BITS
    return bits


def _multiset(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """An order-free hash of uint64 values along ``axis`` (sum of mixed values, wrapping)."""
    return np.asarray(_mix(values).sum(axis=axis, dtype=np.uint64), dtype=np.uint64)


def _cells(bits: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column signatures and per-cell hashes of a token bit matrix (rows x columns)."""
    signature = _mix(_multiset(bits, axis=0) ^ _mix(flags.astype(np.uint64)))
    return signature, _mix(bits ^ signature[None, :])


# ---------------------------------------------------------------------------------- tokens
def _few_values(column: pd.Series, n_rows: int) -> bool:
    """Whether a numeric column has few enough distinct values to count as codes (``coded``)."""
    distinct = int(column.nunique(dropna=True))
    return distinct <= min(CODED_LEVELS, n_rows // 2)


def _columns(table: Table, coded: bool = False) -> tuple[list[np.ndarray], list[np.ndarray | None], np.ndarray]:
    """Per column (features, then the target): numeric values (zeros for categorical columns),
    and for categorical columns their level codes (-1 for missing); the kind flags. With
    ``coded``, numeric feature columns of few values are categorical."""
    values: list[np.ndarray] = []
    codes: list[np.ndarray | None] = []
    flags = []
    y = np.asarray(table.y)
    series = [table.X[c] for c in table.X.columns] + [pd.Series(y)]
    categorical = [bool(c) or (coded and _few_values(table.X[name], table.n_rows))
                   for name, c in zip(table.X.columns, table.categorical, strict=True)] + [y.dtype.kind != "f"]
    for is_target, (column, is_categorical) in enumerate(zip(series, categorical, strict=True)):
        target = is_target == len(series) - 1
        if is_categorical:
            level, _ = pd.factorize(column.astype(object), use_na_sentinel=True)
            codes.append(np.asarray(level, dtype=np.int64))
            values.append(np.zeros(len(level)))
        else:
            codes.append(None)
            values.append(_stable_floats(column.to_numpy(dtype=float)))
        flags.append((2 if target else 0) + (_CATEGORICAL if is_categorical else _NUMERIC))
    return values, codes, np.asarray(flags, dtype=np.int64)


def _counts_as_tokens(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's level frequency (NaN where missing), and the counts per level."""
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=int(codes.max(initial=-1)) + 1)
    tokens = np.full(len(codes), np.nan)
    tokens[present] = counts[codes[present]]
    return tokens, counts


def _tokens(table: Table, coded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The token matrix (rows x (features + target)) of step 1, and the column kind flags."""
    values, codes, flags = _columns(table, coded)
    first = np.column_stack([_counts_as_tokens(c)[0] if c is not None else v
                             for v, c in zip(values, codes, strict=True)])
    _, cells = _cells(_bits(first), flags)
    rows = cells.sum(axis=1, dtype=np.uint64)
    tokens = first.copy()
    for j, level in enumerate(codes):
        if level is None:
            continue
        present = level >= 0
        counts = _counts_as_tokens(level)[1]
        keys = np.zeros(len(counts), dtype=np.uint64)
        np.add.at(keys, level[present], _mix(rows[present] - cells[present, j]))
        order = np.lexsort((keys, -counts))  # by decreasing count, then by refinement key
        rank = np.empty(len(counts), dtype=np.float64)
        rank[order] = np.arange(len(counts))
        column = np.full(len(level), np.nan)
        column[present] = rank[level[present]]
        tokens[:, j] = column
    return tokens, flags


def canonical_matrix(table: Table, *, coded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The canonical form of ``table`` (steps 1-3 of the module doc): the token matrix with its
    columns and rows sorted (target last, missing values as +inf), and the column kind flags.
    With ``coded``, numeric feature columns of few values count as categorical.
    """
    return _canonical(*_tokens(table, coded))


def _canonical(tokens: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2 and 3 on a token matrix."""
    signature, cells = _cells(_bits(tokens), flags)
    rows = _mix(cells.sum(axis=1, dtype=np.uint64))
    pairing = _multiset(cells ^ rows[:, None], axis=0)
    n = tokens.shape[1]
    features = sorted(range(n - 1), key=lambda j: (int(flags[j]), int(signature[j]), int(pairing[j]), j))
    order = [*features, n - 1]
    matrix = np.where(np.isnan(tokens[:, order]), np.inf, tokens[:, order]) + 0.0
    matrix = matrix[np.lexsort(matrix.T[::-1])] if len(matrix) else matrix
    return np.ascontiguousarray(matrix, dtype="<f8"), flags[order]


def _statistics(column: np.ndarray, kind: int) -> tuple[float, ...]:
    """``(kind, n_missing, n_distinct, *STATISTICS)`` of a column of tokens."""
    present = column[~np.isnan(column)]
    if present.size == 0:
        return (float(kind), float(column.size), 0.0, *([np.nan] * len(STATISTICS)))
    ordered = np.sort(present)
    quantiles = np.quantile(ordered, QUANTILES)
    distinct = 1 + int(np.count_nonzero(np.diff(ordered)))
    return (float(kind), float(column.size - present.size), float(distinct), float(ordered.mean()),
            float(ordered.std()), float(ordered[0]), *map(float, quantiles), float(ordered[-1]))


def dataset_signature(table: Table) -> DatasetSignature:
    """The :class:`DatasetSignature` of a table (its canonical hash and column statistics).

    The table's task is its target's type: a float target is a regression target (as
    :func:`metakb.data.task_of_target` reads it), anything else class labels.
    """
    tokens, all_flags = _tokens(table)
    stats = [_statistics(tokens[:, j], int(all_flags[j]) % 2) for j in range(tokens.shape[1])]
    task = "regression" if np.asarray(table.y).dtype.kind == "f" else "classification"
    strict = _digest(*_canonical(tokens, all_flags))
    coded = any(not c and _few_values(table.X[n], table.n_rows) for n, c in zip(table.X.columns, table.categorical,
                                                                                 strict=True))
    return DatasetSignature(canonical_hash=strict,
                            coded_hash=_digest(*canonical_matrix(table, coded=True)) if coded else strict,
                            n_rows=table.n_rows, n_features=table.n_features, task=task, columns=tuple(stats[:-1]),
                            names=tuple(map(str, table.X.columns)), target=stats[-1])


def _digest(matrix: np.ndarray, flags: np.ndarray) -> str:
    """SHA-256 of a canonical form: its shape, column kinds and bytes."""
    header = json.dumps({"version": SIGNATURE_VERSION, "shape": list(matrix.shape),
                         "kinds": [int(f) for f in flags]}, sort_keys=True)
    digest = hashlib.sha256(header.encode())
    digest.update(matrix.tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------- comparison
def max_shifted_columns(n_features: int) -> int:
    """How many feature columns kind b lets match up to a constant shift."""
    return max(1, n_features // 10)


def _tolerance(a: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    """``rtol`` times the larger absolute value of each pair of columns (rows of a x rows of b)."""
    scale_a = np.nanmax(np.abs(a[:, [5, 11]]), axis=1, initial=0.0)
    scale_b = np.nanmax(np.abs(b[:, [5, 11]]), axis=1, initial=0.0)
    return rtol * np.maximum(np.maximum(scale_a[:, None], scale_b[None, :]), np.finfo(float).tiny)


def _close(a: np.ndarray, b: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Element-wise |a - b| <= tol over the last axis (NaN equals NaN), all along it."""
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(a - b) <= tol[..., None]) | both_nan
    return np.asarray(ok.all(axis=-1))


def _match_group(a: np.ndarray, b: np.ndarray, rtol: float, shifts: bool) -> list[tuple[int, int, bool]] | None:
    """A one-to-one matching of the columns ``a`` to ``b`` (same counts and kind): ``(i, j,
    shifted)`` triples, fewest shifted first; None when there is none."""
    stds_a, stds_b = np.sort(a[:, 4]), np.sort(b[:, 4])
    scale = rtol * max(float(np.nanmax(np.abs(a[:, [5, 11]]), initial=0.0)),
                       float(np.nanmax(np.abs(b[:, [5, 11]]), initial=0.0)), np.finfo(float).tiny)
    with np.errstate(invalid="ignore"):  # a necessary condition, cheap: the sorted stds agree
        if not np.all((np.abs(stds_a - stds_b) <= scale) | (np.isnan(stds_a) & np.isnan(stds_b))):
            return None
    tol = _tolerance(a, b, rtol)
    exact = _close(a[:, None, 3:], b[None, :, 3:], tol)
    if shifts:
        centred_a = a[:, 5:] - a[:, [3]]
        centred_b = b[:, 5:] - b[:, [3]]
        shifted = _close(centred_a[:, None, :], centred_b[None, :, :], tol) \
            & _close(a[:, None, [4]], b[None, :, [4]], tol) & ~exact
    else:
        shifted = np.zeros_like(exact)
    from scipy.optimize import linear_sum_assignment

    impossible = len(a) + 1
    cost = np.where(exact, 0, np.where(shifted, 1, impossible))
    rows, cols = linear_sum_assignment(cost)
    if cost[rows, cols].max(initial=0) >= impossible:
        return None
    return [(int(i), int(j), bool(cost[i, j] == 1)) for i, j in zip(rows, cols, strict=True)]


def _match_columns(a: DatasetSignature, b: DatasetSignature, rtol: float
                   ) -> list[tuple[int, int, bool]] | None:
    """A one-to-one matching of the feature columns of ``a`` and ``b`` (None when there is none)."""
    cols_a = np.asarray(a.columns, dtype=float).reshape(-1, 3 + len(STATISTICS))
    cols_b = np.asarray(b.columns, dtype=float).reshape(-1, 3 + len(STATISTICS))
    groups_a: dict[tuple[float, ...], list[int]] = defaultdict(list)
    groups_b: dict[tuple[float, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(cols_a):
        groups_a[tuple(row[:3])].append(i)
    for j, row in enumerate(cols_b):
        groups_b[tuple(row[:3])].append(j)
    if {k: len(v) for k, v in groups_a.items()} != {k: len(v) for k, v in groups_b.items()}:
        return None  # the counts (kind, missing, distinct) must agree as multisets
    matched: list[tuple[int, int, bool]] = []
    for key, ia in groups_a.items():
        ib = groups_b[key]
        found = _match_group(cols_a[ia], cols_b[ib], rtol, shifts=key[0] == _NUMERIC)
        if found is None:
            return None
        matched += [(ia[i], ib[j], s) for i, j, s in found]
    return sorted(matched)


def compare_signatures(a: DatasetSignature, b: DatasetSignature, *, rtol: float = RTOL) -> NearDuplicate | None:
    """Whether two datasets are near-duplicates, and of which kind (see the module doc).

    Raises:
        ConfigError: ``rtol`` is not in [0, 1), or the two signatures are of different versions.
    """
    if not 0.0 <= rtol < 1.0:
        raise ConfigError(f"rtol must be in [0, 1), got {rtol!r}")
    if a.version != b.version:
        raise ConfigError(f"signatures of versions {a.version!r} and {b.version!r} cannot be compared; "
                          "recompute them (`metakb kb dedupe --recompute`)")
    if (a.n_rows, a.n_features, a.task) != (b.n_rows, b.n_features, b.task):
        return None
    if a.canonical_hash == b.canonical_hash:
        return NearDuplicate("same-content", "the same content after canonical re-encoding (rows and columns "
                             "reordered, categories relabelled)")
    if a.coded_hash == b.coded_hash:
        return NearDuplicate("same-content", "the same content after canonical re-encoding, numeric columns of "
                             f"few values (<= {CODED_LEVELS}) read as category codes (rows and columns reordered, "
                             "codes relabelled)")
    target_a = np.asarray([a.target], dtype=float)
    target_b = np.asarray([b.target], dtype=float)
    if tuple(target_a[0, :3]) != tuple(target_b[0, :3]) \
            or not _close(target_a[:, None, 3:], target_b[None, :, 3:], _tolerance(target_a, target_b, rtol)).all():
        return None
    matched = _match_columns(a, b, rtol)
    if matched is None:
        return None
    shifted = [(i, j) for i, j, s in matched if s]
    if len(shifted) > max_shifted_columns(a.n_features):
        return None
    detail = f"the same shape ({a.n_rows} x {a.n_features}) and column statistics (relative tolerance {rtol:g})"
    if shifted:
        moves = ", ".join(f"{a.names[i]} ~ {b.names[j]} ({b.columns[j][3] - a.columns[i][3]:+.6g})"
                          for i, j in shifted)
        detail += f"; {len(shifted)} column(s) shifted by a constant: {moves}"
    return NearDuplicate("same-statistics", detail)


def find_near_duplicates(signatures: Mapping[K, DatasetSignature], *, rtol: float = RTOL,
                         among: Sequence[K] | None = None) -> list[tuple[K, K, NearDuplicate]]:
    """Every near-duplicate pair of ``signatures`` (keyed by any dataset key).

    Args:
        signatures: dataset key -> its signature (all of one version).
        rtol: kind b's relative tolerance.
        among: only pairs with at least one of these keys (a newly registered dataset against
            the others); default all pairs.

    Returns:
        ``(key, other_key, NearDuplicate)`` triples, each pair once, keys in the order of
        ``signatures``.
    """
    keys = list(signatures)
    position = {k: i for i, k in enumerate(keys)}
    focus = None if among is None else set(among)
    buckets: dict[tuple[int, int, str], list[K]] = defaultdict(list)
    for key in keys:
        s = signatures[key]
        buckets[(s.n_rows, s.n_features, s.task)].append(key)
    found: list[tuple[K, K, NearDuplicate]] = []
    for members in buckets.values():
        for i, first in enumerate(members):
            for second in members[i + 1:]:
                if focus is not None and first not in focus and second not in focus:
                    continue
                verdict = compare_signatures(signatures[first], signatures[second], rtol=rtol)
                if verdict is not None:
                    found.append((first, second, verdict))
    return sorted(found, key=lambda t: (position[t[0]], position[t[1]]))
