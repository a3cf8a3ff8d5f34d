"""Greedy portfolio construction against hand-computed values and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError
from portfolios import GreedyPortfolio, greedy_order, greedy_portfolio, portfolio_curve

# Losses (lower is better), used without normalisation so every number can be checked by hand.
HAND = pd.DataFrame(
    [[0.0, 0.9, 0.4, 0.3],
     [0.9, 0.0, 0.4, 0.3],
     [0.9, 0.9, 0.0, 0.5]],
    index=["d0", "d1", "d2"], columns=["c0", "c1", "c2", "c3"])


def objective(loss: np.ndarray, members: list[int]) -> float:
    return float(portfolio_curve(loss, members)[-1])


def test_greedy_hand_checked_steps():
    # step 1: column means 0.6, 0.6, 0.8/3, 1.1/3 -> c2 (0.2667)
    # step 2: best [0.4, 0.4, 0]; c0 -> 0.4/3, c1 -> 0.4/3, c3 -> 0.6/3; tie c0/c1 (same
    #         mean loss 0.6) -> lower index c0
    # step 3: best [0, 0.4, 0]; c1 -> 0, c3 -> 0.1 -> c1
    p = greedy_portfolio(HAND, 3, higher_is_better=False, normalize=False)
    assert p.members == ["c2", "c0", "c1"]
    assert p.objective == pytest.approx([0.8 / 3, 0.4 / 3, 0.0])
    assert p.method == "greedy"
    assert p.train_datasets == ["d0", "d1", "d2"]


def test_objective_is_submodular_on_hand_matrix():
    loss = HAND.to_numpy()
    a, b, x = [2], [2, 3], 0  # A subset of B; gain of x shrinks: 0.4/3 >= 0.3/3
    gain_a = objective(loss, a) - objective(loss, a + [x])
    gain_b = objective(loss, b) - objective(loss, b + [x])
    assert gain_a == pytest.approx(0.4 / 3)
    assert gain_b == pytest.approx(0.3 / 3)
    assert gain_a >= gain_b


def test_diminishing_returns_on_random_matrices():
    rng = np.random.default_rng(0)
    for _ in range(50):
        loss = rng.random((5, 6))
        a = list(rng.choice(6, size=2, replace=False))
        rest = [c for c in range(6) if c not in a]
        b = a + [rest[0]]
        x = rest[1]
        gain_a = objective(loss, a) - objective(loss, a + [x])
        gain_b = objective(loss, b) - objective(loss, b + [x])
        assert gain_a >= gain_b - 1e-12


def test_greedy_within_one_minus_one_over_e_of_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(20):
        loss = rng.random((6, 8))
        start = loss.max()  # objective of the empty portfolio, bounded by the worst loss
        picked, curve = greedy_order(loss, 3)
        best = min(objective(loss, list(s)) for s in itertools.combinations(range(8), 3))
        assert start - curve[-1] >= (1 - 1 / math.e) * (start - best) - 1e-12
        assert curve[-1] >= best - 1e-12


def test_objective_never_increases_and_size_one_is_best_column():
    rng = np.random.default_rng(2)
    loss = rng.random((7, 9))
    picked, curve = greedy_order(loss, 9)
    assert sorted(picked) == list(range(9))
    assert all(b <= a + 1e-12 for a, b in zip(curve[:-1], curve[1:], strict=True))
    assert picked[0] == int(np.argmin(loss.mean(axis=0)))


def test_ties_broken_by_mean_loss_then_index():
    # After c0, every candidate reaches objective 0; c2 has the lower mean loss, so it precedes c1.
    perf = pd.DataFrame([[0.0, 0.5, 0.5], [0.0, 0.9, 0.2]], columns=["c0", "c1", "c2"])
    p = greedy_portfolio(perf, 3, higher_is_better=False, normalize=False)
    assert p.members == ["c0", "c2", "c1"]
    equal = pd.DataFrame(np.ones((3, 4)), columns=[10, 11, 12, 13])
    assert greedy_portfolio(equal, 4, higher_is_better=False).members == [10, 11, 12, 13]


def test_deterministic_repeat():
    rng = np.random.default_rng(3)
    perf = pd.DataFrame(rng.random((10, 30)))
    a = greedy_portfolio(perf, 8, higher_is_better=True)
    b = greedy_portfolio(perf, 8, higher_is_better=True)
    assert a.members == b.members and a.objective == b.objective


def test_higher_is_better_with_normalisation():
    # accuracies: d0 [0.9, 0.8, 0.5] -> losses [0, 0.25, 1]; d1 [0.5, 0.7, 0.9] -> [1, 0.5, 0]
    perf = pd.DataFrame([[0.9, 0.8, 0.5], [0.5, 0.7, 0.9]], columns=["a", "b", "c"])
    perf.attrs["higher_is_better"] = True
    p = greedy_portfolio(perf, 2)
    # step 1: means 0.5, 0.375, 0.5 -> b; step 2: a -> [0, 0.5] = 0.25, c -> [0.25, 0] = 0.125
    assert p.members == ["b", "c"]
    assert p.objective == pytest.approx([0.375, 0.125])


@pytest.mark.parametrize("size", [0, -1, 5, 2.5, True])
def test_bad_sizes_rejected(size):
    with pytest.raises(ConfigError, match="portfolio size"):
        greedy_portfolio(HAND, size, higher_is_better=False)


def test_size_equal_to_number_of_configurations_accepted():
    assert len(greedy_portfolio(HAND, 4, higher_is_better=False)) == 4


def test_larger_than_configurations_message_names_both_numbers():
    with pytest.raises(ConfigError, match=r"size 5 is larger than the number of configurations available \(4\)"):
        greedy_portfolio(HAND, 5, higher_is_better=False)


def test_validation_split_records_curve_and_selects_size():
    p = greedy_portfolio(HAND, 3, higher_is_better=False, normalize=False, validation=["d2"])
    # trained on d0, d1: means c0 .45, c1 .45, c2 .4, c3 .3 -> c3; then c0 -> [0, .3] = .15
    # (tie with c1, index), then c1 -> 0
    assert p.members == ["c3", "c0", "c1"]
    assert p.objective == pytest.approx([0.3, 0.15, 0.0])
    assert p.validation_datasets == ["d2"]
    assert p.validation_objective == pytest.approx([0.5, 0.5, 0.5])
    chosen = greedy_portfolio(HAND, 3, higher_is_better=False, normalize=False,
                              validation=["d2"], select_size=True)
    assert chosen.members == ["c3"]  # the smallest prefix with the best validation objective


def test_validation_fraction_is_seeded():
    rng = np.random.default_rng(4)
    perf = pd.DataFrame(rng.random((10, 6)))
    a = greedy_portfolio(perf, 3, higher_is_better=True, validation=0.3, seed=5)
    b = greedy_portfolio(perf, 3, higher_is_better=True, validation=0.3, seed=5)
    assert a.validation_datasets == b.validation_datasets and len(a.validation_datasets) == 3
    assert set(a.validation_datasets).isdisjoint(a.train_datasets)


@pytest.mark.parametrize("validation", [0.0, 1.0, ["nope"], ["d0", "d1", "d2"]])
def test_bad_validation_rejected(validation):
    with pytest.raises(ConfigError):
        greedy_portfolio(HAND, 2, higher_is_better=False, validation=validation)


def test_select_size_needs_validation():
    with pytest.raises(ConfigError, match="select_size"):
        greedy_portfolio(HAND, 2, higher_is_better=False, select_size=True)


def test_estimator_api():
    est = GreedyPortfolio(size=2, normalize=False)
    assert est.fit(HAND, higher_is_better=False) is est
    assert est.members_ == ["c2", "c0"]
    assert est.objective_ == pytest.approx([0.8 / 3, 0.4 / 3])


def test_public_names_exist():
    import portfolios

    for name in portfolios.__all__:
        assert hasattr(portfolios, name), name


def test_greedy_properties_on_arbitrary_matrices():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    from portfolios import per_dataset_best_portfolio, random_portfolio, top_average_rank_portfolio

    shapes = st.tuples(st.integers(1, 6), st.integers(1, 7))
    matrices = shapes.flatmap(lambda s: arrays(np.float64, s, elements=st.floats(0, 1)))

    @settings(max_examples=60, deadline=None)
    @given(matrices)
    def check(values):
        perf = pd.DataFrame(values)
        size = values.shape[1]
        p = greedy_portfolio(perf, size, higher_is_better=False, normalize=False)
        # the recorded objective is the portfolio's own curve, and it never increases
        np.testing.assert_allclose(p.objective, portfolio_curve(values, p.members))
        assert all(b <= a + 1e-12 for a, b in zip(p.objective[:-1], p.objective[1:], strict=True))
        # step 1 is the best single configuration: no baseline's first member is better
        for other in (per_dataset_best_portfolio, top_average_rank_portfolio, random_portfolio):
            assert p.objective[0] <= other(perf, 1, higher_is_better=False, normalize=False).objective[0] + 1e-12
        # with every configuration, every dataset reaches its best loss
        assert p.objective[-1] == pytest.approx(values.min(axis=1).mean())

    check()
