"""The general group agrees with OpenML's own qualities.xml of dataset 2 (anneal).

OpenML counts the target among the features (NumberOfFeatures = attributes + 1, and the
percentages and Dimensionality divide by it) and counts declared classes, including a class
value that never occurs (ClassCount 6, MinorityClassSize 0); metakb describes the attributes
only and the classes present. Each comparison below states the mapping.
"""

from __future__ import annotations

import re

import arff
import numpy as np
import pandas as pd
import pytest

import meta_features


@pytest.fixture(scope="module")
def anneal(shared_data):
    folder = shared_data / "openml-cache" / "org" / "openml" / "test" / "datasets" / "2"
    if not folder.is_dir():
        pytest.skip(f"OpenML cache not found at {folder}")
    data = arff.loads((folder / "dataset.arff").read_text())
    names = [a[0] for a in data["attributes"]]
    frame = pd.DataFrame(data["data"], columns=names)
    for name, kind in data["attributes"]:
        if isinstance(kind, list):
            frame[name] = pd.Categorical(frame[name], categories=kind)
    text = (folder / "qualities.xml").read_text()
    qualities = {k: float(v) for k, v in re.findall(
        r"<oml:name>(.*?)</oml:name>\s*<oml:value>(.*?)</oml:value>", text)}
    y = frame.pop("class").astype(str)
    return meta_features.extract(frame, y.to_numpy(), groups="general", summary=["mean", "min", "max"]), qualities


def test_counts(anneal):
    res, q = anneal
    assert res["nr_inst"] == q["NumberOfInstances"] == 898
    assert res["nr_attr"] + 1 == q["NumberOfFeatures"]
    assert res["nr_num"] == q["NumberOfNumericFeatures"]
    assert res["nr_missing"] == q["NumberOfMissingValues"]
    assert res["nr_inst_missing"] == q["NumberOfInstancesWithMissingValues"]
    assert res["maj_class_size"] == q["MajorityClassSize"]


def test_ratios(anneal):
    res, q = anneal
    d1 = res["nr_attr"] + 1
    assert res["nr_missing"] / (res["nr_inst"] * d1) == pytest.approx(q["PercentageOfMissingValues"], rel=1e-12)
    assert d1 / res["nr_inst"] == pytest.approx(q["Dimensionality"], rel=1e-12)
    assert res["attr_to_inst"] == pytest.approx(res["nr_attr"] / q["NumberOfInstances"])
    assert res["default_accuracy"] == pytest.approx(q["DefaultAccuracy"], rel=1e-12)
    assert res["nr_num"] / d1 == pytest.approx(q["PercentageOfNumericAtts"], rel=1e-12)


def test_classes(anneal):
    res, q = anneal
    # OpenML declares 6 class values, one of which never occurs (MinorityClassSize 0).
    assert q["MinorityClassSize"] == 0 and res["nr_class"] == q["NumberOfClasses"] - 1
    assert res["min_class_size"] > 0
    assert not np.isnan(res["freq_class.mean"])
