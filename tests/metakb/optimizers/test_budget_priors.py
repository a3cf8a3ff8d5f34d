"""BOHB with a prior per budget: each budget's model is mixed with that budget's prior."""

from __future__ import annotations

import json

import ConfigSpace as CS
import numpy as np
import pytest

from metakb.errors import ConfigError
from metakb.optimizers import BOHB, restore


def _prior(loss, n: int = 120, seed: int = 0) -> list[tuple[dict, float, float]]:
    rng = np.random.default_rng(seed)
    return [({"x": float(x), "y": float(y)}, float(loss(x)), 1.0) for x, y in rng.random((n, 2))]


LOW = _prior(lambda x: x)  # at budget 1 small x is good
FULL = _prior(lambda x: 1 - x, seed=1)  # at budget 9 large x is good


def _observe_first_bracket(opt: BOHB) -> None:
    """Tell the 9 stage-0 trials of the first bracket (budget 1): budget 1 gets a model."""
    for _ in range(9):
        trial = opt.suggest()
        assert trial.budget == 1
        opt.observe(trial.trial_id, trial.config["y"])


def _mean_x(opt: BOHB, n: int = 30) -> float:
    return float(np.mean([opt._sample_config()[0]["x"] for _ in range(n)]))


def test_the_model_of_a_budget_uses_that_budgets_prior(box: CS.ConfigurationSpace) -> None:
    opt = BOHB(box, 1, 9, prior_observations={1: LOW, 9: FULL}, prior_strength=1e6,
               random_fraction=0.0, seed=0)
    assert _mean_x(opt) > 0.6  # no model yet: the full budget's prior
    _observe_first_bracket(opt)
    assert opt._modelled_budget() == 1
    assert _mean_x(opt) < 0.4  # the budget-1 model: the budget-1 prior, not the full one
    # the old single prior (the full budget's, for every budget) steers the same model the other way
    single = BOHB(box, 1, 9, prior_observations=FULL, prior_strength=1e6, random_fraction=0.0, seed=0)
    _observe_first_bracket(single)
    assert _mean_x(single) > 0.6


def test_a_budget_without_its_own_prior_falls_back(box: CS.ConfigurationSpace) -> None:
    opt = BOHB(box, 1, 9, prior_observations={1: LOW, 9: FULL}, seed=0)
    assert opt.prior_for(3) is opt.prior_for(9) and opt.prior_for(1) is not opt.prior_for(9)
    only_low = BOHB(box, 1, 9, prior_observations={1: LOW}, seed=0)
    assert only_low.prior_for(9) is only_low.prior_for(1) is not None  # nothing larger: the largest below
    shared = BOHB(box, 1, 9, prior_observations=FULL, seed=0)  # a sequence: every budget, as before
    assert shared.prior_for(1) is shared.prior_for(9) is shared.prior_kdes_


def test_fractional_budget_keys_match_however_computed(box: CS.ConfigurationSpace) -> None:
    opt = BOHB(box, 1 / 9, 1, prior_observations={3 ** -2: LOW, 1 / 3 / 3 * 3: FULL, 1.0: FULL}, seed=0)
    assert opt.prior_for(opt.budgets_[0]) is not opt.prior_for(1.0)
    assert opt.prior_for(opt.budgets_[1]) is not None


@pytest.mark.parametrize("prior", [{2: LOW}, {0: LOW}, {-1: LOW}, {"1": LOW}, {1: [("x", 1.0, 1.0)]}])
def test_rejects_bad_budget_priors(box: CS.ConfigurationSpace, prior: dict) -> None:
    with pytest.raises(ConfigError, match="prior_observations"):
        BOHB(box, 1, 9, prior_observations=prior)


def test_state_round_trip_keeps_the_budget_priors(box: CS.ConfigurationSpace) -> None:
    opt = BOHB(box, 1, 9, prior_observations={1: LOW, 9: FULL}, prior_strength=1e6, seed=3)
    _observe_first_bracket(opt)
    clone = restore(json.loads(json.dumps(opt.state().to_dict())))
    assert isinstance(clone, BOHB)
    assert set(clone.prior_observations) == {1.0, 9.0}
    assert [clone.suggest().config for _ in range(6)] == [opt.suggest().config for _ in range(6)]
