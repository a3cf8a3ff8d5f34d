"""``benchmarks/candidate_optimism.py``: the roles, the transfer regrets and the summary, by hand
on a toy matrix (the real run evaluates configurations on PMLB; docs/kb.md records it)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def bench(benchmark_script):
    return benchmark_script("candidate_optimism")


@pytest.fixture
def data():
    # configurations 1-3 sampled, 10 = tuned:a, 11 = tuned:b; b2 is b's near-duplicate
    matrix = pd.DataFrame({1: [0.5, 0.6, 0.6, 0.7], 2: [0.7, 0.8, 0.8, 0.5], 3: [0.9, 0.4, 0.4, 0.6],
                           10: [0.95, 0.5, 0.5, 0.65], 11: [0.6, 0.9, 0.9, np.nan]},
                          index=["a", "b", "b2", "c"])
    return {"matrix": matrix, "tuned_of": {"a": 10, "b": 11}, "sampled": [1, 2, 3], "twins": {"b": {"b2"}, "b2": {"b"}}}


def test_roles_are_the_own_candidate_the_best_sampled_and_an_unselected_draw(bench, data):
    frame = bench.role_configurations(data, seed=0)
    a = frame[frame["dataset"] == "a"].set_index("role")
    assert a.loc["tuned", "configuration_id"] == 10 and a.loc["tuned", "stored"] == 0.95
    assert a.loc["old-best", "configuration_id"] == 3
    assert a.loc["best", "configuration_id"] == 10  # the tuned candidate beats every sampled one on a
    assert a.loc["control", "configuration_id"] in (1, 2, 3)
    assert a.loc["tuned", "scale"] == pytest.approx(0.9 - 0.5)  # range of the sampled configurations only
    assert set(frame["dataset"]) == {"a", "b"}


def test_transfer_scores_elsewhere_without_the_source_or_its_twins(bench, data):
    moved = bench.transfer(data).set_index("dataset")
    # tuned:b (11) elsewhere = on a and c (b2 is b's twin); c's missing cell counts as c's worst
    regret_a = (0.9 - 0.6) / (0.9 - 0.5)
    regret_c = (0.7 - 0.5) / (0.7 - 0.5)
    assert moved.loc["b", "tuned_elsewhere"] == pytest.approx((regret_a + regret_c) / 2)
    # b's best sampled configuration is 2: regret 0.5 on a, 1.0 on c
    assert moved.loc["b", "old_best_elsewhere"] == pytest.approx(((0.9 - 0.7) / 0.4 + 1.0) / 2)
    # tuned:a (10) on b, b2 and c (a has no twins)
    expected = np.mean([(0.8 - 0.5) / 0.4, (0.8 - 0.5) / 0.4, (0.7 - 0.65) / 0.2])
    assert moved.loc["a", "tuned_elsewhere"] == pytest.approx(expected)


def test_summary_counts_optimism_and_home_wins(bench, capsys):
    rows = []
    for i in range(6):
        best = (7, 0.9, 0.8) if i < 4 else (2, 0.85, 0.82)  # the tuned candidate is the best on d0-d3
        for role, config, stored, fresh in (("tuned", 7, 0.9, 0.8), ("old-best", 2, 0.85, 0.82), ("best", *best),
                                            ("control", 3, 0.6, 0.6 + 0.01 * (i % 2))):
            rows.append({"dataset": f"d{i}", "role": role, "configuration_id": config, "stored": stored,
                         "fresh": fresh, "scale": 0.5, "optimism": (stored - fresh) / 0.5})
    moved = pd.DataFrame({"dataset": [f"d{i}" for i in range(6)], "tuned_elsewhere": [0.3] * 6,
                          "old_best_elsewhere": [0.2] * 6})
    summary = bench.report(pd.DataFrame(rows), moved)
    assert summary["optimism"]["tuned"]["mean"] == pytest.approx(0.2)
    assert summary["optimism"]["tuned"]["positive"] == 6
    assert summary["optimism"]["tuned"]["p_positive"] == pytest.approx(1 / 64)  # exact, all six positive
    assert summary["optimism"]["best_is_tuned"] == [4, 6]
    assert summary["optimism"]["best_minus_old_best"]["n"] == 4  # compared where they differ
    assert summary["optimism"]["best_minus_old_best"]["mean"] == pytest.approx(0.2 - 0.06)
    assert summary["optimism"]["tuned_beats_old_best_stored"] == [6, 6]
    assert summary["optimism"]["tuned_beats_old_best_fresh"] == [0, 6]
    assert summary["transfer"]["tuned_worse_on"] == [6, 6]
    assert "selection optimism" in capsys.readouterr().out


def test_the_matrix_seed_is_refused_as_a_fresh_seed(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--pmlb", "x", "--seeds", "0", "1"])
    assert "--seeds" in capsys.readouterr().err


def test_reused_pairs_are_not_evaluated_again(bench, data, tmp_path):
    frame = bench.role_configurations(data, seed=0)
    earlier = frame.assign(fresh=0.5)
    out = tmp_path / "earlier.json"
    out.write_text(pd.Series({"settings": {"seeds": [1, 2]}, "optimism_rows": earlier.to_dict("records")}).to_json())
    known = bench.reused_scores(str(out), [2, 1])
    assert len(known) == len(set(zip(frame["dataset"], frame["configuration_id"], strict=True)))
    data["matrix"].attrs["protocol"] = "cv:3"
    data["configs"] = pd.DataFrame({"config": [{}] * 5}, index=[1, 2, 3, 10, 11])
    args = SimpleNamespace(metric="balanced_accuracy", pmlb="nowhere", seeds=[1, 2], jobs=1, timeout=1.0)
    fresh = bench.fresh_scores(frame, data, args, known)  # nothing left to evaluate: no worker loads "nowhere"
    assert (fresh["fresh"] == 0.5).all()
    assert fresh.loc[0, "optimism"] == pytest.approx((fresh.loc[0, "stored"] - 0.5) / fresh.loc[0, "scale"])
    with pytest.raises(SystemExit, match="seeds"):
        bench.reused_scores(str(out), [3])
