"""Task-type detection and regression-target validation (metakb.data._task)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.data import table_from_frame
from metakb.data._task import (
    MAX_CLASSES,
    as_task_table,
    detect_task,
    load_pmlb_task,
    pmlb_task,
    regression_target,
    task_of_target,
)
from metakb.errors import DataError


@pytest.mark.parametrize(("y", "expected"), [
    (["a", "b", "a"], "classification"),              # rule 2: text
    (["1", "2", "x"], "classification"),              # rule 2: one non-number is enough
    ([0.5, 1.25, 3.0], "regression"),                 # rule 3: non-integral
    (["1.5", "2", "3"], "regression"),                # rule 3 on text
    (["1.0", "2.0", "3.0"], "regression"),            # rule 4: integral written as floats
    (np.array([1.0, 2.0, 3.0]), "regression"),        # rule 4: float dtype
    (["0.0", "1.0", "0.0"], "classification"),        # rule 4 needs > 2 distinct values
    (np.arange(MAX_CLASSES) % MAX_CLASSES, "classification"),   # rule 5: <= 30 integer values
    (np.arange(MAX_CLASSES + 1), "regression"),       # rule 5: 31 integer values
    (["3", "1", None, "2"], "classification"),        # missing values ignored
])
def test_detect_task_rule(y, expected):
    assert detect_task(y) == expected


def test_task_override_wins_and_is_checked():
    assert detect_task(["1", "2", "3"], task="regression") == "regression"
    assert detect_task([0.5, 1.5, 2.5], task="classification") == "classification"
    with pytest.raises(DataError, match="non-numeric values such as 'b'"):
        detect_task(["1", "b", "3"], task="regression")
    with pytest.raises(DataError, match="task must be one of"):
        detect_task([1, 2], task="ranking")


@pytest.mark.parametrize(("y", "message"), [
    ([3.0, 3.0, 3.0], "is constant"),
    ([np.nan, np.nan], "no values"),
    ([1.0, np.inf, 2.0], "infinite values such as inf"),
    (["1", "-inf", "2"], "infinite values such as -inf"),
    (["low", "high", "low"], "non-numeric values such as 'low'"),
    ([1.0, np.nan, 2.0], "1 missing values"),
])
def test_regression_target_refusals_are_one_line(y, message):
    with pytest.raises(DataError, match=message) as info:
        regression_target(y, name="y")
    assert "\n" not in str(info.value)
    assert "'y'" in str(info.value)


def test_regression_target_values_and_dtype():
    out = regression_target(["1", "2.5", "-3e2"])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.5, -300.0])
    assert task_of_target(out) == "regression"
    assert task_of_target(np.array(["a", "b"])) == "classification"


def test_detect_refuses_infinite_target_without_override():
    with pytest.raises(DataError, match="infinite"):
        detect_task(["1.5", "inf", "2"])


def _frame(y):
    return pd.DataFrame({"x": np.arange(len(y), dtype=float), "target": y})


def test_as_task_table_converts_and_keeps_hash_distinct():
    table = table_from_frame(_frame([0.5, 1.5, 2.25, 0.5]), "target", name="t")
    reg = as_task_table(table)
    assert reg.y.dtype == np.float64 and reg.notes["task"] == "regression"
    np.testing.assert_array_equal(reg.y, [0.5, 1.5, 2.25, 0.5])
    assert table.y.dtype.kind == "U"  # the input table is not changed
    cls = as_task_table(table_from_frame(_frame([1, 2, 3, 1]), "target", name="t"))
    assert cls.notes["task"] == "classification" and cls.y.dtype.kind == "U"
    forced = as_task_table(table_from_frame(_frame([1, 2, 3, 1]), "target", name="t"), "regression")
    assert forced.y.dtype == np.float64
    # the same values as another task are another dataset by content
    assert forced.content_hash() != cls.content_hash()


def test_as_task_table_refuses_string_target_as_regression():
    table = table_from_frame(_frame(["a", "b", "a", "c"]), "target", name="t")
    with pytest.raises(DataError, match="regression needs a numeric target"):
        as_task_table(table, "regression")


def test_pollen_and_esl(shared_data):
    root = shared_data / "pmlb" / "datasets"
    pollen = load_pmlb_task(root / "529_pollen")
    assert pollen.notes["task"] == "regression" and pollen.y.dtype == np.float64
    # detection alone agrees for pollen (continuous values, rule 3) ...
    raw = pd.read_csv(root / "529_pollen" / "529_pollen.tsv.gz", sep="\t", dtype=str)["target"]
    assert detect_task(raw) == "regression"
    # ... and for ESL (9 ordinal scores written '6.0': rule 4), which PMLB also declares
    raw = pd.read_csv(root / "1027_ESL" / "1027_ESL.tsv.gz", sep="\t", dtype=str)["target"]
    assert sorted(set(raw.astype(float))) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert detect_task(raw) == "regression"
    assert pmlb_task(root / "1027_ESL") == "regression"
    esl = load_pmlb_task(root / "1027_ESL")
    assert esl.y.dtype == np.float64 and len(np.unique(esl.y)) == 9
    # the override turns it into a 9-class classification
    assert load_pmlb_task(root / "1027_ESL", "classification").classes.size == 9
    assert pmlb_task(root / "iris") == "classification"
