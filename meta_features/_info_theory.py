"""Information-theoretic meta-features (entropies in bits, mutual information, concentration).

Discretisation (documented in ``docs/meta_features.md``): categorical attributes keep their
codes; each numeric attribute is cut into ``b = int(n ** (1/3))`` equal-frequency bins, ``n``
the number of rows used, with the bin edges at its ``k/b`` quantiles (k = 1..b, linear
interpolation, duplicate edges merged, so a column with few distinct values gets fewer bins)
and a value put in the first bin whose upper edge is >= the value. This is pymfe's
discretisation, so values agree with it. Missing values are left out: every quantity of an
attribute uses the rows where that attribute is present.

References:
    Michie, Spiegelhalter & Taylor (1994), Machine Learning, Neural and Statistical
    Classification; Goodman & Kruskal (1954) for the concentration coefficient (tau).
"""

from __future__ import annotations

import functools

import numpy as np

from meta_features._context import Context
from meta_features._registry import BOTH, register

__all__ = ["discretise", "entropies", "n_bins", "sorted_quantiles"]

I = "info-theory"  # noqa: E741


def n_bins(n: int) -> int:
    """Equal-frequency bins of a numeric attribute for ``n`` rows: ``int(n ** (1/3))``, >= 1."""
    return max(int(n ** (1.0 / 3.0)), 1)


def discretise(X: np.ndarray, categorical: np.ndarray, sorted_columns: np.ndarray | None = None) -> np.ndarray:
    """Every attribute as integer codes ``0..k-1``; -1 marks a missing value.

    Args:
        X: ``(n, d)`` floats, NaN for missing; categorical columns hold codes.
        categorical: ``(d,)`` bool mask of the categorical columns.
        sorted_columns: ``np.sort(X, axis=0)`` when already known (the statistical group's
            column statistics sort every column anyway): the bin edges are then read from it
            instead of partitioning each column again. The edges are the same either way
            (:func:`sorted_quantiles` repeats numpy's arithmetic).
    """
    out = np.full(X.shape, -1, dtype=np.int64)
    cat = np.flatnonzero(categorical)
    if cat.size:
        present = ~np.isnan(X[:, cat])
        out[:, cat] = np.where(present, np.nan_to_num(X[:, cat]), -1).astype(np.int64)
    num = np.flatnonzero(~categorical)
    n = X.shape[0]
    if not num.size or not n:
        return out
    every = num.size == X.shape[1]  # no categorical column: no column copies
    N = X if every else X[:, num]
    if sorted_columns is None:
        S = np.sort(N, axis=0)
    else:
        S = sorted_columns if every else sorted_columns[:, num]
    codes = _bin_codes(N, S)
    if every:
        out[...] = codes
    else:
        out[:, num] = codes
    return out


def _bin_codes(N: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Codes of the numeric columns ``N`` (``S``: the columns sorted, NaN last); -1 if missing.

    Each column is cut at its ``k/b`` quantiles (``b = n_bins(n)``); an edge within 1e-8 of
    the edge before it is merged into it, and a value gets the number of (merged) edges
    strictly below it, i.e. ``np.searchsorted(edges, value, side="left")``. With at most
    ``b <= 21`` edges, comparing every value with every edge (one vectorised comparison per
    edge) is cheaper than a binary search per value, which numpy runs one column at a time.
    """
    n, p = N.shape
    b = n_bins(n)
    qs = _bin_quantiles(b)
    count = np.full(p, n) if not np.isnan(S[-1]).any() else (~np.isnan(S)).sum(axis=0)
    complete = count == n
    if complete.all():
        edges = sorted_quantiles(S, qs)
    else:
        edges = np.full((b, p), np.nan)
        if complete.any():
            edges[:, complete] = sorted_quantiles(S[:, complete], qs)
        for k in np.flatnonzero(~complete & (count > 0)).tolist():
            edges[:, k] = sorted_quantiles(S[: count[k], k : k + 1], qs)[:, 0]
    step = np.diff(edges, axis=0)  # NaN for a column without values (no warning: no inf)
    keep = np.ones((b, p), bool)
    keep[1:] = step > 1e-8
    if p == 1 and complete[0]:  # one column (the regression target): one binary search
        kept = edges[keep[:, 0], 0]
        return np.searchsorted(kept if step[:, 0].min(initial=0.0) >= 0 else np.unique(kept),
                               N[:, 0], side="left")[:, None]
    # One comparison of the whole matrix per edge, counted in int8 when b < 127 (b <= 21 for
    # the 10,000 rows of max_rows); a merged edge becomes +inf, never below a value. The
    # columns are laid out as contiguous rows (free for column-major data, as from pandas),
    # so that each comparison runs along a column against one scalar edge.
    rows = np.ascontiguousarray(N.T)
    column_edges = np.ascontiguousarray(np.where(keep, edges, np.inf).T)
    small = np.int8 if b < 127 else np.int64
    below = np.empty((p, n), dtype=bool)
    count_below = np.zeros((p, n), dtype=small)
    for k in range(b):
        np.greater(rows, column_edges[:, k : k + 1], out=below)
        count_below += below.view(np.int8) if small is np.int8 else below
    codes = count_below.T.astype(np.int64)
    if not complete.all():
        codes[np.isnan(N)] = -1
    # Quantiles of sorted values never decrease, so the kept edges are strictly increasing
    # and counting them is the binary search on np.unique(kept edges), pymfe's rule. Should
    # rounding ever make a column's edges decrease, that column is binned by the rule itself.
    decreasing = step < 0
    if not decreasing.any():
        return codes
    for j in np.flatnonzero(decreasing.any(axis=0) & (count > 0)).tolist():
        col_edges = np.unique(edges[keep[:, j], j])
        col = N[:, j]
        present = ~np.isnan(col)
        codes[present, j] = np.searchsorted(col_edges, col[present], side="left")
    return codes


@functools.lru_cache(maxsize=64)
def _bin_quantiles(b: int) -> np.ndarray:
    """The quantiles ``1/b, 2/b, ..., 1`` of the bin edges (read-only; computed once per ``b``)."""
    qs = np.linspace(0.0, 1.0, b + 1)[1:]
    qs.setflags(write=False)
    return qs


def sorted_quantiles(S: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.quantile(S, qs, axis=0)`` (linear method) of columns ``S`` that are already sorted.

    The same floating-point operations as numpy's ``_quantile`` (virtual index ``(n-1) q``,
    its floor, the last value above the last index, and ``_lerp``, which interpolates from
    the upper value when the weight is >= 0.5), so the result is bit-identical (signed zeros
    aside), without the partition numpy needs because it cannot know the columns are sorted.
    """
    prev_i, next_i, gamma, upper = _quantile_plan(S.shape[0], tuple(qs.tolist()))
    low, high = S[prev_i], S[next_i]
    diff = high - low
    out = low + diff * gamma
    np.subtract(high, diff * (1 - gamma), out=out, where=upper)
    return out


@functools.lru_cache(maxsize=256)
def _quantile_plan(n: int, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indices, weights and the upper-value mask of numpy's linear quantiles for ``n`` values."""
    virtual = (n - 1) * np.array(qs)
    previous = np.floor(virtual)
    above = virtual >= n - 1
    previous[above] = -1
    nxt = previous + 1
    nxt[above] = -1
    prev_i, next_i = previous.astype(np.intp), nxt.astype(np.intp)
    gamma = (virtual - prev_i)[:, None]
    plan = (prev_i, next_i, gamma, gamma >= 0.5)
    for a in plan:
        a.setflags(write=False)
    return plan


def _entropy_rows(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a count matrix (0 log 0 = 0)."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / totals
        positive = p > 0
        terms = np.where(positive, p * np.log2(np.where(positive, p, 1.0)), 0.0)
    return -terms.sum(axis=1)


class _Tables:
    """Contingency tables of every attribute with the class, built with one bincount."""

    def __init__(self, D: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        n, d = D.shape
        self.k = int(D.max(initial=-1)) + 2  # slot 0 holds "missing"
        self.c = n_classes
        cells = D + 1
        cells *= n_classes
        cells += y[:, None]
        cells += (np.arange(d) * (self.k * n_classes))[None, :]
        # counting does not depend on the order of the cells: read them in memory order
        joint = np.bincount(cells.ravel(order="K"), minlength=d * self.k * n_classes)
        self.joint = joint.reshape(d, self.k, n_classes)[:, 1:, :].astype(float)  # drop missing

    @property
    def attr_counts(self) -> np.ndarray:
        return self.joint.sum(axis=2)

    @property
    def class_counts(self) -> np.ndarray:
        return self.joint.sum(axis=1)


def _labels(ctx: Context) -> tuple[np.ndarray, int]:
    """The class codes the tables pair the attributes with, and their number.

    A regression has no class: its tables pair the attributes with the binned target
    (:attr:`Context.binned_target`), from which ``attr_y_mi`` is read; the attribute counts,
    and so ``attr_ent``, do not depend on the pairing.
    """
    if ctx.task == "regression":
        codes = ctx.binned_target
        return codes, int(codes.max()) + 1
    return ctx.data.y, len(ctx.class_counts)


def _tables(ctx: Context) -> _Tables | _ChunkTables:
    def build() -> _Tables | _ChunkTables:
        D = ctx.discretised
        labels, c = _labels(ctx)
        size = D.shape[1] * (int(D.max(initial=-1)) + 2) * c
        if size > 50_000_000:  # attributes with very many values: one table at a time
            return _chunked_tables(D, labels, c)
        return _Tables(D, labels, c)

    return ctx.memo("tables", build)


class _ChunkTables:
    def __init__(self, attr: np.ndarray, cls: np.ndarray, joint_ent: np.ndarray, conc: np.ndarray):
        self.attr_ent, self.class_ent, self.joint_ent, self.class_conc = attr, cls, joint_ent, conc


def _chunked_tables(D: np.ndarray, y: np.ndarray, c: int) -> _ChunkTables:
    parts = [_summaries(_Tables(D[:, [j]], y, c)) for j in range(D.shape[1])]
    return _ChunkTables(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def _summaries(t: _Tables, conc: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per attribute: H(X), H(Y) on the rows where X is present, H(X, Y), tau(X | Y).

    ``conc=False`` leaves tau out (an empty array), for callers that need only entropies.
    """
    joint = t.joint.reshape(t.joint.shape[0], -1)
    return (_entropy_rows(t.attr_counts), _entropy_rows(t.class_counts), _entropy_rows(joint),
            _concentration(t.joint) if conc else np.empty(0))


def _concentration(joint: np.ndarray) -> np.ndarray:
    """Goodman and Kruskal's tau of the first variable given the second, per table."""
    totals = joint.sum(axis=(1, 2), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = joint / totals
        col = p.sum(axis=1, keepdims=True)  # P(second)
        row2 = (p.sum(axis=2) ** 2).sum(axis=1)  # sum P(first)^2
        seen = col > 0
        within = np.where(seen, p**2 / np.where(seen, col, 1.0), 0.0).sum(axis=(1, 2))
        tau = (within - row2) / (1.0 - row2)
    return np.where(1.0 - row2 > 1e-12, tau, np.nan)  # undefined for a constant first variable


def entropies(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per attribute: H(X), H(Y) on the rows where X is present, H(X, Y) (Y: see :func:`_labels`)."""
    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = _tables(ctx)
        if isinstance(t, _ChunkTables):
            return t.attr_ent, t.class_ent, t.joint_ent
        return _summaries(t, conc=False)[:3]

    return ctx.memo("it_entropies", build)


def _class_conc(ctx: Context) -> np.ndarray:
    """tau(X | class) per attribute (classification only)."""
    def build() -> np.ndarray:
        t = _tables(ctx)
        return t.class_conc if isinstance(t, _ChunkTables) else _concentration(t.joint)

    return ctx.memo("class_conc", build)


@register("class_ent", I, "Entropy of the class (bits).")
def class_ent(ctx: Context) -> float:
    return float(_entropy_rows(ctx.class_counts[None, :])[0])


@register("attr_ent", I, "Entropy (bits) of each discretised attribute.", cost="medium", multi=True, tasks=BOTH)
def attr_ent(ctx: Context) -> np.ndarray:
    return entropies(ctx)[0]


@register("joint_ent", I, "Joint entropy (bits) of each discretised attribute with the class.",
          cost="medium", multi=True)
def joint_ent(ctx: Context) -> np.ndarray:
    return entropies(ctx)[2]


@register("mut_inf", I, "Mutual information (bits) of each discretised attribute with the class.",
          cost="medium", multi=True)
def mut_inf(ctx: Context) -> np.ndarray:
    h_x, h_y, h_xy = entropies(ctx)
    return np.clip(h_x + h_y - h_xy, 0.0, None)


@register("class_conc", I, "Concentration coefficient (Goodman-Kruskal tau) of each attribute "
          "given the class.", cost="medium", multi=True)
def class_conc(ctx: Context) -> np.ndarray:
    conc = _class_conc(ctx)
    if np.isnan(conc).any():
        ctx.undefined("undefined for constant attributes")
    return conc


@register("attr_conc", I, "Concentration coefficient of each ordered pair of attributes (at most "
          "12 attributes, chosen at random with the seed).", cost="medium", multi=True, tasks=BOTH)
def attr_conc(ctx: Context) -> np.ndarray:
    D = ctx.discretised
    d = D.shape[1]
    if d < 2:
        ctx.undefined("fewer than two attributes")
        return np.empty(0)
    cols = np.arange(d) if d <= 12 else np.sort(ctx.rng(2).choice(d, 12, replace=False))
    out = _all_pair_conc(D[:, cols])
    if np.isnan(out).any():
        ctx.undefined("undefined for constant attributes")
    return out


#: Most cells of the contingency tables of all attribute pairs held at once (beyond: one
#: table build per first attribute, as for attributes with very many values).
_PAIR_CELLS = 4_000_000

#: Most pair codes counted by one ``bincount`` (a block that stays in the CPU cache).
_PAIR_BLOCK = 1 << 16


def _all_pair_conc(D: np.ndarray) -> np.ndarray:
    """tau(a | b) for every ordered pair of distinct columns of ``D`` (for a, for b != a).

    Each pair uses the rows where both are present. The table of ``(a, b)`` is the transpose
    of that of ``(b, a)``, so only the unordered pairs are counted: ``bincount`` of the pair
    codes (codes shifted by one, slot 0 holding "missing", then dropped), in blocks of pairs.
    One vectorised :func:`_concentration` then scores every ordered pair.
    """
    n, m = D.shape
    v = int(D.max(initial=-1)) + 2  # values per attribute, slot 0 = missing
    if m * m * v * v > _PAIR_CELLS:
        return np.concatenate([_pair_conc(D[:, a], D[:, [b for b in range(m) if b != a]])
                               for a in range(m)])
    lo, hi, first, second = _pair_indices(m)
    shifted = np.ascontiguousarray(D.T) + 1  # (m, n): one contiguous row per attribute
    counts = []
    step = max(1, _PAIR_BLOCK // max(n, 1))
    for start in range(0, lo.size, step):
        i, j = lo[start : start + step], hi[start : start + step]
        cells = shifted[i] * v
        cells += shifted[j]
        cells += (np.arange(i.size) * (v * v))[:, None]
        counts.append(np.bincount(cells.ravel(), minlength=i.size * v * v).reshape(i.size, v, v))
    upper = np.concatenate(counts)  # (pair, value of lo, value of hi)
    tables = np.empty((m, m, v, v), dtype=upper.dtype)
    tables[lo, hi] = upper
    tables[hi, lo] = upper.transpose(0, 2, 1)
    return _concentration(tables[first, second][:, 1:, 1:].astype(float))


@functools.lru_cache(maxsize=16)
def _pair_indices(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unordered pairs ``lo < hi`` and ordered pairs ``(first, second != first)`` of ``m`` columns."""
    lo, hi = np.triu_indices(m, 1)
    first, second = np.nonzero(~np.eye(m, dtype=bool))  # (a, b != a) order
    out = (lo, hi, first, second)
    for a in out:
        a.setflags(write=False)
    return out


def _pair_conc(a: np.ndarray, others: np.ndarray) -> np.ndarray:
    """tau(a | b) for each column b of ``others``, on rows where both are present."""
    rows = a >= 0
    a, others = a[rows], others[rows]
    if a.size == 0:
        return np.full(others.shape[1], np.nan)
    tables = _Tables(others, a, int(a.max()) + 1)  # axes: (b column, b value, a value)
    return _concentration(tables.joint.transpose(0, 2, 1))


@register("eq_num_attr", I, "Equivalent number of attributes: class_ent / mean(mut_inf).",
          cost="medium")
def eq_num_attr(ctx: Context) -> float:
    mi = mut_inf(ctx)
    total = mi.sum()
    if total <= 0:
        return ctx.undefined("no attribute shares information with the class")
    return float(len(mi) * class_ent(ctx) / total)


@register("ns_ratio", I, "Noise-signal ratio: (sum attr_ent - sum mut_inf) / sum mut_inf.",
          cost="medium")
def ns_ratio(ctx: Context) -> float:
    mi = mut_inf(ctx).sum()
    if mi <= 0:
        return ctx.undefined("no attribute shares information with the class")
    return float((entropies(ctx)[0].sum() - mi) / mi)
