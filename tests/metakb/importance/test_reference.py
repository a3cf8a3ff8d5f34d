"""Against the reference fANOVA (automl/fanova 2.0.19) when its environment exists (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from metakb.importance import FANOVA
from metakb.importance._encoding import Param

ROOT = Path(__file__).resolve().parents[3]
REFERENCE_PYTHON = ROOT / ".venv-fanova" / "bin" / "python"


@pytest.mark.slow
@pytest.mark.skipif(not REFERENCE_PYTHON.exists(), reason="run benchmarks/setup_fanova_env.sh first")
def test_main_effects_agree_with_the_reference(benchmark_script):
    bench = benchmark_script("importance")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 5))
    y = 4 * x[:, 0] + 2 * np.sin(6 * x[:, 1]) + x[:, 2] ** 2 + 3 * x[:, 0] * x[:, 3]
    names = [f"x{i}" for i in range(5)]
    settings = dict(n_trees=64, bootstrap=True, min_samples_split=2, min_samples_leaf=1, max_depth=64)
    job = {"names": names, "x": x.tolist(), "y": y.tolist(), "seed": 1, "max_features": 3, "pairs": False,
           **settings}
    # a small job for pairs: the reference walks each tree once per grid cell, which is slow
    small = {**job, "names": names[:3], "x": x[:150, [0, 1, 3]].tolist(), "y": y[:150].tolist(),
             "max_features": 2, "pairs": True, "n_trees": 8}
    ref, ref_small = bench.run_reference([job, small], REFERENCE_PYTHON)
    params = [Param(n, "float") for n in names]
    dec = FANOVA(**settings, seed=1).decompose(x, y, params)
    ours = dec.main_fractions().mean(axis=0)
    ref_main = np.array([ref["main"][n] for n in names])
    assert spearmanr(ours, ref_main)[0] >= 0.9
    np.testing.assert_allclose(ours, ref_main, atol=0.03)
    # x0 and x3 interact (3 x0 x3); 8 trees on 150 points are noisy, hence the tolerance
    small_dec = FANOVA(**{**settings, "n_trees": 64}, seed=1).decompose(x[:150, [0, 1, 3]], y[:150], params[:3])
    ours_pair = small_dec.pair_fractions([(0, 2)]).mean()
    assert ours_pair == pytest.approx(ref_small["pairs"]["x0 × x2"], abs=0.05)
