"""Safe model files: round trip and every refusal (one line, metakb.errors.DataError)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.automl import AutoMLClassifier, FittedPipelines, load_model, save_model
from metakb.errors import DataError


@pytest.fixture(scope="module")
def fitted() -> AutoMLClassifier:
    """An estimator fitted without a search (no worker process): one HGB pipeline refitted."""
    from metakb.automl._estimator import _fit_pipeline, _table_from_xy
    from metakb.spaces import get_search_space

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80),
                      "c": rng.choice(["u", "v"], 80).astype(object)})
    y = np.where(X["a"] > 0, "yes", "no")
    table, labels = _table_from_xy(X, y)
    config = get_search_space("sklearn-cash").defaults()["k_neighbors"]
    est = AutoMLClassifier()
    pipeline = _fit_pipeline(table, config, 0)
    est.pipelines_ = FittedPipelines(table.classes, [(1.0, config, pipeline)], list(table.X.columns),
                                     table.categorical)
    est.classes_ = np.array([labels[c] for c in table.classes])
    est.training_hash_ = table.content_hash()
    est.target_, est.best_config_, est.best_score_ = table.target, config, 0.9
    est.X_ = X
    return est


def test_round_trip_keeps_predictions_and_records_provenance(fitted, tmp_path: Path) -> None:
    path = save_model(fitted, tmp_path / "m.skops")
    model = load_model(path)
    X = fitted.X_
    np.testing.assert_allclose(model.predict_proba(X), fitted.pipelines_.predict_proba(X))
    assert list(model.predict(X)) == list(fitted.pipelines_.predict(X))
    header = model.metadata
    assert header["training_hash"] == fitted.training_hash_
    assert header["feature_columns"] == ["a", "b", "c"]
    assert header["configurations"] == [fitted.best_config_]
    from metakb import __version__
    assert header["metakb_version"] == __version__


def test_prediction_frames_with_a_missing_or_extra_column_are_refused(fitted, tmp_path: Path) -> None:
    model = load_model(save_model(fitted, tmp_path / "m.skops"))
    with pytest.raises(DataError, match=r"lacks training column\(s\) \['b'\]"):
        model.predict(fitted.X_.drop(columns="b"))
    with pytest.raises(DataError, match=r"\['d'\] the model was not trained on"):
        model.predict(fitted.X_.assign(d=1.0))
    with pytest.raises(DataError, match="numeric in training"):
        model.predict(fitted.X_.assign(a="text"))


def _rewrite(src: Path, dst: Path, *, header: dict | None = None, drop_header: bool = False,
             schema=None) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "metakb.json":
                if drop_header:
                    continue
                data = json.dumps(header).encode() if header is not None else data
            if item == "schema.json" and schema is not None:
                data = schema(data)
            zout.writestr(item, data)
    dst.write_bytes(out.getvalue())
    return dst


def test_refusals(fitted, tmp_path: Path) -> None:
    good = save_model(fitted, tmp_path / "m.skops")
    text = tmp_path / "text.skops"
    text.write_text("hello")
    with pytest.raises(DataError, match="not a metakb model file \\(not a skops zip"):
        load_model(text)
    truncated = tmp_path / "trunc.skops"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DataError, match="truncated or damaged"):
        load_model(truncated)
    with pytest.raises(DataError, match="without metakb.json"):
        load_model(_rewrite(good, tmp_path / "nohead.skops", drop_header=True))
    header = json.loads(zipfile.ZipFile(good).read("metakb.json"))
    with pytest.raises(DataError, match="written by metakb 99.0.0"):
        load_model(_rewrite(good, tmp_path / "new.skops", header={**header, "metakb_version": "99.0.0"}))
    with pytest.raises(DataError, match="does not exist"):
        load_model(tmp_path / "absent.skops")
    # a type outside the trusted list (os.system stands for anything a stranger may plant)
    evil = _rewrite(good, tmp_path / "evil.skops",
                    schema=lambda b: b.replace(b'"sklearn.neighbors._classification"', b'"os"')
                    .replace(b'"KNeighborsClassifier"', b'"system"'))
    with pytest.raises(DataError, match="untrusted type"):
        load_model(evil)


def test_save_refuses_an_unfitted_estimator(tmp_path: Path) -> None:
    from metakb.errors import ConfigError

    with pytest.raises(ConfigError, match="not fitted"):
        save_model(AutoMLClassifier(), tmp_path / "m.skops")
    assert not list(tmp_path.iterdir())
