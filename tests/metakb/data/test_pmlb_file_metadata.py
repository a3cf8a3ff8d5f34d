"""A PMLB file read as a plain file is the same table as its folder read by the build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from metakb.data import load_pmlb, load_table


@pytest.mark.parametrize("name", ["car", "cleve"])
def test_a_pmlb_file_keeps_the_categorical_columns_of_its_metadata(pmlb_dir: Path, name: str) -> None:
    folder = pmlb_dir / name
    if not folder.exists():
        pytest.skip(f"{folder} not found")
    as_file = load_table(folder / f"{name}.tsv.gz", "target")
    as_folder = load_pmlb(folder)
    assert as_file.categorical.any()
    assert list(as_file.categorical) == list(as_folder.categorical)
    assert as_file.content_hash() == as_folder.content_hash()


def test_a_file_renamed_away_from_its_folder_ignores_the_metadata(pmlb_dir: Path, tmp_path: Path) -> None:
    folder = pmlb_dir / "car"
    if not folder.exists():
        pytest.skip(f"{folder} not found")
    shutil.copy(folder / "car.tsv.gz", tmp_path / "mine.tsv.gz")
    shutil.copy(folder / "metadata.yaml", tmp_path / "metadata.yaml")
    assert not load_table(tmp_path / "mine.tsv.gz", "target").categorical.any()
