"""Regression model files (#22): the task is recorded, predictions survive, every refusal holds."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.automl import (
    TRUSTED_TYPES,
    AutoMLClassifier,
    AutoMLRegressor,
    FittedPipelines,
    FittedRegressionPipelines,
    load_model,
    save_model,
)
from metakb.errors import ConfigError, DataError

SPACE = "sklearn-cash-regression"


def _rewrite(src: Path, dst: Path, *, header: dict | None = None, schema=None) -> Path:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "metakb.json" and header is not None:
                data = json.dumps(header).encode()
            if item == "schema.json" and schema is not None:
                data = schema(data)
            zout.writestr(item, data)
    dst.write_bytes(out.getvalue())
    return dst


@pytest.fixture(scope="module")
def fitted() -> AutoMLRegressor:
    """A regressor fitted without a search: a 2-member ensemble (kNN with a quantile-transformed
    target, ridge with log1p) refitted on 80 rows."""
    from metakb.automl._base import _fit_pipeline
    from metakb.automl._regressor import _table_from_xy
    from metakb.spaces import get_search_space

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80),
                      "c": rng.choice(["u", "v"], 80).astype(object)})
    y = 10 + 3 * X["a"].to_numpy() + rng.normal(size=80)
    table = _table_from_xy(X, y)
    defaults = get_search_space(SPACE).defaults()
    configs = [{**defaults["k_neighbors"], "target_transform": "quantile"},
               {**defaults["ridge"], "target_transform": "log1p"}]
    members = [(0.5, c, _fit_pipeline(table, c, 0)) for c in configs]
    est = AutoMLRegressor()
    est.pipelines_ = FittedRegressionPipelines(members, list(table.X.columns), table.categorical)
    est.training_hash_ = table.content_hash()
    est.target_, est.best_config_, est.best_score_ = table.target, configs[0], 0.8
    est.columns_, est.categorical_, est.n_features_in_ = list(table.X.columns), table.categorical, 3
    est.X_ = X
    return est


def test_round_trip_records_the_task_and_keeps_predictions(fitted, tmp_path: Path) -> None:
    path = save_model(fitted, tmp_path / "r.skops")
    model = load_model(path)
    assert isinstance(model.pipelines, FittedRegressionPipelines)
    assert model.task == "regression" and model.classes_ is None
    header = model.metadata
    assert header["task"] == "regression" and header["format_version"] == 2
    assert header["training_hash"] == fitted.training_hash_ and header["labels"] is None
    assert header["weights"] == [0.5, 0.5] and header["feature_columns"] == ["a", "b", "c"]
    predicted = model.predict(fitted.X_)
    assert predicted.dtype == np.float64
    np.testing.assert_array_equal(predicted, fitted.predict(fitted.X_))
    with pytest.raises(ConfigError, match="regression model predicts numbers"):
        model.predict_proba(fitted.X_)
    with pytest.raises(DataError, match=r"lacks training column\(s\) \['b'\]"):
        model.predict(fitted.X_.drop(columns="b"))


def test_only_the_target_wrapper_was_added_to_the_trusted_types(fitted, tmp_path: Path) -> None:
    import skops.io as sio

    untrusted = set(sio.get_untrusted_types(file=save_model(fitted, tmp_path / "r.skops")))
    assert "metakb.spaces._cash_regression.TargetTransformRegressor" in untrusted
    assert untrusted <= set(TRUSTED_TYPES)
    assert [t for t in TRUSTED_TYPES if t.startswith("metakb.")] == [
        "metakb.spaces._cash_regression.TargetTransformRegressor"]


def test_refusals_hold_for_a_regression_model(fitted, tmp_path: Path) -> None:
    good = save_model(fitted, tmp_path / "r.skops")
    text = tmp_path / "text.skops"
    text.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a metakb model file"):
        load_model(text)
    truncated = tmp_path / "trunc.skops"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DataError, match="truncated or damaged"):
        load_model(truncated)
    header = json.loads(zipfile.ZipFile(good).read("metakb.json"))
    with pytest.raises(DataError, match="written by metakb 99.0.0"):
        load_model(_rewrite(good, tmp_path / "new.skops", header={**header, "metakb_version": "99.0.0"}))
    with pytest.raises(DataError, match="model format 3"):
        load_model(_rewrite(good, tmp_path / "fmt.skops", header={**header, "format_version": 3}))
    with pytest.raises(DataError, match="header says classification but its content holds a regression"):
        load_model(_rewrite(good, tmp_path / "mixed.skops", header={**header, "task": "classification"}))
    with pytest.raises(DataError, match="unknown task 'ranking'"):
        load_model(_rewrite(good, tmp_path / "rank.skops", header={**header, "task": "ranking"}))
    # the trusted metakb wrapper's name swapped for os.system: refused before anything is loaded
    evil = _rewrite(good, tmp_path / "evil.skops",
                    schema=lambda b: b.replace(b'"metakb.spaces._cash_regression"', b'"os"')
                    .replace(b'"TargetTransformRegressor"', b'"system"'))
    with pytest.raises(DataError, match="untrusted type"):
        load_model(evil)


def test_a_classifier_file_without_a_task_still_loads_as_a_classifier(tmp_path: Path) -> None:
    """Files written before regression existed have no ``task`` in their header."""
    from metakb.automl._estimator import _fit_pipeline, _table_from_xy
    from metakb.spaces import get_search_space

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    table, labels = _table_from_xy(X, np.where(X["a"] > 0, "yes", "no"))
    config = get_search_space("sklearn-cash").defaults()["k_neighbors"]
    est = AutoMLClassifier()
    est.pipelines_ = FittedPipelines(table.classes, [(1.0, config, _fit_pipeline(table, config, 0))],
                                     list(table.X.columns), table.categorical)
    est.classes_ = np.array([labels[c] for c in table.classes])
    est.training_hash_, est.target_ = table.content_hash(), table.target
    good = save_model(est, tmp_path / "c.skops")
    header = json.loads(zipfile.ZipFile(good).read("metakb.json"))
    assert header["task"] == "classification" and header["format_version"] == 1
    old = {k: v for k, v in header.items() if k != "task"}
    model = load_model(_rewrite(good, tmp_path / "old.skops", header=old))
    assert model.task == "classification" and model.classes_.tolist() == ["no", "yes"]
    assert list(model.predict(X)) == list(est.pipelines_.predict(X))
