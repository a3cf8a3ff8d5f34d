"""BOHB: ask/tell in any order, conditional spaces, warm start, validation, determinism."""

from __future__ import annotations

import math

import ConfigSpace as CS
import numpy as np
import pytest

from metakb.errors import ConfigError, NotFoundError
from metakb.optimizers import BOHB, RandomSearch


def test_async_ask_tell_opens_new_brackets_and_promotes(box: CS.ConfigurationSpace) -> None:
    opt = BOHB(box, 1, 9, eta=3, seed=0)
    first = [opt.suggest() for _ in range(9)]
    assert [t.budget for t in first] == [1.0] * 9 and {t.info["bracket"] for t in first} == {0}
    # Bracket 0 waits for its results: the next suggestion opens bracket 1 (s=1: 3 configs at 3).
    nxt = opt.suggest()
    assert nxt.info["bracket"] == 1 and nxt.budget == 3.0
    rng = np.random.default_rng(0)
    losses = {t.trial_id: float(rng.random()) for t in first}
    for t in sorted(first, key=lambda t: -t.trial_id):  # reverse order
        opt.observe(t.trial_id, losses[t.trial_id])
    best3 = sorted(losses, key=losses.get)[:3]
    promoted = [opt.suggest() for _ in range(3)]
    assert [t.budget for t in promoted] == [9.0 / 3] * 3 and {t.info["bracket"] for t in promoted} == {0}
    assert sorted(t.config["x"] for t in promoted) == sorted(
        next(f.config["x"] for f in first if f.trial_id == i) for i in best3)
    with pytest.raises(NotFoundError, match="not in flight"):
        opt.observe(first[0].trial_id, 0.1)
    assert len(opt.pending) == 4


def test_any_observation_order_gives_the_same_promotions(box: CS.ConfigurationSpace) -> None:
    def run(order_seed: int) -> list[dict]:
        opt = BOHB(box, 1, 9, seed=3)
        trials = [opt.suggest() for _ in range(9)]
        order = np.random.default_rng(order_seed).permutation(9)
        for i in order:
            t = trials[i]
            opt.observe(t.trial_id, (t.config["x"] - 0.3) ** 2)
        return [opt.suggest().config for _ in range(3)]

    assert run(0) == run(1) == run(2)


def test_conditional_space_models_and_valid_suggestions(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    opt = BOHB(cond_space, 1, 9, seed=1, random_fraction=0.2)
    result = opt.optimize(cond_loss, n_evaluations=160, progress=False)
    assert len(result.history) == 160
    for r in result.history:  # every suggestion is a valid configuration, inactive ones dropped
        CS.Configuration(cond_space, values=r.config)
        assert ("alpha" in r.config) == (r.config["kind"] == "linear")
    assert opt._models, "a model should have been fitted"
    for good, bad in opt._models.values():
        assert not np.isnan(good.data_).any() and not np.isnan(bad.data_).any()
    picks = [r for r in result.history[80:] if r.info.get("model_based_pick")]
    assert len(picks) > 30
    linear = np.mean([r.config["kind"] == "linear" for r in picks])
    assert linear > 0.5, linear  # the model prefers the best branch (uniform would give 1/3)
    assert result.best_loss < 0.25


def test_seeded_runs_are_reproducible(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    runs = [BOHB(cond_space, 1, 9, seed=7).optimize(cond_loss, n_evaluations=60,
                                                     progress=False) for _ in range(2)]
    assert [r.config for r in runs[0].history] == [r.config for r in runs[1].history]
    other = BOHB(cond_space, 1, 9, seed=8).optimize(cond_loss, n_evaluations=60,
                                                     progress=False)
    assert [r.config for r in other.history] != [r.config for r in runs[0].history]


def test_failed_evaluations_count_as_worst(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    def flaky(config: dict, budget: float) -> float:
        if config["kind"] == "knn":
            raise RuntimeError("boom")
        return cond_loss(config, budget)

    result = BOHB(cond_space, 1, 9, seed=2).optimize(flaky, n_evaluations=30, progress=False)
    crashed = [r for r in result.history if r.info["status"] == "crashed"]
    assert crashed and all(math.isinf(r.loss) and "boom" in r.info["error"] for r in crashed)
    assert math.isfinite(result.best_loss)


def test_initial_configs_first_on_max_budget(cond_space: CS.ConfigurationSpace) -> None:
    init = [{"kind": "linear", "alpha": 0.01, "size": "medium"},
            {"kind": "tree", "depth": 8, "size": "small"}]
    opt = BOHB(cond_space, 1, 9, initial_configs=init, seed=0)
    trials = [opt.suggest() for _ in range(3)]
    assert [t.config for t in trials[:2]] == init
    assert [t.budget for t in trials[:2]] == [9.0, 9.0]
    assert trials[0].info["origin"] == "initial" and trials[2].budget == 1.0
    with pytest.raises(ConfigError, match="initial configuration"):
        BOHB(cond_space, 1, 9, initial_configs=[{"kind": "linear", "alpha": 5.0,
                                                 "size": "small"}])


def test_prior_observations_steer_the_first_suggestions(box: CS.ConfigurationSpace) -> None:
    rng = np.random.default_rng(0)
    points = rng.random((200, 2))
    prior = [({"x": float(x), "y": float(y)}, float((x - 0.1) ** 2 + (y - 0.9) ** 2), 1.0)
             for x, y in points]
    opt = BOHB(box, 1, 9, prior_observations=prior, random_fraction=0.0, seed=0)
    first = [opt.suggest().config for _ in range(9)]
    assert all(c["x"] < 0.4 and c["y"] > 0.6 for c in first), first
    cold = BOHB(box, 1, 9, random_fraction=0.0, seed=0)
    assert not all(c["x"] < 0.4 and c["y"] > 0.6 for c in (cold.suggest().config
                                                           for _ in range(9)))


def test_prior_share_decays_with_own_observations(box: CS.ConfigurationSpace) -> None:
    rng = np.random.default_rng(0)
    prior = [({"x": float(x), "y": float(y)}, float(x), 1.0) for x, y in rng.random((50, 2))]
    opt = BOHB(box, 1, 1, prior_observations=prior, prior_strength=10, seed=0)
    assert opt._current_model()[1] == 1.0
    for _ in range(40):
        t = opt.suggest()
        opt.observe(t.trial_id, t.config["y"])
    model, alpha = opt._current_model()
    assert alpha == pytest.approx(10 / 50)


@pytest.mark.parametrize(("param", "value"), [
    ("eta", 1), ("top_n_percent", 0), ("top_n_percent", 100), ("num_samples", 0),
    ("random_fraction", 1.5), ("bandwidth_factor", 0), ("min_bandwidth", 0),
    ("bracket_rule", "x"), ("prior_strength", 0), ("min_points_in_model", 0)])
def test_rejects_bad_parameters(param: str, value: object, box: CS.ConfigurationSpace) -> None:
    with pytest.raises(ConfigError, match=param):
        BOHB(box, 1, 9, **{param: value})


def test_accepts_boundary_parameters(box: CS.ConfigurationSpace) -> None:
    BOHB(box, 1, 9, eta=2, top_n_percent=1, random_fraction=1.0, num_samples=1)
    BOHB(box, 5, 5)  # one budget: plain BO with a TPE-like model


def test_hpbandster_defaults(cond_space: CS.ConfigurationSpace) -> None:
    opt = BOHB(cond_space, 1, 27)
    assert (opt.eta, opt.top_n_percent, opt.num_samples, opt.bandwidth_factor,
            opt.min_bandwidth) == (3, 15, 64, 3, 1e-3)
    assert opt.random_fraction == pytest.approx(1 / 3)
    assert opt.min_points_ == 4 + 1  # d + 1


def test_random_search(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    opt = RandomSearch(cond_space, budget=9, seed=0)
    result = opt.optimize(cond_loss, n_evaluations=20, progress=False)
    assert len(result.history) == 20 and {r.budget for r in result.history} == {9.0}
    with pytest.raises(ConfigError, match="budget"):
        RandomSearch(cond_space, budget=0)


def test_optimize_limits(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    opt = BOHB(cond_space, 1, 9, seed=0)
    result = opt.optimize(cond_loss, total_budget=27, progress=False)
    assert sum(r.budget for r in result.history) >= 27
    assert sum(r.budget for r in result.history[:-1]) < 27
    assert result.trajectory[-1]["budget_used"] == pytest.approx(
        sum(r.budget for r in result.history))
    with pytest.raises(ConfigError, match="limit"):
        opt.optimize(cond_loss)
    with pytest.raises(ConfigError, match="n_evaluations"):
        opt.optimize(cond_loss, n_evaluations=0)
    timed = opt.optimize(cond_loss, time_budget=0.2, progress=False)
    assert timed.history


def test_failed_configurations_are_never_promoted(cond_space: CS.ConfigurationSpace, cond_loss: object) -> None:
    def flaky(config: dict, budget: float) -> float | None:
        return None if config["kind"] != "linear" else cond_loss(config, budget)

    result = BOHB(cond_space, 1, 9, seed=4).optimize(flaky, n_evaluations=60, progress=False)
    seen: dict[tuple[int, str], float] = {}
    promoted = 0
    for r in result.history:  # arrival order = dispatch order in a serial run
        key = (r.info["bracket"], repr(sorted(r.config.items())))
        if r.info["stage"] > 0 and key in seen:
            assert math.isfinite(seen[key]), r
            promoted += 1
        seen[key] = r.loss
    assert promoted > 5 and any(math.isinf(r.loss) for r in result.history)
