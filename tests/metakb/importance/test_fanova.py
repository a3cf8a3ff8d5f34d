"""fANOVA on functions whose decomposition is known by hand."""

from __future__ import annotations

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.importance import FANOVA, FanovaResult, pair_label, single_dataset
from metakb.importance._encoding import encode, params_of_space


def _uniform_table(f, n=600, seed=0, names=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    configs = pd.DataFrame(rng.uniform(size=(n, len(names))), columns=list(names))
    space = CS.ConfigurationSpace({name: (0.0, 1.0) for name in names})
    return configs, pd.DataFrame([f(configs)], index=["toy"]), space


def test_additive_function_is_all_main_effects():
    # y = 3a + b on the unit square: Var = 9/12 + 1/12, so a explains 0.9 and b 0.1; c nothing.
    configs, perf, space = _uniform_table(lambda c: 3 * c["a"] + c["b"])
    result = FANOVA(n_trees=32, seed=0, pairs_of_top=None).evaluate(configs, perf, space)
    main = result.per_dataset.iloc[0]
    assert main["a"] == pytest.approx(0.9, abs=0.05)
    assert main["b"] == pytest.approx(0.1, abs=0.04)
    assert main["c"] < 0.02
    assert main.sum() > 0.93
    assert result.pairs_per_dataset.iloc[0].max() < 0.05
    assert result.ranking()[:2] == ["a", "b"]


def test_pure_interaction_is_all_pairwise():
    # y = (a - 1/2)(b - 1/2): both main effects are exactly zero, all variance is the a × b pair.
    configs, perf, space = _uniform_table(lambda c: (c["a"] - 0.5) * (c["b"] - 0.5), n=1000)
    result = FANOVA(n_trees=32, seed=0, pairs_of_top=None).evaluate(configs, perf, space)
    main = result.per_dataset.iloc[0]
    pairs = result.pairs_per_dataset.iloc[0]
    assert main.max() < 0.06
    assert pairs[pair_label("a", "b")] > 0.8
    assert pairs[pair_label("a", "c")] < 0.06


def test_log_scale_and_categorical_hyperparameters():
    # The score depends on log10(lr) linearly and on a categorical; on the log scale lr's marginal
    # is a straight line; the categorical's marginal ranks its choices.
    rng = np.random.default_rng(1)
    n = 600
    configs = pd.DataFrame({"lr": 10 ** rng.uniform(-4, 0, n), "opt": rng.choice(["sgd", "adam", "rms"], n)})
    score = np.log10(configs["lr"]) / 4 + configs["opt"].map({"sgd": 0.0, "adam": 2.0, "rms": 1.0})
    space = CS.ConfigurationSpace({"lr": CS.Float("lr", (1e-4, 1.0), log=True), "opt": ["sgd", "adam", "rms"]})
    configs_, perf = single_dataset(configs.assign(score=score), "score")
    result = FANOVA(seed=0, marginal_points=20).evaluate(configs_, perf, space)
    assert result.ranking() == ["opt", "lr"]
    # Var(opt part) = 2/3, Var(lr part) = Var(U[-1, 0]) = 1/12: opt explains 8/9
    assert result.per_dataset.iloc[0]["opt"] == pytest.approx(8 / 9, abs=0.05)
    assert result.per_dataset.iloc[0]["lr"] == pytest.approx(1 / 9, abs=0.04)
    curve = result.marginals["data"]["opt"]
    assert curve.values == ["sgd", "adam", "rms"]
    assert np.argsort(curve.mean).tolist() == [0, 2, 1]
    lr = result.marginals["data"]["lr"]
    assert lr.log and lr.values[0] == pytest.approx(1e-4) and lr.values[-1] == pytest.approx(1.0)
    assert lr.mean[-1] - lr.mean[0] == pytest.approx(1.0, abs=0.2)


def test_conditional_hyperparameter_is_imputed_and_decomposed():
    # b is active only when a == "on"; the score depends on b only there.
    space = CS.ConfigurationSpace({"a": ["on", "off"], "b": CS.Float("b", (0.0, 1.0), default=0.8)})
    space.add(CS.EqualsCondition(space["b"], space["a"], "on"))
    rng = np.random.default_rng(2)
    a = rng.choice(["on", "off"], 400)
    b = np.where(a == "on", rng.uniform(size=400), np.nan)
    configs = pd.DataFrame({"a": a, "b": b})
    # the forest sees b's default (0.8 on the unit scale) where b is inactive, not a NaN
    x = encode(configs, params_of_space(space))
    np.testing.assert_allclose(x[a == "off", 1], 0.8)
    perf = pd.DataFrame([np.where(a == "on", 2 * b, 0.0)], index=["d"])
    result = FANOVA(seed=0, pairs_of_top=None).evaluate(configs, perf, space)
    assert set(result.hyperparameters) == {"a", "b"}
    main, pair = result.per_dataset.iloc[0], result.pairs_per_dataset.iloc[0][pair_label("a", "b")]
    # With two hyperparameters the decomposition is complete: main effects and the pair
    # explain all of each tree's variance. On the true function (0 wherever a is off) the
    # shares are a .6, b .2, pair .2; the forest extrapolates "off" rows away from b's default
    # from the "on" rows, which moves share to b, but both effects and the pair stay.
    assert main["a"] + main["b"] + pair == pytest.approx(1.0, abs=1e-6)
    assert main["a"] > 0.15 and main["b"] > 0.15 and pair > 0.05


def test_several_datasets_are_aggregated_with_quartiles():
    configs, perf, space = _uniform_table(lambda c: 3 * c["a"] + c["b"], n=300)
    perf2 = pd.concat([perf, pd.DataFrame([configs["b"] * 5 + configs["a"]], index=["other"]),
                       pd.DataFrame([configs["a"] * 2], index=["third"])])
    result = FANOVA(seed=0, pairs_of_top=2).evaluate(configs, perf2, space)
    assert isinstance(result, FanovaResult)
    summary = result.summary()
    assert list(summary.columns) == ["median", "q25", "q75", "mean", "n_datasets"]
    assert summary.loc["a", "n_datasets"] == 3
    assert summary.loc["a", "median"] == pytest.approx(result.per_dataset["a"].median())
    assert (summary["q25"] <= summary["median"]).all() and (summary["median"] <= summary["q75"]).all()
    assert result.pairs_per_dataset.shape == (3, 1)  # one pair among the top 2 on each dataset
    data = result.to_dict()
    assert data["datasets"] == ["toy", "other", "third"]
    assert set(data["marginals"]["toy"]) == {"a", "b", "c"}


def test_reproducible_with_a_seed_and_different_without_the_same_seed():
    configs, perf, space = _uniform_table(lambda c: c["a"] + c["b"] ** 2, n=200)
    one = FANOVA(seed=3).evaluate(configs, perf, space).per_dataset
    two = FANOVA(seed=3).evaluate(configs, perf, space).per_dataset
    other = FANOVA(seed=4).evaluate(configs, perf, space).per_dataset
    pd.testing.assert_frame_equal(one, two)
    assert not one.equals(other)


def test_constant_scores_are_skipped_and_all_constant_is_an_error():
    configs, perf, space = _uniform_table(lambda c: c["a"], n=50)
    both = pd.concat([perf, pd.DataFrame([np.zeros(50)], index=["flat"])])
    result = FANOVA(seed=0).evaluate(configs, both, space)
    assert result.datasets == ["toy"]
    assert "flat" in result.details["skipped"]
    with pytest.raises(DataError, match="could not analyse any dataset"):
        FANOVA(seed=0).evaluate(configs, both.loc[["flat"]], space)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_trees": 0}, "n_trees"), ({"max_features": 0.0}, "max_features"), ({"forest": "gbm"}, "forest kind"),
    ({"split_point": "edge"}, "split_point")])
def test_bad_forest_settings_are_rejected(kwargs, message):
    configs, perf, space = _uniform_table(lambda c: c["a"], n=30)
    with pytest.raises(ConfigError, match=message):
        FANOVA(**kwargs).evaluate(configs, perf, space)


@pytest.mark.parametrize("kwargs", [{"forest": "extra"}, {"split_point": "midpoint"}, {"bootstrap": False}])
def test_other_forest_settings_are_accepted(kwargs):
    configs, perf, space = _uniform_table(lambda c: 3 * c["a"] + c["b"], n=300)
    result = FANOVA(seed=0, **kwargs).evaluate(configs, perf, space)
    assert result.ranking()[:2] == ["a", "b"]
    assert result.per_dataset.iloc[0]["a"] == pytest.approx(0.9, abs=0.06)


def test_bad_tables_are_rejected():
    configs, perf, space = _uniform_table(lambda c: c["a"], n=30)
    with pytest.raises(DataError, match="empty"):
        FANOVA().evaluate(configs, pd.DataFrame(), space)
    with pytest.raises(DataError, match="no performance column"):
        FANOVA().evaluate(configs, perf.set_axis([f"x{i}" for i in range(30)], axis=1), space)
    with pytest.raises(ConfigError, match="not in the space"):
        FANOVA().evaluate(configs, perf, space, hyperparameters=["nope"])
    with pytest.raises(ConfigError, match="lack columns"):
        FANOVA().evaluate(configs.drop(columns=["c"]), perf, space)
    params = params_of_space(space)
    with pytest.raises(DataError, match="at least 2 finite scores"):
        FANOVA().decompose(np.zeros((2, 3)), np.array([1.0, np.nan]), params)
    with pytest.raises(DataError, match="expected \\(n_scores"):
        FANOVA().decompose(np.zeros((2, 2)), np.array([1.0, 2.0]), params)
    with pytest.raises(ConfigError, match="score column"):
        single_dataset(configs, "missing")


def test_pairs_never_active_together_are_left_out():
    space = CS.ConfigurationSpace({"model": ["p", "q"], "p_x": (0.0, 1.0), "q_y": (0.0, 1.0)})
    space.add([CS.EqualsCondition(space["p_x"], space["model"], "p"),
               CS.EqualsCondition(space["q_y"], space["model"], "q")])
    rng = np.random.default_rng(0)
    model = rng.choice(["p", "q"], 300)
    configs = pd.DataFrame({"model": model, "p_x": np.where(model == "p", rng.uniform(size=300), np.nan),
                            "q_y": np.where(model == "q", rng.uniform(size=300), np.nan)})
    score = np.where(model == "p", configs["p_x"], 1 - configs["q_y"])
    result = FANOVA(seed=0, pairs_of_top=None).evaluate(configs, pd.DataFrame([score], index=["d"]), space)
    assert set(result.pairs_per_dataset.columns) == {pair_label("model", "p_x"), pair_label("model", "q_y")}
