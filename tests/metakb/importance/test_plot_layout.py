"""Plots show everything they draw: no clipped text, bars from 0 (issue #23 item 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from metakb.importance._base import ImportanceResult
from metakb.importance._fanova import FanovaResult, Marginal
from metakb.importance.plots import plot_importances, plot_marginals

LONG = "hist_gradient_boosting:min_samples_leaf"


@pytest.fixture()
def written(monkeypatch) -> dict:
    """What each saved figure looked like: text boxes and the figure's box, y limits per axes."""
    seen: dict = {}
    save = Figure.savefig

    def keep(self, *args, **kwargs):
        out = save(self, *args, **kwargs)
        self.canvas.draw()  # lay it out again at the figure's own dpi, then measure
        renderer = self.canvas.get_renderer()
        texts = []
        for ax in self.axes:
            texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
            for axis in (ax.xaxis, ax.yaxis):  # the tick labels inside the view (others are not drawn)
                low, high = sorted(axis.get_view_interval())
                texts += [t.label1 for t in axis.get_major_ticks() if low - 1e-9 <= t.get_loc() <= high + 1e-9]
        seen["texts"] = [(t.get_text(), t.get_window_extent(renderer)) for t in texts
                         if t.get_text() and t.get_visible()]
        seen["figure"] = self.bbox
        seen["ylim"] = [ax.get_ylim() for ax in self.axes if ax.get_visible()]
        return out

    monkeypatch.setattr(Figure, "savefig", keep)
    return seen


def _inside(box, figure) -> bool:
    return box.x0 >= figure.x0 - 0.5 and box.x1 <= figure.x1 + 0.5 and box.y0 >= figure.y0 - 0.5 \
        and box.y1 <= figure.y1 + 0.5


def test_bar_chart_with_long_labels_clips_nothing(written, tmp_path):
    names = [LONG, "logistic_regression:class_weight", "svc:C"]
    per_dataset = pd.DataFrame(np.random.default_rng(0).uniform(size=(5, 3)), columns=names,
                               index=[f"d{i}" for i in range(5)])
    pairs = pd.DataFrame({f"{LONG} × logistic_regression:class_weight": np.full(5, 0.1)},
                         index=per_dataset.index)
    result = ImportanceResult("fanova", names, per_dataset, pairs_per_dataset=pairs)
    plot_importances(result, tmp_path / "bars.png", pairs=1)
    clipped = [text for text, box in written["texts"] if not _inside(box, written["figure"])]
    assert clipped == []
    assert any(text.endswith("(n=5)") for text, _ in written["texts"])


def test_categorical_marginal_bars_start_at_zero(written, tmp_path):
    curve = Marginal("opt", ["sgd", "adam"], np.array([0.78, 0.81]), np.array([0.01, 0.02]),
                     categorical=True, log=False)
    result = FanovaResult("fanova", ["opt"], pd.DataFrame({"opt": [0.9]}, index=["d"]),
                          marginals={"d": {"opt": curve}})
    plot_marginals(result, tmp_path / "m.png")
    (bottom, top), = written["ylim"]
    assert bottom == 0.0 and top >= 0.83
    assert all(_inside(box, written["figure"]) for _, box in written["texts"])
