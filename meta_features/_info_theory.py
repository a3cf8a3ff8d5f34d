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

import numpy as np

from meta_features._context import Context
from meta_features._registry import BOTH, register

__all__ = ["discretise", "n_bins"]

I = "info-theory"  # noqa: E741


def n_bins(n: int) -> int:
    """Equal-frequency bins of a numeric attribute for ``n`` rows: ``int(n ** (1/3))``, >= 1."""
    return max(int(n ** (1.0 / 3.0)), 1)


def discretise(X: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """Every attribute as integer codes ``0..k-1``; -1 marks a missing value."""
    out = np.full(X.shape, -1, dtype=np.int64)
    cat = np.flatnonzero(categorical)
    if cat.size:
        present = ~np.isnan(X[:, cat])
        out[:, cat] = np.where(present, np.nan_to_num(X[:, cat]), -1).astype(np.int64)
    num = np.flatnonzero(~categorical)
    if num.size:
        b = n_bins(X.shape[0])
        qs = np.linspace(0.0, 1.0, b + 1)[1:]
        complete = ~np.isnan(X[:, num]).any(axis=0)
        edges = np.full((b, num.size), np.nan)
        if complete.any():  # numpy's own quantiles, so that values equal to an edge agree
            edges[:, complete] = np.quantile(X[:, num[complete]], qs, axis=0)
        for k in np.flatnonzero(~complete):
            present = X[:, num[k]][~np.isnan(X[:, num[k]])]
            if present.size:
                edges[:, k] = np.quantile(present, qs)
        for i, j in enumerate(num):
            col_edges = edges[:, i]
            if np.isnan(col_edges).all():
                continue
            keep = np.append(True, np.diff(col_edges) > 1e-8)
            col_edges = np.unique(col_edges[keep])
            col = X[:, j]
            present = ~np.isnan(col)
            out[present, j] = np.searchsorted(col_edges, col[present], side="left")
    return out


def _entropy_rows(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a count matrix (0 log 0 = 0)."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / totals
        terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=1)


class _Tables:
    """Contingency tables of every attribute with the class, built with one bincount."""

    def __init__(self, D: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        n, d = D.shape
        self.k = int(D.max(initial=-1)) + 2  # slot 0 holds "missing"
        self.c = n_classes
        cells = (D + 1) * n_classes + y[:, None] + (np.arange(d) * self.k * n_classes)[None, :]
        joint = np.bincount(cells.ravel(), minlength=d * self.k * n_classes)
        self.joint = joint.reshape(d, self.k, n_classes)[:, 1:, :].astype(float)  # drop missing

    @property
    def attr_counts(self) -> np.ndarray:
        return self.joint.sum(axis=2)

    @property
    def class_counts(self) -> np.ndarray:
        return self.joint.sum(axis=1)


def _tables(ctx: Context) -> _Tables | _ChunkTables:
    def build() -> _Tables | _ChunkTables:
        D = ctx.discretised
        size = D.shape[1] * (int(D.max(initial=-1)) + 2) * len(ctx.class_counts)
        if size > 50_000_000:  # attributes with very many values: one table at a time
            return _chunked_tables(D, ctx.data.y, len(ctx.class_counts))
        return _Tables(D, ctx.data.y, len(ctx.class_counts))

    return ctx.memo("tables", build)


class _ChunkTables:
    def __init__(self, attr: np.ndarray, cls: np.ndarray, joint_ent: np.ndarray, conc: np.ndarray):
        self.attr_ent, self.class_ent, self.joint_ent, self.class_conc = attr, cls, joint_ent, conc


def _chunked_tables(D: np.ndarray, y: np.ndarray, c: int) -> _ChunkTables:
    parts = [_summaries(_Tables(D[:, [j]], y, c)) for j in range(D.shape[1])]
    return _ChunkTables(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def _summaries(t: _Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per attribute: H(X), H(Y) on the rows where X is present, H(X, Y), tau(X | Y)."""
    joint = t.joint.reshape(t.joint.shape[0], -1)
    return (_entropy_rows(t.attr_counts), _entropy_rows(t.class_counts), _entropy_rows(joint),
            _concentration(t.joint))


def _concentration(joint: np.ndarray) -> np.ndarray:
    """Goodman and Kruskal's tau of the first variable given the second, per table."""
    totals = joint.sum(axis=(1, 2), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = joint / totals
        col = p.sum(axis=1, keepdims=True)  # P(second)
        row2 = (p.sum(axis=2) ** 2).sum(axis=1)  # sum P(first)^2
        within = np.where(col > 0, p**2 / np.where(col > 0, col, 1.0), 0.0).sum(axis=(1, 2))
        tau = (within - row2) / (1.0 - row2)
    return np.where(1.0 - row2 > 1e-12, tau, np.nan)  # undefined for a constant first variable


def _parts(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        t = _tables(ctx)
        if isinstance(t, _ChunkTables):
            return t.attr_ent, t.class_ent, t.joint_ent, t.class_conc
        return _summaries(t)

    return ctx.memo("it_parts", build)


@register("class_ent", I, "Entropy of the class (bits).")
def class_ent(ctx: Context) -> float:
    return float(_entropy_rows(ctx.class_counts[None, :])[0])


@register("attr_ent", I, "Entropy (bits) of each discretised attribute.", cost="medium", multi=True, tasks=BOTH)
def attr_ent(ctx: Context) -> np.ndarray:
    return _parts(ctx)[0]


@register("joint_ent", I, "Joint entropy (bits) of each discretised attribute with the class.",
          cost="medium", multi=True)
def joint_ent(ctx: Context) -> np.ndarray:
    return _parts(ctx)[2]


@register("mut_inf", I, "Mutual information (bits) of each discretised attribute with the class.",
          cost="medium", multi=True)
def mut_inf(ctx: Context) -> np.ndarray:
    h_x, h_y, h_xy, _ = _parts(ctx)
    return np.clip(h_x + h_y - h_xy, 0.0, None)


@register("class_conc", I, "Concentration coefficient (Goodman-Kruskal tau) of each attribute "
          "given the class.", cost="medium", multi=True)
def class_conc(ctx: Context) -> np.ndarray:
    conc = _parts(ctx)[3]
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
    values = []
    for a in cols:
        others = [b for b in cols if b != a]
        # tau(a | b): a is the first variable, each other attribute the second
        values.append(_pair_conc(D[:, a], D[:, others]))
    out = np.concatenate(values)
    if np.isnan(out).any():
        ctx.undefined("undefined for constant attributes")
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
    return float((_parts(ctx)[0].sum() - mi) / mi)
