"""General meta-features: sizes, attribute types, classes, missing values, and their ratios.

They always describe the full dataset (never a row subsample). Names follow pymfe's where the
definition is the same; the missing-value and size features follow OpenML's qualities.
"""

from __future__ import annotations

import numpy as np

from meta_features._columns import ColumnStats
from meta_features._context import Context
from meta_features._registry import BOTH, register

__all__: list[str] = []

G = "general"


def _full_stats(ctx: Context) -> ColumnStats:
    return ctx.full_stats


@register("nr_inst", G, "Number of instances (rows).", tasks=BOTH)
def nr_inst(ctx: Context) -> float:
    return float(ctx.full.n)


@register("nr_attr", G, "Number of attributes (columns, the target excluded).", tasks=BOTH)
def nr_attr(ctx: Context) -> float:
    return float(ctx.full.d)


@register("nr_num", G, "Number of numeric attributes.", tasks=BOTH)
def nr_num(ctx: Context) -> float:
    return ctx.memo("nr_num", lambda: float((~ctx.full.categorical).sum()))  # several ratios use it


@register("nr_cat", G, "Number of categorical attributes.", tasks=BOTH)
def nr_cat(ctx: Context) -> float:
    return ctx.memo("nr_cat", lambda: float(ctx.full.categorical.sum()))


@register("nr_bin", G, "Number of attributes with exactly two distinct present values.", tasks=BOTH)
def nr_bin(ctx: Context) -> float:
    return float((_full_stats(ctx).n_distinct == 2).sum())


@register("nr_constant", G, "Number of attributes with fewer than two distinct present values.", tasks=BOTH)
def nr_constant(ctx: Context) -> float:
    return float((_full_stats(ctx).n_distinct < 2).sum())


@register("nr_class", G, "Number of classes present in y.")
def nr_class(ctx: Context) -> float:
    return float(len(ctx.full.classes))


@register("attr_to_inst", G, "Dimensionality: attributes divided by instances.", tasks=BOTH)
def attr_to_inst(ctx: Context) -> float:
    return ctx.full.d / ctx.full.n


@register("inst_to_attr", G, "Instances divided by attributes.", tasks=BOTH)
def inst_to_attr(ctx: Context) -> float:
    return ctx.full.n / ctx.full.d


@register("nr_inst_log", G, "Natural log of the number of instances.", tasks=BOTH)
def nr_inst_log(ctx: Context) -> float:
    return float(np.log(ctx.full.n))


@register("nr_attr_log", G, "Natural log of the number of attributes.", tasks=BOTH)
def nr_attr_log(ctx: Context) -> float:
    return float(np.log(ctx.full.d))


@register("attr_to_inst_log", G, "Natural log of attributes divided by instances.", tasks=BOTH)
def attr_to_inst_log(ctx: Context) -> float:
    return float(np.log(ctx.full.d / ctx.full.n))


@register("inst_to_attr_log", G, "Natural log of instances divided by attributes.", tasks=BOTH)
def inst_to_attr_log(ctx: Context) -> float:
    return float(np.log(ctx.full.n / ctx.full.d))


@register("cat_to_num", G, "Categorical attributes divided by numeric attributes.", tasks=BOTH)
def cat_to_num(ctx: Context) -> float:
    num = nr_num(ctx)
    return nr_cat(ctx) / num if num else ctx.undefined("no numeric attribute")


@register("num_to_cat", G, "Numeric attributes divided by categorical attributes.", tasks=BOTH)
def num_to_cat(ctx: Context) -> float:
    cat = nr_cat(ctx)
    return nr_num(ctx) / cat if cat else ctx.undefined("no categorical attribute")


@register("pct_num", G, "Fraction of the attributes that are numeric.", tasks=BOTH)
def pct_num(ctx: Context) -> float:
    return nr_num(ctx) / ctx.full.d


@register("pct_cat", G, "Fraction of the attributes that are categorical.", tasks=BOTH)
def pct_cat(ctx: Context) -> float:
    return nr_cat(ctx) / ctx.full.d


@register("pct_bin", G, "Fraction of the attributes that are binary (two distinct values).", tasks=BOTH)
def pct_bin(ctx: Context) -> float:
    return nr_bin(ctx) / ctx.full.d


@register("freq_class", G, "Relative frequency of each class.", multi=True)
def freq_class(ctx: Context) -> np.ndarray:
    return np.bincount(ctx.full.y).astype(float) / ctx.full.n


@register("maj_class_size", G, "Number of instances of the most frequent class.")
def maj_class_size(ctx: Context) -> float:
    return float(np.bincount(ctx.full.y).max())


@register("min_class_size", G, "Number of instances of the least frequent (present) class.")
def min_class_size(ctx: Context) -> float:
    return float(np.bincount(ctx.full.y).min())


@register("default_accuracy", G, "Accuracy of always predicting the majority class.")
def default_accuracy(ctx: Context) -> float:
    return maj_class_size(ctx) / ctx.full.n


@register("nr_missing", G, "Number of missing values in X.", tasks=BOTH)
def nr_missing(ctx: Context) -> float:
    return float(ctx.full.n * ctx.full.d - _full_stats(ctx).count.sum())


@register("pct_missing", G, "Fraction of the values of X that are missing.", tasks=BOTH)
def pct_missing(ctx: Context) -> float:
    return nr_missing(ctx) / (ctx.full.n * ctx.full.d)


@register("nr_inst_missing", G, "Number of instances with at least one missing value.", tasks=BOTH)
def nr_inst_missing(ctx: Context) -> float:
    if _full_stats(ctx).complete:
        return 0.0  # no missing value at all: no row scan
    return float(np.isnan(ctx.full.X).any(axis=1).sum())


@register("pct_inst_missing", G, "Fraction of the instances with at least one missing value.", tasks=BOTH)
def pct_inst_missing(ctx: Context) -> float:
    return nr_inst_missing(ctx) / ctx.full.n


@register("nr_attr_missing", G, "Number of attributes with at least one missing value.", tasks=BOTH)
def nr_attr_missing(ctx: Context) -> float:
    return float((_full_stats(ctx).count < ctx.full.n).sum())


@register("pct_attr_missing", G, "Fraction of the attributes with at least one missing value.", tasks=BOTH)
def pct_attr_missing(ctx: Context) -> float:
    return nr_attr_missing(ctx) / ctx.full.d


@register("cat_values", G, "Number of distinct present values of each categorical attribute.",
          multi=True, tasks=BOTH)
def cat_values(ctx: Context) -> np.ndarray:
    if not ctx.full.categorical.any():
        ctx.undefined("no categorical attribute")
    return _full_stats(ctx).n_distinct[ctx.full.categorical].astype(float)
