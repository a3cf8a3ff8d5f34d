"""Paper-quality PNG plots of importance results (matplotlib, no display needed).

* :func:`plot_importances`: a horizontal bar chart of importances, most important on top;
  the bar is the median over datasets with quartile whiskers when there are several datasets,
  else the value with ± sd over trees (fANOVA) as whiskers.
* :func:`plot_marginals`: marginal curves (mean ± sd over trees) of the most important
  hyperparameters of one dataset, log axes where the space is log-scaled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from metakb.errors import ConfigError, NotFoundError
from metakb.importance._base import ImportanceResult
from metakb.importance._fanova import FanovaResult

__all__ = ["plot_importances", "plot_marginals", "bar_rows"]

_LABELS = {"fanova": "fraction of variance explained (fANOVA)",
           "tunability": "tunability (gain over the optimal default)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def bar_rows(result: ImportanceResult, *, pairs: int = 0,
             top: int | None = 15) -> list[tuple[str, float, float, float]]:
    """The bars of :func:`plot_importances`: ``(label, value, low, high)``, top bar first.

    Single hyperparameters come first (median and quartiles over datasets), then the ``pairs``
    first pairs of :meth:`~ImportanceResult.pair_summary`; with several datasets a pair's label
    ends with ``(n=K)``, the number of datasets it was computed on. With one dataset the
    whiskers are ± sd over trees where the result has them.
    """
    summary = result.summary()
    if top is not None:
        summary = summary.head(int(top))
    rows = [(str(n), r["median"], r["q25"], r["q75"]) for n, r in summary.iterrows()]
    several = len(result.per_dataset) > 1
    if pairs:
        rows += [(f"{n} (n={int(r['n_datasets'])})" if several else str(n), r["median"], r["q25"], r["q75"])
                 for n, r in result.pair_summary().head(pairs).iterrows()]
    if not several and result.per_dataset_std is not None:  # one dataset: ± sd over trees
        std = result.per_dataset_std.iloc[0]
        rows = [(n, m, m - std.get(n, 0.0), m + std.get(n, 0.0)) for n, m, _, _ in rows]
    return [(n, float(m), float(lo), float(hi)) for n, m, lo, hi in rows]


def plot_importances(result: ImportanceResult, path: str | Path, *, pairs: int = 0, top: int | None = 15,
                     title: str | None = None, dpi: int = 200) -> Path:
    """Write a bar chart of ``result``'s importances to ``path`` (PNG) and return the path.

    The figure is as wide as its longest label, title and axis label need (nothing is clipped).

    Args:
        result: what an evaluator returned.
        path: the PNG file to write.
        pairs: also show this many most important pairs (below the single hyperparameters),
            each labelled with the number of datasets it rests on.
        top: show at most this many hyperparameters (None: all).
        title: the figure's title (default: method and number of datasets).
        dpi: resolution.
    """
    rows = bar_rows(result, pairs=pairs, top=top)
    if not rows:
        raise ConfigError("nothing to plot: the result has no importance")
    several = len(result.per_dataset) > 1
    names, med, lo, hi = zip(*rows, strict=False)
    med, lo, hi = (np.nan_to_num(np.asarray(v, dtype=float)) for v in (med, lo, hi))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.32 * len(names)), layout="constrained")
    y = np.arange(len(names))[::-1]
    n_single = len(bar_rows(result, top=top))
    colors = ["#3b6ea5"] * n_single + ["#d08a3a"] * (len(names) - n_single)
    ax.barh(y, med, color=colors, height=0.7, zorder=2)
    ax.errorbar(med, y, xerr=[np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)], fmt="none",
                ecolor="#222222", elinewidth=1.0, capsize=3, zorder=3)
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xlabel(_LABELS.get(result.method, "importance"), fontsize=10)
    ax.grid(axis="x", color="#dddddd", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(left=0)
    n_data = len(result.per_dataset)
    spread = "median, quartiles" if several else ("± sd over trees" if result.per_dataset_std is not None else "")
    ax.set_title(title or f"{result.method}: {n_data} dataset{'s' if n_data != 1 else ''}"
                 + (f" ({spread})" if spread else ""), fontsize=11)
    _fit_width(fig, ax)
    return _save(fig, path, dpi)


def _fit_width(fig, ax, *, min_axes: float = 3.6, margin: float = 0.5) -> None:
    """Widen ``fig`` so that its tick labels, title and x label fit (sizes in inches).

    The y tick labels sit left of the axes; the title and the x label are centred on the axes,
    so the axes must be at least as wide as either. Constrained layout then places them.
    """
    renderer = fig.canvas.get_renderer()

    def width(artists) -> float:
        return max((a.get_window_extent(renderer).width / fig.dpi for a in artists if a.get_text()),
                   default=0.0)

    labels = width(ax.get_yticklabels())
    axes = max(min_axes, width([ax.title]), width([ax.xaxis.label])) + 0.2
    fig.set_size_inches(max(fig.get_size_inches()[0], labels + axes + margin), fig.get_size_inches()[1])


def plot_marginals(result: FanovaResult, path: str | Path, *, dataset: str | None = None,
                   hyperparameters: Sequence[str] | None = None, top: int = 4,
                   score_label: str = "predicted score", dpi: int = 200) -> Path:
    """Write the marginal curves (mean ± sd over trees) of one dataset to ``path`` (PNG).

    Args:
        result: a fANOVA result (it carries the curves).
        path: the PNG file to write.
        dataset: which dataset (default: the first).
        hyperparameters: which curves (default: the ``top`` most important on that dataset).
        top: how many curves when ``hyperparameters`` is not given.
        score_label: the y axis label.
        dpi: resolution.

    Raises:
        NotFoundError: the dataset or a hyperparameter has no curve.
    """
    if not isinstance(result, FanovaResult) or not result.marginals:
        raise ConfigError("marginal curves need a fANOVA result")
    dataset = dataset if dataset is not None else next(iter(result.marginals))
    if dataset not in result.marginals:
        raise NotFoundError(f"dataset {dataset!r} has no marginals; known: {list(result.marginals)[:10]}")
    curves = result.marginals[dataset]
    if hyperparameters is None:
        hyperparameters = list(result.per_dataset.loc[dataset].sort_values(ascending=False).index[:top])
    missing = [h for h in hyperparameters if h not in curves]
    if missing:
        raise NotFoundError(f"no marginal curve for {missing}; known: {list(curves)}")
    importance = result.per_dataset.loc[dataset]
    plt = _pyplot()
    n = len(hyperparameters)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, constrained_layout=True)
    for ax, name in zip(axes.ravel(), hyperparameters, strict=False):
        _draw_marginal(ax, curves[name], importance.get(name, np.nan), score_label)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(f"fANOVA marginals: {dataset}", fontsize=11)
    return _save(fig, path, dpi)


def _draw_marginal(ax, curve, importance: float, score_label: str) -> None:
    mean, std = np.asarray(curve.mean), np.asarray(curve.std)
    if curve.categorical:
        x = np.arange(len(curve.values))
        ax.bar(x, mean, yerr=std, color="#3b6ea5", capsize=3, zorder=2)
        ax.set_xticks(x, [str(v) for v in curve.values], rotation=30, ha="right", fontsize=8)
        # bars start at 0 (a bar's length is its value); negative scores extend below it
        low, high = min(0.0, float(np.min(mean - std))), max(0.0, float(np.max(mean + std)))
        pad = 0.05 * (high - low + 1e-12)
        ax.set_ylim(low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0)
    else:
        x = np.asarray(curve.values, dtype=float)
        ax.plot(x, mean, color="#3b6ea5", lw=1.6, zorder=3)
        ax.fill_between(x, mean - std, mean + std, color="#3b6ea5", alpha=0.25, lw=0, zorder=2)
        if curve.log:
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            if np.log10(x.max() / x.min()) < 3:  # few decades: label 1, 2, 5 x 10^k in plain numbers
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        if len(x) <= 12:  # a small integer range: mark the values that exist
            ax.plot(x, mean, "o", color="#3b6ea5", ms=4, zorder=4)
    ax.set_title(f"{curve.name} ({100 * importance:.1f}% of variance)", fontsize=10)
    ax.set_xlabel(curve.name, fontsize=9)
    ax.set_ylabel(score_label, fontsize=9)
    ax.grid(color="#e5e5e5", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def _save(fig, path: str | Path, dpi: int) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"cannot write plot {path}: folder {path.parent} does not exist")
    fig.savefig(path, dpi=dpi, format="png")
    _pyplot().close(fig)
    return path
