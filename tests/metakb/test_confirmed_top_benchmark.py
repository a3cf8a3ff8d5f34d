"""``benchmarks/confirmed_top.py``: which cells are confirmed, how they are averaged, and the
summary's paired tests, by hand (the real run evaluates on PMLB; docs/benchmarks.md records it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def bench(benchmark_script):
    return benchmark_script("confirmed_top")


MATRIX = pd.DataFrame({1: [0.5, 0.9], 2: [0.7, 0.1], 3: [0.6, 0.4], 10: [0.95, np.nan]}, index=["a", "b"])


def test_the_top_of_both_pools_is_confirmed_once_each(bench):
    pairs = bench.top_pairs(MATRIX, [1, 2, 3], top=1)
    # a: best sampled 2, best of all 10; b: 1 for both (10 failed there)
    assert sorted(zip(pairs["dataset"], pairs["configuration_id"], strict=True)) == [("a", 2), ("a", 10), ("b", 1)]
    assert pairs.set_index(["dataset", "configuration_id"]).loc[("a", 10), "stored"] == 0.95
    assert len(bench.top_pairs(MATRIX, [1, 2, 3], top=2)) == 5  # a: 2, 3 and 10, 2; b: 1, 3


def test_a_confirmed_cell_is_the_mean_over_all_its_seeds(bench):
    MATRIX.attrs["metric"] = "balanced_accuracy"
    fresh = pd.DataFrame({"dataset": ["a", "b"], "configuration_id": [10, 1], "stored": [0.95, 0.9],
                          "fresh": [0.80, np.nan]})
    out = bench.confirmed(MATRIX, fresh, n_seeds=2)
    assert out.loc["a", 10] == pytest.approx((0.95 + 2 * 0.80) / 3)
    assert out.loc["b", 1] == 0.9  # every fresh evaluation failed: the stored value stays
    assert out.loc["a", 1] == 0.5 and MATRIX.loc["a", 10] == 0.95  # others unchanged, input untouched
    assert out.attrs["metric"] == "balanced_accuracy"


def test_summary_pairs_the_arms_per_dataset(bench):
    names = [f"d{i}" for i in range(8)]
    columns = pd.MultiIndex.from_tuples([(m, k) for m in ("knn-best", "knn", "portfolio") for k in (1, 5)])
    base = pd.DataFrame(0.1, index=names, columns=columns)
    better = base - 0.01 * np.arange(1, 9)[:, None]
    regrets = {"old": base, "old-confirmed": base, "new": base, "new-confirmed": better}
    summary = bench.summarise(regrets)
    assert summary["mean_regret"]["knn-best@5"]["new-confirmed"] == pytest.approx(0.1 - 0.045)
    test = summary["tests"]["knn-best@5 old vs new-confirmed"]
    assert (test["better"], test["worse"], test["ties"]) == (8, 0, 0)
    assert test["p"] == pytest.approx(2 / 256)  # exact two-sided, all eight the same sign
    assert summary["tests"]["knn-best@5 old vs new"]["p"] is None  # all tied


def test_fresh_seeds_exclude_the_matrix_seed(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--pmlb", "x", "--seeds", "0"])
    assert "--seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--pmlb", "x", "--top", "0"])
    assert "--top" in capsys.readouterr().err
