"""Drawings of found cells as directed graphs, with matplotlib only (no graphviz)."""

from __future__ import annotations

from pathlib import Path

from nas_meta.genotypes import Genotype
from nas_meta.ops import PARAMETER_FREE

__all__ = ["plot_cell", "plot_genotype"]


def _positions(nodes: int) -> dict[str, tuple[float, float]]:
    pos = {"c_{k-2}": (0.0, 0.0), "c_{k-1}": (0.0, -2.0)}
    for j in range(nodes):
        pos[str(j)] = (2.0 + 1.6 * j, 0.8 - 1.4 * (j % 2) - 0.6 * j)
    pos["c_{k}"] = (3.2 + 1.6 * nodes, -1.0)
    return pos


def plot_cell(edges: tuple[tuple[str, int], ...], nodes: int, title: str, path: str | Path) -> Path:
    """Draw one cell: inputs on the left, intermediate nodes, their concatenation on the right.

    Parameter-free operations (skip connections and pools) are drawn in red.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["c_{k-2}", "c_{k-1}"] + [str(j) for j in range(nodes)]
    pos = _positions(nodes)
    fig, ax = plt.subplots(figsize=(2.2 + 1.8 * nodes, 3.6))
    for k, (op, src) in enumerate(edges):
        a, b = pos[names[src]], pos[str(k // 2)]
        color = "tab:red" if op in PARAMETER_FREE else "tab:blue"
        ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.5,
                                                    "shrinkA": 14, "shrinkB": 14,
                                                    "connectionstyle": f"arc3,rad={0.12 * (1 if k % 2 else -1)}"})
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + (0.18 if k % 2 else -0.18))
        ax.text(*mid, op, fontsize=7, color=color, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    for j in range(nodes):
        ax.annotate("", xy=pos["c_{k}"], xytext=pos[str(j)],
                    arrowprops={"arrowstyle": "-|>", "color": "0.6", "lw": 1.0, "shrinkA": 14, "shrinkB": 14})
    for name, (x, y) in pos.items():
        face = "#d9ead3" if name.startswith("c_") else "#cfe2f3"
        label = f"${name}$" if name.startswith("c_") else name
        ax.text(x, y, label, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "circle,pad=0.35" if len(name) == 1 else "round,pad=0.3", "fc": face, "ec": "0.3"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


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
