"""The leave-one-dataset-out evaluation on small hand-checked matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.warmstart import KNNWarmStarter, Recommendation
from metakb.warmstart._base import BaseWarmStarter
from metakb.warmstart.evaluate import (
    WarmStartEvaluation,
    evaluate_warm_starting,
    make_folds,
    mean_rank_order,
    normalised_regret,
    random_expected_regret,
)

NAN = np.nan
ROW = pd.Series([0.9, 0.5, NAN, 0.7], index=[1, 2, 3, 4], name="d")


@pytest.mark.parametrize(("chosen", "expected"), [([1], 0.0), ([2], 1.0), ([4], 0.5), ([3], 1.0),
                                                  ([2, 4], 0.5), ([4, 1], 0.0), ([99], 1.0)])
def test_normalised_regret_by_hand(chosen, expected):
    # best .9, worst .5: regret = (.9 - best chosen) / .4; a failed (NaN) or unknown config is the worst
    assert normalised_regret(ROW, chosen) == pytest.approx(expected)
    assert normalised_regret(-ROW, chosen, higher_is_better=False) == pytest.approx(expected)


def test_normalised_regret_edge_cases():
    assert normalised_regret(pd.Series([0.3, 0.3], index=[1, 2]), [2]) == 0.0
    with pytest.raises(DataError):
        normalised_regret(pd.Series([NAN, NAN], index=[1, 2]), [1])
    with pytest.raises(DataError):
        normalised_regret(ROW, [])


def test_random_expected_regret_is_the_exact_mean_over_subsets():
    # regrets sorted: 0 (c1), .5 (c4), 1 (c2), 1 (c3, failed)
    assert random_expected_regret(ROW, 1) == pytest.approx(2.5 / 4)
    # pairs: three containing c1 -> 0; {2,3} -> 1; {2,4}, {3,4} -> .5: mean 2/6
    assert random_expected_regret(ROW, 2) == pytest.approx(1 / 3)
    assert random_expected_regret(ROW, 4) == 0.0
    assert random_expected_regret(ROW, 10) == 0.0


def test_mean_rank_order_by_hand():
    perf = pd.DataFrame([[0.9, 0.5, NAN, 0.7], [0.2, 0.8, 0.6, 0.4]], index=["d1", "d2"], columns=[1, 2, 3, 4])
    # mean ranks: c1 2.5, c2 2, c3 3 (NaN ranks last), c4 2.5 -> ties by id
    assert mean_rank_order(perf, True) == [2, 1, 4, 3]
    assert mean_rank_order(perf, True, candidates=[3, 4]) == [3, 4]  # 1.5 each: tie by id
    assert mean_rank_order(perf.iloc[:1], True, candidates=[3, 4]) == [4, 3]
    assert mean_rank_order(-perf, False) == [2, 1, 4, 3]


def test_make_folds_accepts_and_rejects():
    names = [f"d{i}" for i in range(10)]
    assert make_folds(names, "loo") == {n: i for i, n in enumerate(names)}
    three = make_folds(names, 3, seed=1)
    assert sorted(set(three.values())) == [0, 1, 2] and three == make_folds(names, 3, seed=1)
    given = make_folds(names, {"d0": 5, "d1": 5})
    assert given["d0"] == given["d1"] == 5 and len(set(given.values())) == 9
    for bad in ("kfold", 1, True):
        with pytest.raises(ConfigError):
            make_folds(names, bad)


class _Fixed(BaseWarmStarter):
    """Always recommends the same configurations; records what it was fitted on."""

    method = "fixed"
    seen: list[list[str]] = []

    def __init__(self, ids=(1, 2, 3)):
        self.ids = ids

    def fit(self, meta_features, performance, higher_is_better=None):
        type(self).seen.append(list(performance.index))
        return self

    def recommend(self, query, n_configs=5, exclude=(), exclude_datasets=()):
        return [Recommendation(c, i + 1) for i, c in enumerate(self.ids[:n_configs])]


def test_evaluation_holds_each_dataset_out_and_scores_by_hand():
    perf = pd.DataFrame([[0.9, 0.5, 0.1], [0.1, 0.5, 0.9], [0.8, 0.6, 0.2]], index=["a", "b", "c"], columns=[1, 2, 3])
    mf = pd.DataFrame({"x": [0.0, 1.0, 2.0]}, index=["a", "b", "c"])
    _Fixed.seen = []
    ev = evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1, 2, 5), defaults=[3])
    assert _Fixed.seen == [["b", "c"], ["a", "c"], ["a", "b"]]  # never the held-out dataset
    assert ev.ks == [1, 2]  # 5 > 3 configurations is dropped
    table = ev.regrets.pivot_table(index=["method", "k"], columns="dataset", values="regret")
    # fixed picks 2 then 3: a: (.9-.5)/.8 = .5; b: (.9-.5)/.8 = .5; c: (.8-.6)/.6 = 1/3; with 3: a .5, b 0, c 1/3
    np.testing.assert_allclose(table.loc[("fixed", 1)], [0.5, 0.5, 1 / 3])
    np.testing.assert_allclose(table.loc[("fixed", 2)], [0.5, 0.0, 1 / 3])
    # single-best: without a, mean ranks on b, c all tie at 2 -> smallest id, 1; without b: 1 is
    # first on a and c; without c: all tie again -> 1. Regrets: a 0, b (.9 - .1) / .8 = 1, c 0
    np.testing.assert_allclose(table.loc[("single-best", 1)], [0.0, 1.0, 0.0])
    # the only default is configuration 3 whatever k
    np.testing.assert_allclose(table.loc[("default", 1)], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(table.loc[("default", 2)], [1.0, 0.0, 1.0])
    summary = ev.summary().set_index(["method", "k"])
    assert summary.loc[("fixed", 1), "mean"] == pytest.approx((0.5 + 0.5 + 1 / 3) / 3)
    # greedy portfolio on the training rows (normalised losses): without a it is [2, 3]; without b
    # [1, 2] (1 covers both rows, then the tie goes to the lower mean loss); without c [1, 3]
    np.testing.assert_allclose(table.loc[("portfolio", 1)], [0.5, 1.0, 0.0])
    np.testing.assert_allclose(table.loc[("portfolio", 2)], [0.5, 0.5, 0.0])
    assert set(ev.comparisons()["against"]) == {"random", "single-best", "default", "portfolio"}
    assert ev.to_dict()["settings"]["n_datasets"] == 3


def test_compare_is_a_paired_wilcoxon_test():
    rng = np.random.default_rng(0)
    base = rng.uniform(size=30)
    rows = [{"dataset": f"d{i}", "method": m, "k": 1, "regret": v}
            for i in range(30) for m, v in (("good", base[i] * 0.5), ("random", base[i]), ("same", base[i]))]
    ev = WarmStartEvaluation(regrets=pd.DataFrame(rows), selections=pd.DataFrame(), ks=[1])
    result = ev.compare("good", "random", 1)
    from scipy.stats import wilcoxon

    assert result["p_value"] == pytest.approx(wilcoxon(base * 0.5, base).pvalue)
    assert result["wins"] == 30 and result["mean_diff"] < 0
    assert ev.compare("same", "random", 1)["p_value"] == 1.0
    with pytest.raises(ConfigError):
        ev.compare("nope", "random", 1)


def test_gap_closed_by_hand():
    cost = pd.DataFrame([[1.0, 10.0], [10.0, 1.0], [1.0, 10.0]], index=["a", "b", "c"], columns=[1, 2])
    sel = pd.DataFrame([{"dataset": d, "method": m, "configuration_id": c}
                        for m, picks in (("single-best", (1, 1, 1)), ("perfect", (1, 2, 1)), ("bad", (2, 2, 1)))
                        for d, c in zip("abc", picks, strict=True)])
    ev = WarmStartEvaluation(regrets=pd.DataFrame(), selections=sel, ks=[1],
                             settings={"higher_is_better": False}, performance=cost)
    gap = ev.gap_closed().set_index("method")
    # SBS mean 4, VBS mean 1: perfect 1 -> 1.0; bad (10 + 1 + 1) / 3 = 4 -> 0.0
    assert gap.loc["perfect", "gap_closed"] == pytest.approx(1.0)
    assert gap.loc["bad", "gap_closed"] == pytest.approx(0.0)
    assert gap.loc["single-best", "sbs"] == pytest.approx(4.0) and gap.loc["perfect", "vbs"] == pytest.approx(1.0)


def test_knn_beats_random_on_a_matrix_driven_by_its_meta_features():
    rng = np.random.default_rng(3)
    n, m = 40, 30
    mf = pd.DataFrame(rng.normal(size=(n, 3)), index=[f"d{i}" for i in range(n)], columns=["a", "b", "c"])
    perf = pd.DataFrame(mf.to_numpy() @ rng.normal(size=(3, m)), index=mf.index, columns=range(m))
    ev = evaluate_warm_starting(mf, perf, {"knn": KNNWarmStarter}, ks=(1, 5))
    result = ev.compare("knn", "random", 5)
    assert result["mean_diff"] < 0 and result["p_value"] < 0.01


def test_a_method_may_have_its_own_folds():
    names = [f"d{i}" for i in range(6)]
    rng = np.random.default_rng(0)
    perf = pd.DataFrame(rng.uniform(size=(6, 4)), index=names, columns=[1, 2, 3, 4])
    mf = pd.DataFrame({"x": rng.normal(size=6)}, index=names)
    _Fixed.seen = []
    ev = evaluate_warm_starting(mf, perf, {"fixed": _Fixed, "knn": KNNWarmStarter}, ks=(1, 2),
                                method_folds={"fixed": 3}, seed=4)
    folds = make_folds(names, 3, seed=4)
    assert len(_Fixed.seen) == 3  # three fits instead of six
    for train in _Fixed.seen:
        held_out = sorted(set(names) - set(train))
        assert len({folds[d] for d in held_out}) == 1 and len(held_out) == 2
    assert set(ev.regrets["method"]) == {"random", "single-best", "portfolio", "fixed", "knn"}
    assert len(ev.regrets) == 6 * 2 * 5 and ev.settings["method_folds"] == {"fixed": 3}
    with pytest.raises(ConfigError):
        evaluate_warm_starting(mf, perf, {"knn": KNNWarmStarter}, method_folds={"nope": 3})


def test_a_dataset_with_one_scored_cell_is_left_out_and_reported():
    """A single ``metakb run`` on a new dataset gives it one scored cell: it would get regret 0
    for every method, so it does not enter the evaluation, and the report says so."""
    from metakb.warmstart import format_evaluation

    perf = pd.DataFrame([[0.9, 0.5, 0.1], [0.1, 0.5, 0.9], [0.8, 0.6, 0.2], [np.nan, 0.7, np.nan]],
                        index=["a", "b", "c", "new"], columns=[1, 2, 3])
    mf = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}, index=perf.index)
    _Fixed.seen = []
    ev = evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1,), defaults=[3])
    assert set(ev.regrets["dataset"]) == {"a", "b", "c"}
    assert all("new" not in seen for seen in _Fixed.seen)  # not a training row either
    settings = ev.to_dict()["settings"]
    assert settings["n_datasets"] == 3 and settings["left_out_datasets"] == ["new"]
    assert "left out: 1 dataset(s)" in format_evaluation(ev)


def test_a_candidate_found_only_on_the_held_out_dataset_is_not_offered_to_it():
    """Tuned candidates (#24): configuration 99 is the best everywhere, but it was found only by
    the search on d0, so d0's recommendations (methods and baselines) never include it; the
    others, whose searches it does not come from, get it first. A candidate found on d0 and on
    d1 stays visible to both."""
    rng = np.random.default_rng(0)
    names = [f"d{i}" for i in range(6)]
    performance = pd.DataFrame(rng.uniform(0.2, 0.8, size=(6, 5)), index=names, columns=[1, 2, 3, 4, 99])
    performance[99] = 0.95
    meta_features = pd.DataFrame({"f": np.arange(6.0)}, index=names)
    methods = {"knn": lambda: KNNWarmStarter(n_neighbors=2)}
    ev = evaluate_warm_starting(meta_features, performance, methods, ks=(1, 2), found_on={99: {"d0"}})
    first = ev.selections.set_index(["dataset", "method"])["configuration_id"]
    for method in ("knn", "single-best"):
        assert first[("d0", method)] != 99
        assert all(first[(d, method)] == 99 for d in names[1:])
    assert ev.settings["own_candidates_hidden"] == {"d0": [99]}
    regret = ev.regrets.set_index(["dataset", "method", "k"])["regret"]
    assert regret[("d0", "knn", 1)] > 0 and regret[("d1", "knn", 1)] == 0  # the hidden cell still counts in d0's row
    shared = evaluate_warm_starting(meta_features, performance, methods, ks=(1,), found_on={99: {"d0", "d1"}})
    assert shared.settings["own_candidates_hidden"] == {}
    with pytest.raises(ConfigError, match="found_on"):
        evaluate_warm_starting(meta_features, performance, methods, ks=(1,), found_on=[99])


def test_a_reference_scales_the_regret_and_lets_a_better_configuration_go_below_zero():
    # reference {2, 4}: best .7, worst .5, so c1 (.9) is one reference span better: regret -1
    assert normalised_regret(ROW, [1], reference=[2, 4]) == pytest.approx(-1.0)
    assert normalised_regret(ROW, [4], reference=[2, 4]) == pytest.approx(0.0)
    assert normalised_regret(ROW, [3], reference=[2, 4]) == pytest.approx(1.0)  # failed: the reference's worst
    assert normalised_regret(ROW, [4], reference=[1, 2, 3, 4]) == normalised_regret(ROW, [4])
    # random over all four columns, regrets -1 (c1), 0 (c4), 1 (c2), 1 (c3): one draw, mean .25
    assert random_expected_regret(ROW, 1, reference=[2, 4]) == pytest.approx(0.25)
    assert random_expected_regret(ROW, 2, reference=[1, 2, 3, 4]) == random_expected_regret(ROW, 2)
    with pytest.raises(DataError, match="reference"):
        normalised_regret(ROW, [1], reference=[3])


def test_an_evaluation_against_the_old_configurations_keeps_their_yardstick():
    """A grown matrix (#24): configuration 99 was added by a tuned search on d5 and beats every
    old configuration on every dataset. Scaled by the old configurations, a method that
    recommends it gets a negative regret; scaled by the whole row it would get 0 either way."""
    rng = np.random.default_rng(1)
    names = [f"d{i}" for i in range(6)]
    performance = pd.DataFrame(rng.uniform(0.2, 0.8, size=(6, 4)), index=names, columns=[1, 2, 3, 4])
    performance[99] = 0.95
    meta_features = pd.DataFrame({"f": np.arange(6.0)}, index=names)
    methods = {"knn": lambda: KNNWarmStarter(n_neighbors=2)}
    old = [1, 2, 3, 4]
    ev = evaluate_warm_starting(meta_features, performance, methods, ks=(1,), found_on={99: {"d5"}}, reference=old)
    regret = ev.regrets.set_index(["dataset", "method", "k"])["regret"]
    for d in names[:5]:  # 99 is offered to them and is the single best: below the old oracle
        best_old = performance.loc[d, old].max()
        expected = (best_old - 0.95) / (best_old - performance.loc[d, old].min())
        assert regret[(d, "single-best", 1)] == pytest.approx(expected) and expected < 0
    assert regret[("d5", "single-best", 1)] >= 0  # its own candidate is hidden from it
    assert ev.settings["regret_reference"] == old
    gap = ev.gap_closed().set_index("method")
    assert gap.loc["single-best", "vbs"] == pytest.approx(performance[old].max(axis=1).mean())
    whole = evaluate_warm_starting(meta_features, performance, methods, ks=(1,), found_on={99: {"d5"}})
    assert whole.regrets["regret"].min() >= 0 and whole.settings["regret_reference"] is None
    with pytest.raises(ConfigError, match="reference"):
        evaluate_warm_starting(meta_features, performance, methods, ks=(1,), reference=[1, 7])


def test_regrets_are_measured_on_truth_while_the_methods_learn_from_performance():
    """The training side may average more seeds for some cells (benchmarks/confirmed_top.py);
    the held-out regrets then come from ``truth``, one yardstick for every arm."""
    perf = pd.DataFrame([[0.9, 0.5, 0.1], [0.1, 0.5, 0.9], [0.8, 0.6, 0.2]], index=["a", "b", "c"], columns=[1, 2, 3])
    truth = perf.copy()
    truth.loc["a"] = [0.5, 0.9, 0.1]  # on a, 2 is truly best: fixed's first pick (2) has regret 0
    mf = pd.DataFrame({"x": [0.0, 1.0, 2.0]}, index=["a", "b", "c"])
    _Fixed.seen = []
    ev = evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1,), truth=truth)
    table = ev.regrets.pivot_table(index=["method", "k"], columns="dataset", values="regret")
    np.testing.assert_allclose(table.loc[("fixed", 1)], [0.0, 0.5, 1 / 3])  # a from truth, b and c as before
    # single-best learns from perf (configuration 1 for every fold), so on a it is truth's middle
    np.testing.assert_allclose(table.loc[("single-best", 1)], [0.5, 1.0, 0.0])
    assert ev.settings["regrets_on"] == "truth"
    assert evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1,)).settings["regrets_on"] == "performance"
    with pytest.raises(ConfigError, match="truth must hold"):
        evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1,), truth=truth.drop(index="b"))
    with pytest.raises(ConfigError, match="truth must be"):
        evaluate_warm_starting(mf, perf, {"fixed": lambda: _Fixed((2, 3))}, ks=(1,), truth=truth.to_numpy())
