"""``benchmarks/warm_bohb_budgets.py``: evaluations to reach a target and the summary, by hand
(the end-to-end run needs real evaluations; docs/kb.md records one on a tiny knowledge base)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def bench(benchmark_script):
    return benchmark_script("warm_bohb_budgets")


def test_reach_counts_evaluations_until_the_best_so_far_gets_there(bench):
    values = [None, 0.5, None, 0.7, 0.6, 0.8]
    assert bench.reach(values, 0.7) == 4
    assert bench.reach(values, 0.5) == 2
    assert bench.reach(values, 0.9) is None
    assert bench.reach([None, None], 0.1) is None


def test_the_first_full_budget_evaluation_of_cold_bohb(bench):
    assert bench._first_full_budget_evaluation() == 13  # 9 at 1/9, 3 at 1/3, 1 at all rows


def test_summary_medians_wins_and_paired_tests(bench):
    rows = []
    for i, (cold, each, full) in enumerate([(13, 3, 5), (20, 4, 4), (31, 10, 12), (13, 2, 13), (25, 6, 9)]):
        rows.append({"dataset": f"d{i}", "seed": 0, "cold_evals": cold, "warm-each_evals": each,
                     "warm-full_evals": full, "cold_best": 0.5, "warm-each_best": 0.6, "warm-full_best": 0.55,
                     "cold_reached": True, "warm-each_reached": True, "warm-full_reached": True})
    summary = bench.summarise(rows)
    assert summary["datasets"] == 5
    assert summary["table"]["warm-each"]["median evals to reach cold's final"] == 4
    assert summary["table"]["cold"]["median evals to reach cold's final"] == 20
    assert summary["fewer_than_cold"] == {"warm-each": 5, "warm-full": 4}
    assert summary["fewer_than_warm_full"] == 4
    assert summary["wilcoxon"]["warm-each vs cold"]["n"] == 5
    assert summary["wilcoxon"]["warm-each vs cold"]["p"] == pytest.approx(0.0625)  # exact, 5 pairs, one side all


def test_runs_split_over_processes_are_summarised_together(bench, tmp_path, capsys):
    rows = [{"dataset": f"d{i}", "seed": 0, "cold_evals": 20, "warm-each_evals": 5, "warm-full_evals": 9,
             "cold_best": 0.5, "warm-each_best": 0.6, "warm-full_best": 0.55, "cold_reached": True,
             "warm-each_reached": True, "warm-full_reached": True, "near_duplicates_excluded": []} for i in range(4)]
    parts = []
    for i, chunk in enumerate((rows[:1], rows[1:])):
        parts.append(tmp_path / f"part{i}.json")
        parts[-1].write_text(json.dumps({"rows": chunk}))
    out = tmp_path / "all.json"
    assert bench.main(["--combine", *map(str, parts), "--out", str(out)]) == 0
    assert "=== 4 datasets, 4 runs" in capsys.readouterr().out
    assert json.loads(out.read_text())["fewer_than_cold"] == {"warm-each": 4, "warm-full": 4}
    with pytest.raises(SystemExit):
        bench.main(["--n-evaluations", "40"])  # neither --db nor --combine
