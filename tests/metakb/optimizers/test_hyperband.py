"""Hyperband's schedule against the Hyperband paper's table, and successive halving."""

from __future__ import annotations

import numpy as np
import pytest

from metakb.errors import ConfigError
from metakb.optimizers import SuccessiveHalving, bracket_sizes, hyperband_budgets

# Li et al. (JMLR 2018), Table 1: R = 81, eta = 3; per bracket s, (n_i, r_i) of each stage.
PAPER_TABLE = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}


def test_budgets_r81_eta3() -> None:
    np.testing.assert_allclose(hyperband_budgets(1, 81, 3), [1, 3, 9, 27, 81])


@pytest.mark.parametrize("s", sorted(PAPER_TABLE))
def test_paper_table_r81_eta3(s: int) -> None:
    budgets = hyperband_budgets(1, 81, 3)
    sizes = bracket_sizes(s, 4, 3, rule="paper")
    assert list(zip(sizes, budgets[-s - 1:].astype(int).tolist(), strict=True)) == PAPER_TABLE[s]


def test_hpbandster_rule_r81_eta3() -> None:
    # HpBandSter: n0 = floor((s_max + 1) / (s + 1)) * eta**s, computed by hand.
    expected = {4: [81, 27, 9, 3, 1], 3: [27, 9, 3, 1], 2: [9, 3, 1], 1: [6, 2], 0: [5]}
    assert {s: bracket_sizes(s, 4, 3) for s in range(5)} == expected


def test_lcbench_budgets_match_hpbandster() -> None:
    # HpBandSter: max_SH_iter = -int(log(min/max) / log(eta)) + 1 = 4 for 1..52, eta 3.
    np.testing.assert_allclose(hyperband_budgets(1, 52, 3), 52 * 3.0 ** -np.arange(3, -1, -1))


def test_schedule_validation() -> None:
    with pytest.raises(ConfigError, match="min_budget"):
        hyperband_budgets(0, 81, 3)
    with pytest.raises(ConfigError, match="min_budget"):
        hyperband_budgets(10, 5, 3)
    with pytest.raises(ConfigError, match="eta"):
        hyperband_budgets(1, 81, 1)
    with pytest.raises(ConfigError, match="rule"):
        bracket_sizes(1, 4, 3, rule="other")
    with pytest.raises(ConfigError, match="bracket s"):
        bracket_sizes(5, 4, 3)


def _sampler():
    counter = iter(range(1000))
    return lambda budget: {"x": next(counter)}


def test_successive_halving_promotes_the_best_and_waits() -> None:
    bracket = SuccessiveHalving(0, [1, 3, 9], [9, 3, 1])
    sample = _sampler()
    jobs = [bracket.next_job(sample) for _ in range(9)]
    assert bracket.next_job(sample) is None  # stage 0 handed out, waiting for results
    losses = [5, 1, 7, 3, 9, 2, 8, 6, 4]  # best: slots 1, 5, 3
    for (slot, stage, budget, _), loss in zip(jobs, losses, strict=True):
        assert (stage, budget) == (0, 1.0)
        bracket.record(slot, stage, loss)
    assert bracket.stage == 1 and bracket.members[1] == [1, 5, 3]
    stage1 = [bracket.next_job(sample) for _ in range(3)]
    assert [j[0] for j in stage1] == [1, 5, 3] and all(j[2] == 3.0 for j in stage1)
    for slot, stage, _, _ in reversed(stage1):  # results in any order
        bracket.record(slot, stage, {1: 0.5, 5: float("inf"), 3: 0.2}[slot])
    assert bracket.members[2] == [3]
    slot, stage, budget, config = bracket.next_job(sample)
    assert (slot, budget, config) == (3, 9.0, {"x": 3})
    bracket.record(slot, stage, 0.1)
    assert bracket.finished
    with pytest.raises(ConfigError, match="no pending job"):
        bracket.record(slot, stage, 0.1)


def test_successive_halving_round_trip() -> None:
    bracket = SuccessiveHalving(3, [3, 9], [6, 2])
    sample = _sampler()
    for _ in range(6):
        slot, stage, _, _ = bracket.next_job(sample)
        if slot % 2:
            bracket.record(slot, stage, float(slot) if slot != 3 else float("inf"))
    clone = SuccessiveHalving.from_dict(bracket.to_dict())
    assert clone.to_dict() == bracket.to_dict()
    assert clone.results[(0, 3)] == float("inf")


def test_failed_evaluations_are_not_promoted_and_free_slots_get_new_configs() -> None:
    # HpBandSter's BaseIteration: crashed configurations (non-finite loss) never advance; when
    # fewer succeeded than the next stage holds, get_next_run samples new configurations there.
    bracket = SuccessiveHalving(0, [1, 3, 9], [9, 3, 1])
    sample = _sampler()
    jobs = [bracket.next_job(sample) for _ in range(9)]
    inf = float("inf")
    losses = [inf, 0.4, inf, inf, inf, inf, 0.2, inf, inf]  # only slots 1 and 6 succeed
    for (slot, stage, _, _), loss in zip(jobs, losses, strict=True):
        bracket.record(slot, stage, loss)
    assert bracket.members[1] == [6, 1]
    stage1 = [bracket.next_job(sample) for _ in range(3)]
    assert bracket.next_job(sample) is None  # the stage is full, waiting for its results
    assert [(j[0], j[1], j[2]) for j in stage1] == [(6, 1, 3.0), (1, 1, 3.0), (9, 1, 3.0)]
    assert stage1[2][3] == {"x": 9}  # a new configuration, sampled for budget 3
    for slot, stage, _, _ in stage1:
        bracket.record(slot, stage, {6: inf, 1: inf, 9: inf}[slot])
    # Nothing succeeded at stage 1: the last stage is filled by one new configuration.
    assert bracket.stage == 2 and bracket.members[2] == []
    slot, stage, budget, config = bracket.next_job(sample)
    assert (slot, stage, budget, config) == (10, 2, 9.0, {"x": 10})
    bracket.record(slot, stage, 0.3)
    assert bracket.finished


def test_all_successful_promotions_are_unchanged_by_the_failure_rule() -> None:
    bracket = SuccessiveHalving(0, [1, 3], [3, 1])
    sample = _sampler()
    jobs = [bracket.next_job(sample) for _ in range(3)]
    for (slot, stage, _, _), loss in zip(jobs, [0.3, 0.1, 0.2], strict=True):
        bracket.record(slot, stage, loss)
    assert bracket.members[1] == [1] and len(bracket.configs) == 3
