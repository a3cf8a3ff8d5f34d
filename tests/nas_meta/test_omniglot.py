from __future__ import annotations

import numpy as np
import pytest

from nas_meta._errors import DataError
from nas_meta.omniglot import OmniglotArrays, load_omniglot, split_by_alphabet


@pytest.fixture(scope="session")
def omniglot_cache(shared_data, tmp_path_factory):
    folder = shared_data / "omniglot"
    if not folder.is_dir():
        pytest.skip(f"Omniglot not found at {folder}")
    cache = tmp_path_factory.mktemp("omniglot") / "omniglot28.npz"
    load_omniglot(folder, cache)
    return cache


def test_real_omniglot_split(omniglot_cache):
    arrays = load_omniglot(cache=omniglot_cache)
    # 8 alphabets, Greek and Latin read once: 24+22+24+40+26+47+42+17 characters of 20 drawings.
    assert arrays.images.shape == (242, 20, 28, 28)
    assert arrays.images.dtype == np.uint8
    train, test = split_by_alphabet(arrays)
    assert test.images.shape[0] == 40 + 42 and set(test.alphabets) == {"Korean", "Sanskrit"}
    assert train.images.shape[0] == 4 * 160 and not {"Korean", "Sanskrit"} & set(train.alphabets)
    assert np.array_equal(train.images[160], np.rot90(train.images[0], 1, axes=(1, 2)))


def test_missing_data_and_bad_split(tmp_path):
    with pytest.raises(DataError):
        load_omniglot(None, tmp_path / "absent.npz")
    with pytest.raises(DataError):
        load_omniglot(tmp_path, tmp_path / "absent.npz")
    arrays = OmniglotArrays(np.zeros((2, 3, 4, 4), np.uint8), ("A", "B"), ("A/c1", "B/c1"))
    with pytest.raises(DataError):
        split_by_alphabet(arrays, ["Klingon"])
    assert split_by_alphabet(arrays, ["B"])[0].images.shape[0] == 4
