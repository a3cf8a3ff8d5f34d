"""PMLB folders: the dataset list and categorical features from each ``metadata.yaml``."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from metakb.data import load_pmlb, pmlb_datasets
from metakb.errors import DataError


def _types(folder: Path) -> dict[str, str]:
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    return {str(f["name"]): f["type"] for f in meta["features"]}


def test_mushroom_categoricals_come_from_metadata(pmlb_dir):
    folder = pmlb_dir / "mushroom"
    table = load_pmlb(folder)
    types = _types(folder)
    assert (table.name, table.source, table.source_id, table.target) == ("mushroom", "pmlb", "mushroom", "target")
    assert table.n_rows == 8124 and table.n_features == len(types) == 22
    expected = [types[c] == "discrete" for c in table.X.columns]
    assert table.categorical.tolist() == expected
    assert sum(expected) == 17  # 'binary' features stay numeric (0/1 needs no encoding)
    for column, is_categorical in zip(table.X.columns, table.categorical, strict=True):
        if is_categorical:
            assert table.X[column].dtype == object
            assert all(isinstance(v, str) for v in table.X[column].dropna().head(50))
        else:
            assert table.X[column].dtype == np.float64
    assert sorted(table.classes.tolist()) == ["0", "1"]


def test_pmlb_content_hash_is_stable(pmlb_dir):
    first = load_pmlb(pmlb_dir / "analcatdata_aids")
    second = load_pmlb(pmlb_dir / "analcatdata_aids")
    assert first.content_hash() == second.content_hash()
    assert first.content_hash() != load_pmlb(pmlb_dir / "analcatdata_happiness").content_hash()


def test_pmlb_values_match_the_file(pmlb_dir):
    folder = pmlb_dir / "lupus"
    with gzip.open(folder / "lupus.tsv.gz", "rt") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    header, body = rows[0], rows[1:]
    table = load_pmlb(folder)
    assert list(table.X.columns) + ["target"] == header
    assert table.n_rows == len(body)
    assert table.X.iloc[0, 0] == float(body[0][0])
    assert table.y.tolist() == [str(int(float(r[-1]))) for r in body]


def test_pmlb_datasets_lists_classification_only(shared_data, pmlb_dir):
    index = shared_data / "pmlb" / "index.csv"
    with index.open() as handle:
        expected = sorted(r["name"] for r in csv.DictReader(handle) if r["task"] == "classification")
    from_root = pmlb_datasets(shared_data / "pmlb")
    from_datasets = pmlb_datasets(pmlb_dir)
    assert [p.name for p in from_root] == expected
    assert from_datasets == from_root
    assert "mushroom" in expected and "1027_ESL" not in expected  # a regression dataset
    regression = pmlb_datasets(pmlb_dir, task="regression")
    assert "1027_ESL" in [p.name for p in regression]


def test_pmlb_datasets_without_index_reads_metadata(tmp_path, pmlb_dir):
    for name in ("lupus", "1027_ESL"):  # one classification, one regression
        shutil.copytree(pmlb_dir / name, tmp_path / name)
    assert [p.name for p in pmlb_datasets(tmp_path)] == ["lupus"]


def test_pmlb_bad_folders(tmp_path, pmlb_dir):
    with pytest.raises(DataError, match="does not exist"):
        pmlb_datasets(tmp_path / "absent")
    with pytest.raises(DataError, match="no classification datasets"):
        pmlb_datasets(tmp_path)
    (tmp_path / "empty_set").mkdir()
    with pytest.raises(DataError, match=r"empty_set\.tsv\.gz"):
        load_pmlb(tmp_path / "empty_set")


def test_pmlb_without_metadata_has_no_forced_categoricals(tmp_path, pmlb_dir):
    folder = tmp_path / "mushroom"
    folder.mkdir()
    shutil.copy(pmlb_dir / "mushroom" / "mushroom.tsv.gz", folder)
    table = load_pmlb(folder)
    assert not table.categorical.any()  # PMLB encodes every feature as numbers


def test_pmlb_bad_metadata_is_a_data_error(tmp_path, pmlb_dir):
    folder = tmp_path / "lupus"
    shutil.copytree(pmlb_dir / "lupus", folder)
    (folder / "metadata.yaml").write_text("features: [unclosed\n")
    with pytest.raises(DataError, match="cannot parse"):
        load_pmlb(folder)
