"""The optimize trajectory plot says what it plots: the best score at the highest budget reached
so far, one segment per budget, so a drop when a higher budget is reached is explained (#23 item 14)."""

from __future__ import annotations

import math

import pytest
from matplotlib.figure import Figure

from metakb.cli.optimize import _plot
from metakb.workflows.optimize import OptimizationReport


def _report() -> OptimizationReport:
    # low budget: 0.70 -> 0.80; the first full-budget result (0.75) becomes the incumbent
    rows = [(1.0, 0.70, 1 / 3), (2.0, 0.80, 1 / 3), (3.0, 0.75, 1.0), (4.0, 0.78, 1.0)]
    trajectory = [{"seconds": s, "evaluations": i + 1, "best_score": v, "best_budget": b}
                  for i, (s, v, b) in enumerate(rows)]
    return OptimizationReport(run_id="r", dataset="toy", metric="balanced_accuracy", higher_is_better=True,
                              best_config={}, best_score=0.78, best_budget=1.0, n_evaluations=4,
                              trajectory=trajectory)


@pytest.fixture()
def figure(monkeypatch, tmp_path) -> Figure:
    seen: list[Figure] = []
    save = Figure.savefig

    def keep(self, *args, **kwargs):
        seen.append(self)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    _plot(_report(), str(tmp_path / "trajectory.png"))
    assert (tmp_path / "trajectory.png").stat().st_size > 5000
    return seen[0]


def test_axis_says_best_at_highest_budget(figure):
    ax = figure.axes[0]
    assert "highest budget reached so far" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["incumbent at budget 0.333", "incumbent at budget 1"]


def test_each_budget_segment_never_goes_down(figure):
    lines = [line for line in figure.axes[0].get_lines() if len(line.get_xdata()) > 1
             and not math.isclose(line.get_xdata()[0], line.get_xdata()[-1])]
    assert len(lines) == 2  # one per incumbent budget
    for line in lines:
        ys = list(line.get_ydata())
        assert ys == sorted(ys)


def test_trajectory_rows_carry_the_incumbent_budget():
    import ConfigSpace as CS

    from metakb.optimizers import RandomSearch  # any optimizer: the trajectory is the base class's

    space = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    result = RandomSearch(space, seed=0).optimize(lambda c, b: c["x"], n_evaluations=3)
    assert [t["incumbent_budget"] for t in result.trajectory] == [1.0, 1.0, 1.0]
