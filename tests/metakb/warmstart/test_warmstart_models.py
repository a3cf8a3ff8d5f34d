"""Aggregating kNN, performance models, CF with probes and the RF selector on hand-made matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.warmstart import (
    WARM_STARTERS,
    AggregatingKNNWarmStarter,
    CFWarmStarter,
    KNNWarmStarter,
    PairwiseModelWarmStarter,
    PerformanceModelWarmStarter,
    RFSelectorWarmStarter,
    als_factorise,
    recommend_with_probes,
)
from metakb.warmstart._aggregate import weighted_mean_scores
from metakb.warmstart._base import normalised_scores
from metakb.warmstart.evaluate import evaluate_warm_starting, method_factories

NAN = np.nan


@pytest.fixture()
def small_kb() -> tuple[pd.DataFrame, pd.DataFrame]:
    mf = pd.DataFrame({"a": [0.0, 1.0, 4.0, 10.0]}, index=["d1", "d2", "d3", "d4"])
    perf = pd.DataFrame(
        {10: [0.9, 0.95, 0.2, 0.1], 20: [0.8, 0.5, 0.3, 0.1], 30: [0.1, 0.7, 0.4, 0.1], 40: [NAN, 0.6, 0.9, 0.99]},
        index=["d1", "d2", "d3", "d4"])
    return mf, perf


def _two_cluster_kb(n: int = 20, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Datasets with x < 0 prefer configurations 1..3, x > 0 prefer 4..6 (plus noise)."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-2, -0.5, n // 2), rng.uniform(0.5, 2, n - n // 2)])
    names = [f"d{i}" for i in range(n)]
    good_left = np.array([0.9, 0.85, 0.8, 0.3, 0.25, 0.2])
    good_right = good_left[::-1]
    rows = [(good_left if v < 0 else good_right) + rng.normal(0, 0.01, 6) for v in x]
    mf = pd.DataFrame({"x": x, "noise": rng.normal(size=n)}, index=names)
    return mf, pd.DataFrame(rows, index=names, columns=[1, 2, 3, 4, 5, 6])


def test_normalised_scores_by_hand(small_kb):
    _, perf = small_kb
    z = normalised_scores(perf, True)
    # d1: best .9, worst .1 -> (.8 - .1) / .8 = .875 for 20; NaN stays NaN
    np.testing.assert_allclose(z[0], [1.0, 0.875, 0.0, NAN])
    np.testing.assert_allclose(z[3], [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(normalised_scores(-perf, False), z)


def test_weighted_mean_by_hand():
    scores = np.array([[1.0, 0.0, NAN], [0.0, 1.0, NAN]])
    # weights 1/1 and 1/3 (eps tiny): column 0 = (1*1 + 0) / (4/3) = .75; column 2 has no score
    np.testing.assert_allclose(weighted_mean_scores(scores, np.array([1.0, 3.0]), eps=1e-12), [0.75, 0.25, NAN])


def test_aggregating_knn_ranks_by_weighted_mean_normalised_score(small_kb):
    mf, perf = small_kb
    ws = AggregatingKNNWarmStarter(n_neighbors=2).fit(mf, perf)
    # query a=1.5 -> scaled .15: d2 at .05, d1 at .15 -> weights 20 and 6.67 (eps negligible)
    # normalised: d2 [1, 0, .4444, .2222], d1 [1, .875, 0, NaN]
    w1, w2 = 1 / (0.05 + 1e-6), 1 / (0.15 + 1e-6)
    expected = {10: 1.0, 20: 0.875 * w2 / (w1 + w2), 30: (0.7 - 0.5) / 0.45 * w1 / (w1 + w2), 40: (0.6 - 0.5) / 0.45}
    recs = ws.recommend({"a": 1.5}, n_configs=4)
    assert [r.configuration_id for r in recs] == sorted(expected, key=lambda c: -expected[c])
    assert recs[0].predicted_score == pytest.approx(1.0)
    assert {r.configuration_id: r.predicted_score for r in recs} == pytest.approx(expected)
    assert all(r.method == "knn" for r in recs) and recs[0].sources[0].dataset == "d2"
    # the round-robin rule differs: d2's best, d1's best-but-taken -> its second (20), ...
    assert [r.configuration_id for r in KNNWarmStarter(n_neighbors=2).fit(mf, perf).recommend({"a": 1.5}, 2)] == [10, 20]
    assert [r.configuration_id for r in ws.recommend({"a": 1.5}, 2, exclude=[10])] == [30, 40]  # .333, .222
    with pytest.raises(ConfigError, match="eps"):
        AggregatingKNNWarmStarter(eps=0).fit(mf, perf)


def test_registry_names():
    assert WARM_STARTERS["knn"] is AggregatingKNNWarmStarter and WARM_STARTERS["knn-best"] is KNNWarmStarter
    assert {"rf-model", "pairwise-model", "cf", "rf-selector", "siamese"} <= set(WARM_STARTERS)
    factories, probes = method_factories(["knn", "knn-best-l2", "cf-probe3", "rf-model"])
    assert probes == {"cf-probe3": 3} and factories["knn-best-l2"]().metric == "l2"
    with pytest.raises(ConfigError, match="warm-start method"):
        method_factories(["nope"])


@pytest.mark.parametrize("cls", [PerformanceModelWarmStarter, PairwiseModelWarmStarter, RFSelectorWarmStarter])
def test_models_recommend_the_configurations_of_the_query_side(cls):
    mf, perf = _two_cluster_kb()
    params = {"n_estimators": 30} if cls is not PairwiseModelWarmStarter else {"max_iter": 30}
    ws = cls(**params).fit(mf, perf)
    left = [r.configuration_id for r in ws.recommend({"x": -1.0, "noise": 0.0}, n_configs=3)]
    right = [r.configuration_id for r in ws.recommend({"x": 1.5, "noise": 0.0}, n_configs=3)]
    assert set(left) == {1, 2, 3} and set(right) == {4, 5, 6}
    rec = ws.recommend({"x": -1.0, "noise": 0.0}, n_configs=1, exclude=[1])[0]
    assert rec.configuration_id == 2 and rec.predicted_score is not None and rec.method == cls.method
    # provenance: the nearest datasets that evaluated it, nearest first
    assert len(rec.sources) == 3 and rec.sources[0].distance <= rec.sources[-1].distance
    assert "predicted_score" in rec.to_dict()


def test_model_parameter_errors_name_the_parameter():
    mf, perf = _two_cluster_kb()
    with pytest.raises(ConfigError, match="'n_estimators'.*range"):
        PerformanceModelWarmStarter(n_estimators=0).fit(mf, perf)
    with pytest.raises(ConfigError, match="'max_features'"):
        PerformanceModelWarmStarter(max_features=1.5).fit(mf, perf)
    with pytest.raises(ConfigError, match="not fitted"):
        PerformanceModelWarmStarter().recommend({"x": 0.0})
    with pytest.raises(ConfigError, match="'n_factors'"):
        CFWarmStarter(n_factors=0).fit(mf, perf)


def test_als_recovers_a_planted_low_rank_matrix():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 30))
    mask = rng.random(truth.shape) < 0.3
    observed = np.where(mask, NAN, truth)
    u, v = als_factorise(observed, n_factors=3, reg=1e-3, n_iter=200, seed=0)
    held_out = np.abs((u @ v.T)[mask] - truth[mask])
    assert held_out.mean() < 0.02 * np.abs(truth).mean()  # the hidden 30% are recovered


def test_cf_probes_move_the_latent_vector_towards_the_right_cluster():
    mf, perf = _two_cluster_kb(40)
    ws = CFWarmStarter(n_factors=2).fit(mf, perf)
    # meta-features say "left"; probes say the dataset behaves like the right cluster
    assert [r.configuration_id for r in ws.recommend({"x": -1.0, "noise": 0.0}, n_configs=2)] == [1, 2]
    probes = {1: 0.2, 6: 0.9, 4: 0.8}
    recs = ws.recommend({"x": -1.0, "noise": 0.0}, n_configs=2, probes=probes)
    assert [r.configuration_id for r in recs] == [5, 3] or recs[0].configuration_id == 5
    assert not {r.configuration_id for r in recs} & set(probes)  # probed ones are not recommended again
    # one probe only fixes the offset: the ranking is the meta-feature prior's
    assert [r.configuration_id for r in ws.recommend({"x": -1.0, "noise": 0.0}, 2, probes={6: 0.9})] == [1, 2]
    with pytest.raises(DataError, match="probe configurations"):
        ws.latent_vector({"x": 0.0}, probes={99: 0.5, 1: 0.2})


def test_recommend_with_probes_evaluates_the_portfolio_head():
    mf, perf = _two_cluster_kb(40)
    ws = CFWarmStarter(n_factors=2).fit(mf, perf)
    evaluated: list[int] = []

    def evaluate(config: int) -> float:
        evaluated.append(config)
        return float(perf.iloc[-1][config])  # a "right" dataset

    scores, recs = recommend_with_probes(ws, {"x": 1.0, "noise": 0.0}, evaluate, n_probes=2, n_configs=2)
    assert evaluated == ws.probe_configurations(2) == list(scores)
    assert len(recs) == 2 and not set(scores) & {r.configuration_id for r in recs}


def test_probe_arm_in_the_harness_starts_with_the_portfolio():
    mf, perf = _two_cluster_kb(12)
    factories, probes = method_factories(["cf-probe2"])
    ev = evaluate_warm_starting(mf, perf, factories, ks=(1, 2, 3), probes=probes, folds=3)
    table = ev.regrets.pivot_table(index=["method", "k"], columns="dataset", values="regret")
    # its first two choices are the portfolio's first two, so the regrets agree at k = 1, 2
    np.testing.assert_allclose(table.loc[("cf-probe2", 1)], table.loc[("portfolio", 1)])
    np.testing.assert_allclose(table.loc[("cf-probe2", 2)], table.loc[("portfolio", 2)])
    assert ev.settings["probes"] == {"cf-probe2": 2}
    with pytest.raises(ConfigError, match="does not take probes"):
        evaluate_warm_starting(mf, perf, {"knn": AggregatingKNNWarmStarter}, ks=(1, 2), probes={"knn": 1})
