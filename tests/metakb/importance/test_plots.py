"""Plots are written as real PNG files of a sensible size."""

from __future__ import annotations

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, NotFoundError
from metakb.importance import FANOVA, Tunability
from metakb.importance.plots import plot_importances, plot_marginals

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(0)
    space = CS.ConfigurationSpace({"lr": CS.Float("lr", (1e-4, 1.0), log=True), "units": (16, 256),
                                   "opt": ["sgd", "adam"]})
    configs = pd.DataFrame({"lr": 10 ** rng.uniform(-4, 0, 150), "units": rng.integers(16, 257, 150),
                            "opt": rng.choice(["sgd", "adam"], 150)})
    base = -np.abs(np.log10(configs["lr"]) + 2) + (configs["opt"] == "adam") * 0.5
    perf = pd.DataFrame([base + k * configs["units"] / 256 for k in range(3)], index=["d0", "d1", "d2"])
    return (FANOVA(seed=0).evaluate(configs, perf, space),
            FANOVA(seed=0).evaluate(configs, perf.iloc[:1], space),
            Tunability(seed=0, grid_size=10, pair_grid_size=4).evaluate(configs, perf, space))


def _is_png(path, min_bytes=8000):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > min_bytes


def test_bar_charts_are_written(results, tmp_path):
    several, single, tunability = results
    assert _is_png(plot_importances(several, tmp_path / "a.png", pairs=2))
    assert _is_png(plot_importances(single, tmp_path / "b.png"))
    assert _is_png(plot_importances(tunability, tmp_path / "c.png", title="tunability"))


def test_marginal_curves_are_written(results, tmp_path):
    several, _, _ = results
    assert _is_png(plot_marginals(several, tmp_path / "m.png"), min_bytes=20000)
    assert _is_png(plot_marginals(several, tmp_path / "m1.png", dataset="d2", hyperparameters=["opt"]))


def test_plot_errors(results, tmp_path):
    several, _, tunability = results
    with pytest.raises(ConfigError, match="fANOVA result"):
        plot_marginals(tunability, tmp_path / "x.png")
    with pytest.raises(NotFoundError, match="no marginals"):
        plot_marginals(several, tmp_path / "x.png", dataset="nope")
    with pytest.raises(NotFoundError, match="no marginal curve"):
        plot_marginals(several, tmp_path / "x.png", hyperparameters=["nope"])
    with pytest.raises(ConfigError, match="does not exist"):
        plot_importances(several, tmp_path / "missing" / "x.png")
