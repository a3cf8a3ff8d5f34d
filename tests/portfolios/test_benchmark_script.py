"""The leave-one-dataset-out benchmark script on a small matrix with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def bench(benchmark_script):
    return benchmark_script("portfolio")


def test_lodo_regrets_by_hand(bench):
    # Two kinds of datasets; c0 is best on kind A, c1 on kind B, c2 is a fair generalist.
    rows = [[1.0, 0.0, 0.6]] * 3 + [[0.0, 1.0, 0.6]] * 3
    matrix = pd.DataFrame(rows, index=[f"d{i}" for i in range(6)], columns=[10, 11, 12])
    matrix.attrs["higher_is_better"] = True
    result = bench.lodo(matrix, 3, repeats=2, defaults={12: "default:generalist"})
    greedy = result["regrets"]["greedy"]
    # Held out an A dataset: the five others are 2 A + 3 B, whose normalised losses are
    # c0 0.6, c1 0.4, c2 0.4: the tie between c1 and c2 goes to c1 (index), so the held-out
    # A dataset (losses 0, 1, 0.4) gets regret 1 at N = 1, then c0 (objective 0) gives 0.
    np.testing.assert_allclose(greedy[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(result["defaults"]["default:generalist"], 0.4)
    summary = bench.summarise(result, (2,))
    assert summary["gap_closed_per_default"]["default:generalist"] == pytest.approx(1.0)
    assert set(summary["wilcoxon_p"][2]) == {"top-average-rank", "random", "per-dataset-best"}
    assert "| 2 |" in bench.markdown(summary, (2,))


def test_a_held_out_datasets_near_duplicate_leaves_its_training_side(bench):
    # d0 and d1 are copies (kind A, where c12 is best); d2..d4 are kind B (c10 best); c11 is a
    # generalist. With d1 left in, greedy learns A from d0's copy and picks c12 second (regret
    # 0 at N = 2); with d1 left out the training side is all B, the three configurations tie
    # after c10 and the tie goes to c11 (index): regret 0.4 at N = 2.
    rows = [[0.0, 0.6, 1.0]] * 2 + [[1.0, 0.6, 0.0]] * 3
    matrix = pd.DataFrame(rows, index=[f"d{i}" for i in range(5)], columns=[10, 11, 12])
    matrix.attrs["higher_is_better"] = True
    copied = bench.lodo(matrix, 3, repeats=1, defaults={})["regrets"]["greedy"]
    np.testing.assert_allclose(copied[0], [1.0, 0.0, 0.0])
    apart = bench.lodo(matrix, 3, repeats=1, defaults={}, duplicates={"d0": {"d1"}, "d1": {"d0"}})
    np.testing.assert_allclose(apart["regrets"]["greedy"][0], [1.0, 0.4, 0.0])
    np.testing.assert_allclose(apart["regrets"]["greedy"][2:], copied[2:])  # B datasets: no copies, same answer


def test_lcbench_matrix_is_deterministic_with_its_default_first(bench, shared_data):
    pytest.importorskip("onnxruntime")
    folder = shared_data / "yahpo" / "lcbench"
    if not folder.is_dir():
        pytest.skip(f"LCBench surrogate not found at {folder}")
    matrix, defaults = bench.load_lcbench_matrix(folder, 5, seed=3)
    assert matrix.shape == (34, 6) and defaults == {0: "default:lcbench"}
    assert matrix.attrs["higher_is_better"] and matrix.notna().all().all()
    assert ((matrix > 0) & (matrix <= 1)).all().all()  # balanced accuracy, a fraction
    again, _ = bench.load_lcbench_matrix(folder, 5, seed=3)
    pd.testing.assert_frame_equal(matrix, again)  # no evaluation noise: same queries, same values
    other, _ = bench.load_lcbench_matrix(folder, 5, seed=4)
    pd.testing.assert_series_equal(matrix[0], other[0])  # the default does not depend on the draw
    assert not np.allclose(matrix.iloc[:, 1:].to_numpy(), other.iloc[:, 1:].to_numpy())


def test_a_candidate_found_on_the_held_out_dataset_is_not_in_its_portfolios(bench):
    # c13 is the best everywhere but was found only on d0: d0's portfolios do without it (regret
    # of its best other member), the other datasets' portfolios take it first (regret 0).
    rows = [[0.2, 0.5, 0.4, 1.0]] * 4
    matrix = pd.DataFrame(rows, index=[f"d{i}" for i in range(4)], columns=[10, 11, 12, 13])
    matrix.attrs["higher_is_better"] = True
    result = bench.lodo(matrix, 2, repeats=1, defaults={}, found_on={13: {"d0"}})
    greedy = result["regrets"]["greedy"]
    np.testing.assert_allclose(greedy[0], [0.5 / 0.8, 0.5 / 0.8])  # 11 then 12: best 0.5 of 1.0 (worst 0.2)
    np.testing.assert_allclose(greedy[1:, 0], 0.0)
    assert result["single_best"][0] == pytest.approx(0.5 / 0.8)


def test_regrets_against_the_old_configurations_may_beat_their_oracle(bench):
    # c13 was added later and beats the old oracle (c10..c12) by half an old span on every dataset
    rows = [[1.0, 0.0, 0.6, 1.5]] * 3 + [[0.0, 1.0, 0.6, 1.5]] * 3
    matrix = pd.DataFrame(rows, index=[f"d{i}" for i in range(6)], columns=[10, 11, 12, 13])
    matrix.attrs["higher_is_better"] = True
    loss = bench.reference_loss(matrix, [10, 11, 12])
    np.testing.assert_allclose(loss[0], [0.0, 1.0, 0.4, -0.5])
    old = bench.lodo(matrix, 4, repeats=1, defaults={12: "default:generalist"}, reference=[10, 11, 12])
    whole = bench.lodo(matrix, 4, repeats=1, defaults={12: "default:generalist"})
    np.testing.assert_allclose(old["regrets"]["greedy"][:, 0], -0.5)  # c13 first: better than the old oracle
    np.testing.assert_allclose(whole["regrets"]["greedy"][:, 0], 0.0)
    np.testing.assert_allclose(old["defaults"]["default:generalist"], 0.4)
    summary = bench.summarise(old, (2,))
    assert summary["gap_closed_per_default"]["default:generalist"] == pytest.approx(1.0 + 0.5 / 0.4)
