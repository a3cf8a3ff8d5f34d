"""Drawings of found cells as directed graphs, with matplotlib only (no graphviz)."""

from __future__ import annotations

from pathlib import Path

from nas_meta.genotypes import Genotype
from nas_meta.ops import PARAMETER_FREE

__all__ = ["plot_cell", "plot_genotype", "draw_cell"]


def _positions(nodes: int) -> dict[str, tuple[float, float]]:
    pos = {"c_{k-2}": (0.0, 0.0), "c_{k-1}": (0.0, -2.0)}
    for j in range(nodes):
        pos[str(j)] = (2.0 + 1.6 * j, 0.8 - 1.4 * (j % 2) - 0.6 * j)
    pos["c_{k}"] = (3.2 + 1.6 * nodes, -1.0)
    return pos


def plot_cell(edges: tuple[tuple[str, int], ...], nodes: int, title: str, path: str | Path) -> Path:
    """Draw one cell: inputs on the left, intermediate nodes, their concatenation on the right.

    Parameter-free operations (skip connections and pools) are drawn in red. Each operation's
    label sits on its (curved) edge, at the first point along it where it overlaps no other
    label and no node.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw_cell(edges, nodes, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def draw_cell(edges: tuple[tuple[str, int], ...], nodes: int, title: str):  # -> matplotlib Figure
    """The figure of :func:`plot_cell` (not saved, not closed)."""
    import matplotlib.pyplot as plt
    import numpy as np

    names = ["c_{k-2}", "c_{k-1}"] + [str(j) for j in range(nodes)]
    pos = _positions(nodes)
    fig, ax = plt.subplots(figsize=(2.2 + 1.8 * nodes, 3.6))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()  # fixes the axes' place, so that display coordinates below stay valid
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's canvas
    to_display, to_data = ax.transData.transform, ax.transData.inverted().transform
    taken = []  # display-space boxes of nodes and placed labels
    for name, (x, y) in pos.items():
        face = "#d9ead3" if name.startswith("c_") else "#cfe2f3"
        label = f"${name}$" if name.startswith("c_") else name
        node = ax.text(x, y, label, ha="center", va="center", fontsize=10, zorder=4,
                       bbox={"boxstyle": "circle,pad=0.35" if len(name) == 1 else "round,pad=0.3",
                             "fc": face, "ec": "0.3"})
        taken.append(node.get_window_extent(renderer).expanded(1.1, 1.1))
    for j in range(nodes):
        ax.annotate("", xy=pos["c_{k}"], xytext=pos[str(j)],
                    arrowprops={"arrowstyle": "-|>", "color": "0.6", "lw": 1.0, "shrinkA": 14, "shrinkB": 14})
    for k, (op, src) in enumerate(edges):
        a, b = pos[names[src]], pos[str(k // 2)]
        color = "tab:red" if op in PARAMETER_FREE else "tab:blue"
        rad = 0.12 * (1 if k % 2 else -1)
        ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.5,
                                                    "shrinkA": 14, "shrinkB": 14,
                                                    "connectionstyle": f"arc3,rad={rad}"})
        # matplotlib's arc3 is a quadratic Bezier in display space with control point
        # midpoint + rad * (dy, -dx): labels go on that curve
        pa, pb = to_display(a), to_display(b)
        control = (pa + pb) / 2 + rad * np.array([pb[1] - pa[1], -(pb[0] - pa[0])])
        text = ax.text(0, 0, op, fontsize=7, color=color, ha="center", va="center", zorder=3,
                       bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
        best: tuple[float, float] = (float(a[0]), float(a[1]))
        best_overlap = np.inf
        for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8):
            point = (1 - t) ** 2 * pa + 2 * t * (1 - t) * control + t ** 2 * pb
            x, y = to_data(point)
            text.set_position((float(x), float(y)))
            box = text.get_window_extent(renderer).padded(4)  # with its white box
            overlap = sum(_overlap(box, other) for other in taken)
            if overlap < best_overlap:
                best, best_overlap = (float(x), float(y)), overlap
            if overlap == 0:
                break
        text.set_position(best)
        taken.append(text.get_window_extent(renderer).padded(4))
    return fig


def _overlap(a, b) -> float:
    """Area shared by two display-space boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def plot_genotype(genotype: Genotype, prefix: str | Path, title: str = "") -> list[Path]:
    """``PREFIX_normal.png`` and ``PREFIX_reduce.png`` of a genotype."""
    from nas_meta.genotypes import parameter_free_share

    paths = []
    for kind, edges in (("normal", genotype.normal), ("reduce", genotype.reduce)):
        share = parameter_free_share(edges)
        head = f"{title} " if title else ""
        paths.append(plot_cell(edges, genotype.nodes, f"{head}{kind} cell (parameter-free ops: {share:.0%})",
                               f"{prefix}_{kind}.png"))
    return paths
