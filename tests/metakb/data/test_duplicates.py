"""Near-duplicate detection (issue #24 item 3): a planted copy of a PMLB dataset is found as
kind a, a tiny perturbation of it as kind b, a real change not at all; real PMLB pairs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metakb.data import load_pmlb_task, table_from_frame
from metakb.data.duplicates import (
    DatasetSignature,
    canonical_matrix,
    compare_signatures,
    dataset_signature,
    find_near_duplicates,
)
from metakb.errors import ConfigError


def _frame(table) -> pd.DataFrame:
    frame = table.X.copy()
    frame["target"] = table.y
    return frame


def planted_copy(table, seed: int = 0):
    """``table`` with rows and columns shuffled, columns renamed, the codes of every categorical
    column relabelled and the class labels renamed: the same content, other bytes."""
    rng = np.random.default_rng(seed)
    frame = _frame(table)
    categorical = [c for c, flag in zip(table.X.columns, table.categorical, strict=True) if flag]
    for column in categorical:
        levels = sorted(frame[column].dropna().unique())
        renamed = dict(zip(levels, rng.permutation([f"level{i}" for i in range(len(levels))]), strict=True))
        frame[column] = frame[column].map(renamed)
    labels = sorted(set(frame["target"]))
    frame["target"] = frame["target"].map(dict(zip(labels, [f"class {chr(90 - i)}" for i in range(len(labels))],
                                                   strict=True)))
    frame = frame.iloc[rng.permutation(len(frame)), rng.permutation(frame.shape[1])]
    frame.columns = [f"renamed_{c}" for c in frame.columns]
    return table_from_frame(frame.reset_index(drop=True), "renamed_target", name="planted",
                            categorical=[f"renamed_{c}" for c in categorical])


def _scaled(table, column: str, factor: float):
    frame = _frame(table)
    frame[column] = frame[column] * factor
    categorical = [c for c, flag in zip(table.X.columns, table.categorical, strict=True) if flag]
    return table_from_frame(frame, "target", name="changed", categorical=categorical)


@pytest.fixture(scope="module")
def crx(pmlb_dir):
    return load_pmlb_task(pmlb_dir / "crx")


def test_a_planted_copy_is_the_same_content(crx):
    copy = planted_copy(crx)
    assert copy.content_hash() != crx.content_hash()  # the store would see two datasets
    assert sum(copy.categorical) == sum(crx.categorical) >= 5
    assert set(copy.y) == {"class Z", "class Y"}
    original, planted = dataset_signature(crx), dataset_signature(copy)
    assert planted.canonical_hash == original.canonical_hash
    np.testing.assert_array_equal(canonical_matrix(copy)[0], canonical_matrix(crx)[0])
    verdict = compare_signatures(original, planted)
    assert verdict is not None and verdict.kind == "same-content"


def test_a_tiny_perturbation_is_the_same_statistics(crx):
    nudged = _scaled(crx, "A3", 1 + 1e-9)  # every value moves in its 10th digit
    original, changed = dataset_signature(crx), dataset_signature(nudged)
    assert changed.canonical_hash != original.canonical_hash and changed.coded_hash != original.coded_hash
    verdict = compare_signatures(original, changed)
    assert verdict is not None and verdict.kind == "same-statistics"
    assert "1e-06" in verdict.detail
    # the same perturbation on the planted copy: still found, columns matched as multisets
    verdict = compare_signatures(dataset_signature(planted_copy(nudged, seed=3)), original)
    assert verdict is not None and verdict.kind == "same-statistics"


def test_a_real_change_is_no_near_duplicate(crx):
    changed = _scaled(crx, "A3", 1.01)
    assert compare_signatures(dataset_signature(crx), dataset_signature(changed)) is None
    frame = _frame(crx)
    frame.loc[0, "target"] = "1" if frame.loc[0, "target"] == "0" else "0"  # one label flipped
    flipped = table_from_frame(frame, "target", name="flipped",
                               categorical=[c for c, f in zip(crx.X.columns, crx.categorical, strict=True) if f])
    assert compare_signatures(dataset_signature(crx), dataset_signature(flipped)) is None


def test_a_shifted_code_column_is_found(pmlb_dir):
    """195_auto_price and 207_autoPrice differ only by symboling re-based (-2..3 vs 1..6)."""
    first = dataset_signature(load_pmlb_task(pmlb_dir / "195_auto_price"))
    second = dataset_signature(load_pmlb_task(pmlb_dir / "207_autoPrice"))
    assert first.canonical_hash != second.canonical_hash
    verdict = compare_signatures(first, second)
    assert verdict is not None and verdict.kind == "same-content" and "category codes" in verdict.detail
    # without the coded form, the statistics still match with that one column shifted
    strict = DatasetSignature.from_dict({**second.to_dict(), "coded_hash": "other"})
    verdict = compare_signatures(first, strict)
    assert verdict is not None and verdict.kind == "same-statistics" and "symboling" in verdict.detail


def test_real_pmlb_pair_and_pairs_of_a_collection(crx, pmlb_dir):
    credit_a = dataset_signature(load_pmlb_task(pmlb_dir / "credit_a"))
    signatures = {"crx": dataset_signature(crx), "credit_a": credit_a,
                  "planted": dataset_signature(planted_copy(crx, seed=7)),
                  "other": dataset_signature(load_pmlb_task(pmlb_dir / "analcatdata_aids"))}
    pairs = {(a, b): v.kind for a, b, v in find_near_duplicates(signatures)}
    assert pairs == {("crx", "credit_a"): "same-content", ("crx", "planted"): "same-content",
                     ("credit_a", "planted"): "same-content"}
    only = find_near_duplicates(signatures, among=["planted"])
    assert {(a, b) for a, b, _ in only} == {("crx", "planted"), ("credit_a", "planted")}


def test_signature_round_trips_through_json(crx):
    signature = dataset_signature(crx)
    again = DatasetSignature.from_dict(json.loads(json.dumps(signature.to_dict())))
    assert again.canonical_hash == signature.canonical_hash
    assert compare_signatures(signature, again) is not None
    with pytest.raises(ConfigError, match="malformed"):
        DatasetSignature.from_dict({"version": "1"})


def test_small_tables_and_ties():
    # two levels of equal frequency, told apart only by the rows they sit in
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"], "t": ["p", "q", "p", "q"]})
    swapped = frame.assign(c=frame["c"].map({"a": "b", "b": "a"}))
    one = dataset_signature(table_from_frame(frame, "t", name="one"))
    two = dataset_signature(table_from_frame(swapped, "t", name="two"))
    assert one.canonical_hash == two.canonical_hash
    moved = frame.assign(c=["a", "b", "a", "b"])  # another pairing of the same values: other content
    three = dataset_signature(table_from_frame(moved, "t", name="three"))
    assert three.canonical_hash != one.canonical_hash


def test_bad_tolerance_is_refused(crx):
    signature = dataset_signature(crx)
    with pytest.raises(ConfigError, match="rtol must be in"):
        compare_signatures(signature, signature, rtol=-1)
