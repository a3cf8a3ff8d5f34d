"""kNN warm starting against hand-computed neighbours, rankings and provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.warmstart import KNNWarmStarter, MetaFeaturePreprocessor, Recommendation, Source
from metakb.warmstart._knn import pairwise_distance

NAN = np.nan


@pytest.fixture()
def small_kb() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four datasets, one varying meta-feature (a: 0, 1, 4, 10) and one constant one."""
    mf = pd.DataFrame({"a": [0.0, 1.0, 4.0, 10.0], "const": [3.0] * 4}, index=["d1", "d2", "d3", "d4"])
    perf = pd.DataFrame(
        {10: [0.9, 0.95, 0.2, 0.1], 20: [0.8, 0.5, 0.3, 0.1], 30: [0.1, 0.7, 0.4, 0.1], 40: [NAN, 0.6, 0.9, 0.99]},
        index=["d1", "d2", "d3", "d4"])
    return mf, perf


def test_neighbours_are_l1_on_minmax_scaled_features(small_kb):
    mf, perf = small_kb
    ws = KNNWarmStarter(n_neighbors=3).fit(mf, perf)
    # a scaled to [0, .1, .4, 1]; query 1.5 -> .15: distances .15, .05, .25, .85
    near = ws.neighbours({"a": 1.5, "const": 3.0})
    assert [n for n, _ in near] == ["d2", "d1", "d3", "d4"]
    np.testing.assert_allclose([d for _, d in near], [0.05, 0.15, 0.25, 0.85])
    assert ws.preprocessor_.columns_ == ["a"]  # the constant column carries no distance


def test_recommend_follows_auto_sklearn_rule_with_fallback(small_kb):
    mf, perf = small_kb
    ws = KNNWarmStarter(n_neighbors=3).fit(mf, perf)
    recs = ws.recommend(pd.Series({"a": 1.5}), n_configs=4)
    # pass 1: d2's best (10); d1's best is taken -> its 2nd (20); d3's best (40); pass 2: d2's 2nd (30)
    assert [r.configuration_id for r in recs] == [10, 20, 40, 30]
    assert [r.rank for r in recs] == [1, 2, 3, 4]
    assert all(isinstance(r, Recommendation) and r.method == "knn-best" for r in recs)


def test_recommendation_provenance(small_kb):
    mf, perf = small_kb
    recs = KNNWarmStarter(n_neighbors=3).fit(mf, perf).recommend({"a": 1.5}, n_configs=4)
    first = recs[0].sources
    assert first[0] == Source(dataset="d2", distance=pytest.approx(0.05), score=0.95, rank=1, neighbour=1)
    # then the other neighbours, nearest first, with the configuration's score and rank there
    assert [(s.dataset, s.score, s.rank, s.neighbour) for s in first[1:]] == [("d1", 0.9, 1, 2), ("d3", 0.2, 4, 3)]
    second = recs[1].sources[0]
    assert (second.dataset, second.score, second.rank) == ("d1", 0.8, 2)
    # configuration 40 failed on d1: d1 is not listed as a source of it
    assert [s.dataset for s in recs[2].sources] == ["d3", "d2"]
    assert recs[0].to_dict()["sources"][0]["dataset"] == "d2"


def test_recommend_stops_when_neighbours_are_exhausted_and_respects_exclusions(small_kb):
    mf, perf = small_kb
    ws = KNNWarmStarter(n_neighbors=3).fit(mf, perf)
    assert len(ws.recommend({"a": 1.5}, n_configs=10)) == 4
    assert [r.configuration_id for r in ws.recommend({"a": 1.5}, n_configs=3, exclude=[10])] == [30, 20, 40]
    recs = ws.recommend({"a": 1.5}, n_configs=1, exclude_datasets=["d2"])
    assert recs[0].sources[0].dataset == "d1"


def test_lower_is_better_matrix_gives_the_same_ranking(small_kb):
    mf, perf = small_kb
    high = KNNWarmStarter(n_neighbors=3).fit(mf, perf).recommend({"a": 1.5}, n_configs=4)
    low = KNNWarmStarter(n_neighbors=3).fit(mf, -perf, higher_is_better=False).recommend({"a": 1.5}, n_configs=4)
    assert [r.configuration_id for r in high] == [r.configuration_id for r in low]
    attrs = -perf
    attrs.attrs["higher_is_better"] = False
    from_attrs = KNNWarmStarter(n_neighbors=3).fit(mf, attrs).recommend({"a": 1.5}, n_configs=4)
    assert [r.configuration_id for r in from_attrs] == [10, 20, 40, 30]


def test_pairwise_distances_by_hand():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[3.0, 0.0]])
    np.testing.assert_allclose(pairwise_distance(a, b, "l1")[:, 0], [3.0, 4.0])
    np.testing.assert_allclose(pairwise_distance(a, b, "l2")[:, 0], [3.0, 4.0])
    np.testing.assert_allclose(pairwise_distance(a, b, "cosine")[:, 0], [1.0, 0.4])


@pytest.mark.parametrize("metric", ["l1", "l2", "cosine"])
def test_every_metric_is_accepted(small_kb, metric):
    mf, perf = small_kb
    assert len(KNNWarmStarter(metric=metric).fit(mf, perf).recommend({"a": 2.0}, 2)) == 2


@pytest.mark.parametrize("params", [{"n_neighbors": 0}, {"n_neighbors": 2.5}, {"metric": "l3"},
                                    {"scaler": "quantile"}, {"features": ["nope"]}])
def test_invalid_parameters_are_rejected(small_kb, params):
    mf, perf = small_kb
    with pytest.raises(ConfigError):
        KNNWarmStarter(**params).fit(mf, perf)


def test_feature_subset_and_unfitted_and_bad_inputs(small_kb):
    mf, perf = small_kb
    mf = mf.assign(b=[5.0, 0.0, 1.0, 2.0])
    ws = KNNWarmStarter(n_neighbors=1, features=["b"]).fit(mf, perf)
    assert ws.neighbours({"b": 4.9, "a": 0.0})[0][0] == "d1"
    with pytest.raises(ConfigError, match="not fitted"):
        KNNWarmStarter().recommend({"a": 1.0})
    with pytest.raises(ConfigError):
        ws.recommend({"b": 1.0}, n_configs=0)
    with pytest.raises(DataError):
        KNNWarmStarter().fit(mf.rename(index=lambda n: n + "x"), perf)
    with pytest.raises(DataError):
        KNNWarmStarter().fit(mf.assign(a=1.0, b=1.0), perf)


def test_preprocessor_imputes_medians_and_scales_with_training_statistics():
    frame = pd.DataFrame({"x": [0.0, NAN, 10.0, 4.0], "y": [1.0, 2.0, 3.0, np.inf]})
    prep = MetaFeaturePreprocessor().fit(frame)
    # x: median of (0, 10, 4) = 4 -> rows 0, .4, 1, .4 ; y: inf treated as missing, median 2
    np.testing.assert_allclose(prep.transform(frame), [[0, 0], [0.4, 0.5], [1, 1], [0.4, 0.5]])
    np.testing.assert_allclose(prep.transform({"x": 20.0, "y": -7.0}), [[1.0, 0.0]])  # clipped to the training range
    raw = MetaFeaturePreprocessor(clip=False).fit(frame)
    np.testing.assert_allclose(raw.transform({"x": 20.0, "y": -7.0}), [[2.0, -4.0]])
    again = MetaFeaturePreprocessor.from_dict(prep.to_dict())
    np.testing.assert_allclose(again.transform(frame), prep.transform(frame))
    standard = MetaFeaturePreprocessor(scaler="standard", log_transform=True).fit(frame).transform(frame)
    np.testing.assert_allclose(standard.mean(axis=0), 0.0, atol=1e-12)


def test_public_names_exist():
    import metakb.warmstart as ws
    import metakb.warmstart.evaluate as ev

    for module in (ws, ev):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing
    assert isinstance(ws.make_warm_starter("knn", n_neighbors=2), KNNWarmStarter)
    with pytest.raises(ConfigError):
        ws.make_warm_starter("nope")


@pytest.mark.parametrize("seed", range(5))
def test_recommendation_invariants_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 12)), int(rng.integers(1, 15))
    mf = pd.DataFrame(rng.normal(size=(n, 3)), index=[f"d{i}" for i in range(n)], columns=list("abc"))
    values = rng.uniform(size=(n, m))
    values[rng.uniform(size=(n, m)) < 0.3] = NAN
    values[:, 0] = rng.uniform(size=n)  # every dataset has at least one score
    perf = pd.DataFrame(values, index=mf.index, columns=range(100, 100 + m))
    k, n_configs = int(rng.integers(1, 6)), int(rng.integers(1, 20))
    ws = KNNWarmStarter(n_neighbors=k).fit(mf, perf)
    query = dict(zip("abc", rng.normal(size=3), strict=True))
    recs = ws.recommend(query, n_configs)
    near = [name for name, _ in ws.neighbours(query)][:k]
    available = set(perf.loc[near].stack().dropna().index.get_level_values(1))
    ids = [r.configuration_id for r in recs]
    assert len(ids) == len(set(ids)) == min(n_configs, len(available))
    assert [r.rank for r in recs] == list(range(1, len(recs) + 1))
    for rec in recs:
        first = rec.sources[0]
        assert first.dataset == near[first.neighbour - 1]
        assert perf.at[first.dataset, rec.configuration_id] == first.score
