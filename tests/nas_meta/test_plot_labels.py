"""Cell drawings: no operation label overlaps another label or a node (issue #23 item 14)."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from nas_meta.ops import PRIMITIVES  # noqa: E402
from nas_meta.plot import plot_cell  # noqa: E402

CROWDED = (("sep_conv_3x3", 0), ("dil_conv_5x5", 1), ("max_pool_3x3", 0), ("skip_connect", 2),
           ("sep_conv_5x5", 1), ("avg_pool_3x3", 3), ("dil_conv_3x3", 2), ("sep_conv_3x3", 4))


def _random_cell(seed: int, nodes: int = 4) -> tuple[tuple[str, int], ...]:
    rng = np.random.default_rng(seed)
    ops = list(PRIMITIVES[1:])
    return tuple((str(rng.choice(ops)), int(rng.integers(0, j + 2))) for j in range(nodes) for _ in range(2))


@pytest.mark.parametrize("edges", [CROWDED] + [_random_cell(s) for s in range(4)])
def test_operation_labels_do_not_overlap(edges, tmp_path, monkeypatch):
    ops = {op for op, _ in edges}
    boxes: dict[str, list] = {}
    save = Figure.savefig

    def keep(self, *args, **kwargs):  # measure the figure as it is written
        out = save(self, *args, **kwargs)
        renderer = self.canvas.get_renderer()
        texts = [t for t in self.axes[0].texts if t.get_text()]  # not the arrows
        boxes["labels"] = [t.get_window_extent(renderer) for t in texts if t.get_text() in ops]
        boxes["nodes"] = [t.get_window_extent(renderer) for t in texts if t.get_text() not in ops]
        return out

    monkeypatch.setattr(Figure, "savefig", keep)
    plot_cell(edges, 4, "normal cell", tmp_path / "cell.png")
    labels, nodes = boxes["labels"], boxes["nodes"]
    assert len(labels) == len(edges) and len(nodes) == 4 + 3
    for a, b in itertools.combinations(labels, 2):
        assert not a.overlaps(b), "two operation labels overlap"
    for a in labels:
        assert not any(a.overlaps(n) for n in nodes), "an operation label covers a node"
