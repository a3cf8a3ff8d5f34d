"""The public API of meta_features: registry, validation, edge cases, determinism."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

import meta_features
from metakb.errors import ConfigError, DataError


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_all_names_exist():
    for name in meta_features.__all__:
        assert hasattr(meta_features, name)


def test_registry_one_entry_per_feature_and_groups_known():
    feats = meta_features.list_features()
    assert len(feats) > 80
    assert {f["group"] for f in feats.values()} == set(meta_features.GROUPS)
    for name, info in feats.items():
        assert info["description"] and info["cost"] in ("low", "medium", "high"), name


def test_extract_names_match_registry():
    X, y = _data()
    res = meta_features.extract(X, y, summary=["mean", "sd"])
    expected = set()
    for name, info in meta_features.list_features("classification").items():
        expected |= {f"{name}.mean", f"{name}.sd"} if info["summarised"] else {name}
    assert set(res) == expected
    assert set(res.groups.values()) == set(meta_features.GROUPS)
    assert all(isinstance(v, float) for v in res.values())


def test_every_nan_has_a_reason():
    X, y = _data()
    X[:, 2] = 1.0  # a constant column
    X[3, 1] = np.nan
    res = meta_features.extract(X, y)
    for name, value in res.items():
        if math.isnan(value):
            assert name in res.notes["nan_reasons"], name
    assert "skewness" in res.notes["partial"]


def test_hand_computed_general_and_statistical():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [10.0, 1.0]])
    y = np.array(["a", "a", "b", "b"])
    res = meta_features.extract(X, y, groups=["general", "statistical"],
                                summary=["mean", "min", "max"])
    assert res["nr_inst"] == 4 and res["nr_attr"] == 2 and res["nr_class"] == 2
    assert res["nr_bin"] == 1
    col = X[:, 0]
    m, s = col.mean(), col.std(ddof=1)
    assert res["skewness.max"] == pytest.approx(max(np.mean((col - m) ** 3) / s**3, 0.0))
    assert res["mean.min"] == pytest.approx(0.5) and res["mean.max"] == pytest.approx(4.0)
    assert res["h_mean.min"] == 0.0  # the binary column has a zero
    assert res["cor.mean"] == pytest.approx(abs(np.corrcoef(X.T)[0, 1]))
    assert res["freq_class.mean"] == pytest.approx(0.5)


def test_hand_computed_info_theory():
    X = np.array([[0], [0], [1], [1]], dtype=float)
    y = np.array([0, 0, 1, 1])
    res = meta_features.extract(X, y, groups=["info-theory"], categorical=[0],
                                summary=["mean"])
    assert res["class_ent"] == pytest.approx(1.0)
    assert res["attr_ent.mean"] == pytest.approx(1.0)
    assert res["mut_inf.mean"] == pytest.approx(1.0)
    assert res["joint_ent.mean"] == pytest.approx(1.0)
    assert res["class_conc.mean"] == pytest.approx(1.0)
    assert res["ns_ratio"] == pytest.approx(0.0)
    assert res["eq_num_attr"] == pytest.approx(1.0)


def test_concentration_against_pymfe_formula_without_smoothing():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(200, 3)).astype(float)
    X[:, 1] = (X[:, 0] + rng.integers(0, 2, size=200)) % 3
    y = rng.integers(0, 2, size=200)
    res = meta_features.extract(X, y, groups="info-theory", categorical=[0, 1, 2],
                                summary=["min", "max", "count"])

    def tau(a, b):  # Goodman-Kruskal tau of a given b, by hand
        p = pd.crosstab(a, b, normalize=True).to_numpy()
        row2 = (p.sum(axis=1) ** 2).sum()
        return ((p**2 / p.sum(axis=0)).sum() - row2) / (1 - row2)

    pairs = [tau(X[:, i], X[:, j]) for i in range(3) for j in range(3) if i != j]
    assert res["attr_conc.count"] == 6
    assert res["attr_conc.min"] == pytest.approx(min(pairs))
    assert res["attr_conc.max"] == pytest.approx(max(pairs))
    classes = [tau(X[:, i], y) for i in range(3)]
    assert res["class_conc.max"] == pytest.approx(max(classes))


def test_hand_computed_model_based_and_landmarking():
    X = np.array([[0.0]] * 10 + [[1.0]] * 10)
    y = np.array([0] * 10 + [1] * 10)
    res = meta_features.extract(X, y, groups=["model-based", "landmarking"], summary=["mean"])
    assert res["leaves"] == 2 and res["nodes"] == 1
    assert res["leaves_branch.mean"] == 1
    assert res["best_node.mean"] == 1.0 and res["one_nn.mean"] == 1.0
    assert res["naive_bayes.mean"] == 1.0


def test_vectorised_learners_match_scikit_learn():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.naive_bayes import GaussianNB

    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 4))
    y = np.digitize(X[:, 0] + X[:, 1] + rng.normal(size=90), [-1.0, 1.0])
    res = meta_features.extract(X, y, groups="landmarking", summary=["mean"])
    cv = StratifiedKFold(10)
    assert res["linear_discr.mean"] == pytest.approx(
        cross_val_score(LinearDiscriminantAnalysis(), X, y, cv=cv).mean())
    assert res["naive_bayes.mean"] == pytest.approx(cross_val_score(GaussianNB(), X, y, cv=cv).mean())


def test_dataframe_with_categorical_and_missing():
    frame = pd.DataFrame({
        "num": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
        "colour": pd.Categorical(["r", "g", "r", None, "b", "g"]),
        "text": ["x", "y", "x", "y", "x", "y"],
    })
    y = [0, 1, 0, 1, 0, 1]
    res = meta_features.extract(frame, y)
    assert res["nr_cat"] == 2 and res["nr_num"] == 1
    assert res["nr_missing"] == 2 and res["nr_inst_missing"] == 2
    assert res["cat_values.max"] == 3
    assert not math.isnan(res["attr_ent.mean"])


def test_one_row_classes_and_single_instance_class():
    X, y = _data(n=30)
    y = y.copy()
    y[0] = 7  # a class with a single row
    res = meta_features.extract(X, y)
    assert res["nr_class"] == 3
    assert math.isnan(res["sd_ratio"]) and "sd_ratio" in res.notes["nan_reasons"]
    assert not math.isnan(res["one_nn.mean"])


def test_every_class_single_row_has_no_landmarkers_but_a_reason():
    X = np.arange(6, dtype=float).reshape(3, 2)
    res = meta_features.extract(X, [0, 1, 2])
    assert math.isnan(res["one_nn.mean"])
    assert "cross-validation" in res.notes["nan_reasons"]["one_nn.mean"]


def test_very_wide_data_is_fast_and_uses_a_column_subset():
    X, y = _data(n=50, d=3000)
    start = time.perf_counter()
    res = meta_features.extract(X, y, groups=["statistical"], max_attr_pairs=200)
    seconds = time.perf_counter() - start
    # 0.3 s here with the subset; all 3,000 columns' pairs took 27 s on this 2-core machine
    assert seconds < 10.0, f"{seconds:.1f} s: the column subset is not used"
    assert res.notes["subsampled_attrs"] == 200
    assert not np.isnan(res["cor.mean"])


def test_subsampling_is_reported_and_deterministic():
    X, y = _data(n=400)
    a = meta_features.extract(X, y, max_rows=100, seed=3)
    b = meta_features.extract(X, y, max_rows=100, seed=3)
    assert a.notes["subsampled_rows"] == 100
    assert a["nr_inst"] == 400  # the general group describes all rows
    assert dict(a) == pytest.approx(dict(b), nan_ok=True)
    c = meta_features.extract(X, y, max_rows=100, seed=4)
    assert dict(c) != pytest.approx(dict(a), nan_ok=True)


def test_time_budget_skips_groups():
    X, y = _data()
    res = meta_features.extract(X, y, time_budget=1e-9)
    assert set(res.notes["skipped"]) >= {"landmarking"}
    assert meta_features.extract(X, y, time_budget=100).notes["skipped"] == {}


@pytest.mark.parametrize("kwargs", [
    {"groups": ["general", "nope"]}, {"groups": []}, {"summary": ["avg"]},
    {"max_rows": 2}, {"time_budget": 0},
])
def test_rejects_bad_options(kwargs):
    X, y = _data()
    with pytest.raises(ConfigError):
        meta_features.extract(X, y, **kwargs)


@pytest.mark.parametrize("X, y", [
    (np.zeros((0, 2)), []),
    (np.ones((3, 2)), [0, 1]),
    (np.array([[1.0, np.inf], [2.0, 3.0]]), [0, 1]),
    (np.array([["a", "b"], ["c", "d"]]), [0, 1]),
    (np.ones((2, 2)), [0, None]),
])
def test_rejects_bad_data(X, y):
    with pytest.raises(DataError):
        meta_features.extract(X, y, groups="general")


def test_categorical_indices_and_mask_agree_and_are_validated():
    X, y = _data()
    X[:, 1] = np.round(np.abs(X[:, 1]))
    a = meta_features.extract(X, y, categorical=[1], groups="general")
    b = meta_features.extract(X, y, categorical=np.array([False, True, False, False]),
                              groups="general")
    assert a["nr_cat"] == b["nr_cat"] == 1
    with pytest.raises(DataError):
        meta_features.extract(X, y, categorical=[9])
    with pytest.raises(DataError):
        meta_features.extract(X, y, categorical=np.array([True]))


def test_transformer():
    X, y = _data()
    est = meta_features.MetaFeatureExtractor(groups=["general"], summary=["mean"])
    with pytest.raises(ConfigError):
        est.transform()
    assert est.fit(X, y) is est
    frame = est.transform()
    assert frame.shape == (1, len(est.result_))
    assert list(frame.columns) == est.get_feature_names_out()
    other = est.transform(X[:30], y[:30])
    assert other["nr_inst"].iloc[0] == 30
    with pytest.raises(ConfigError, match="needs both X and y"):  # not the fitted data's features
        est.transform(X[:30])


def test_every_feature_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "meta_features.md").read_text()
    missing = [n for n in meta_features.list_features() if f"`{n}`" not in doc]
    assert not missing
