"""A tiny regression build: the space's task picks PMLB's regression datasets, R² ranks them."""

from __future__ import annotations

import json
import math

import pytest

from metakb.errors import DataError
from metakb.store import KnowledgeBase
from metakb.workflows.build import build_from_pmlb

TINY = ["1096_FacultySalaries", "192_vineyard"]


@pytest.fixture(scope="module")
def regression_kb(pmlb_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("rbuild") / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        report = build_from_pmlb(kb, pmlb_dir, space="sklearn-cash-regression", n_configs=3, datasets=TINY,
                                 progress=False, timeout=60)
        rerun = build_from_pmlb(kb, pmlb_dir, space="sklearn-cash-regression", n_configs=3, datasets=TINY,
                                progress=False, timeout=60)
        yield kb, report, rerun


def test_regression_build_stores_a_full_r2_matrix(regression_kb):
    kb, report, rerun = regression_kb
    assert (report.datasets, report.configurations, report.evaluated) == (2, 3, 6)
    assert (rerun.evaluated, rerun.skipped_existing) == (0, 6)
    frame = kb.evaluations()
    assert set(frame["metric"]) == {"r2"}
    assert frame["higher_is_better"].all()
    for text in frame["scores"]:
        scores = json.loads(text)
        assert set(scores) == {"r2", "rmse", "mae"}
        assert scores["rmse"] >= scores["mae"] >= 0 and math.isfinite(scores["r2"])


def test_regression_datasets_are_stored_as_regression_with_target_meta_features(regression_kb):
    kb, _, _ = regression_kb
    datasets = kb.datasets()
    assert set(datasets["task_type"]) == {"regression"}
    assert datasets["n_classes"].isna().all()
    names = set(kb.meta_feature_matrix().columns)
    assert {"y_skewness", "y_kurtosis", "y_cv", "attr_y_cor.mean", "attr_y_mi.mean"} <= names


def test_a_classification_dataset_name_is_refused_for_the_regression_space(pmlb_dir):
    with KnowledgeBase(":memory:") as kb:
        with pytest.raises(DataError, match="not PMLB regression datasets"):
            build_from_pmlb(kb, pmlb_dir, space="sklearn-cash-regression", n_configs=3, datasets=["iris"],
                            progress=False)
        assert kb.datasets().empty
