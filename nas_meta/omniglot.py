"""Omniglot (Lake et al. 2015) from the two zips of its background set, as 28x28 uint8 arrays.

The PNGs are decoded once and cached as one ``.npz`` (a few MB) so that GPU runs never decode
images. Classes are characters; the meta-train split adds rotations by 90, 180 and 270 degrees
as extra classes (Santoro et al. 2016). The split is by alphabet: Korean and Sanskrit (82
characters) are held out for meta-test, the other 160 characters (Balinese, Early Aramaic,
Greek, Japanese (katakana), Latin, Tagalog) times 4 rotations (640 classes) are for meta-train.
Greek and Latin appear in both zips with identical files; they are read once.

References:
    Lake, Salakhutdinov, Tenenbaum. Human-level concept learning through probabilistic
    program induction. Science 2015.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas_meta._errors import DataError

__all__ = [
    "TEST_ALPHABETS",
    "ZIP_NAMES",
    "OmniglotArrays",
    "build_cache",
    "load_omniglot",
    "split_by_alphabet",
]

ZIP_NAMES = ("images_background_small1.zip", "images_background_small2.zip")
TEST_ALPHABETS = ("Korean", "Sanskrit")
IMAGE_SIZE = 28
CACHE_VERSION = 1


@dataclass(frozen=True)
class OmniglotArrays:
    """Characters as classes: ``images[c, i]`` is drawing ``i`` of character ``c``.

    Attributes:
        images: uint8 array ``(n_classes, n_drawings, 28, 28)``, ink = 255, paper = 0.
        alphabets: the alphabet of each class.
        characters: ``"Alphabet/characterNN"`` of each class.
    """

    images: np.ndarray
    alphabets: tuple[str, ...]
    characters: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DataError(f"images must be a uint8 array (classes, drawings, H, W); got {self.images.dtype} {self.images.shape}")
        if not len(self.alphabets) == len(self.characters) == self.images.shape[0]:
            raise DataError(f"need one alphabet and one name per class ({self.images.shape[0]}); got {len(self.alphabets)} and {len(self.characters)}")

    def select(self, alphabets: Sequence[str], *, keep: bool = True) -> OmniglotArrays:
        """The classes whose alphabet is (``keep=True``) or is not in ``alphabets``."""
        wanted = set(alphabets)
        idx = [i for i, a in enumerate(self.alphabets) if (a in wanted) == keep]
        return OmniglotArrays(self.images[idx], tuple(self.alphabets[i] for i in idx),
                              tuple(self.characters[i] for i in idx))

    def with_rotations(self) -> OmniglotArrays:
        """Each class four times, rotated by 0, 90, 180 and 270 degrees (new classes)."""
        rotated = [np.rot90(self.images, k, axes=(2, 3)) for k in range(4)]
        return OmniglotArrays(np.ascontiguousarray(np.concatenate(rotated)), self.alphabets * 4,
                              tuple(f"{c}@rot{90 * k}" for k in range(4) for c in self.characters))


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        small = img.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    return 255 - np.asarray(small, dtype=np.uint8)  # ink bright on a dark background


def read_zips(folder: str | os.PathLike[str]) -> OmniglotArrays:
    """Decode every PNG of the two zips in ``folder`` (slow: seconds; use :func:`load_omniglot`)."""
    groups: dict[str, dict[str, bytes]] = defaultdict(dict)
    for name in ZIP_NAMES:
        path = Path(folder) / name
        if not path.is_file():
            raise DataError(f"Omniglot zip not found: {path} (expected {', '.join(ZIP_NAMES)})")
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                parts = member.split("/")
                if len(parts) == 4 and parts[3].endswith(".png"):
                    groups[f"{parts[1]}/{parts[2]}"].setdefault(parts[3], zf.read(member))
    if not groups:
        raise DataError(f"no Omniglot PNG found in the zips under {folder}")
    keys = sorted(groups)
    n_draw = min(len(groups[k]) for k in keys)
    images = np.stack([np.stack([_decode(groups[k][f]) for f in sorted(groups[k])[:n_draw]]) for k in keys])
    return OmniglotArrays(images, tuple(k.split("/")[0] for k in keys), tuple(keys))


def build_cache(folder: str | os.PathLike[str], cache: str | os.PathLike[str]) -> Path:
    """Decode the zips once and write the arrays to ``cache`` (an ``.npz`` file)."""
    arrays = read_zips(folder)
    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez_compressed(tmp, images=arrays.images, alphabets=np.array(arrays.alphabets),
                        characters=np.array(arrays.characters), version=np.array(CACHE_VERSION))
    tmp.replace(cache)
    return cache


def default_cache_path() -> Path:
    """``$METAKB_CACHE/omniglot28.npz``, else ``~/.cache/metakb/omniglot28.npz``."""
    root = os.environ.get("METAKB_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "metakb"
    return base / "omniglot28.npz"


def load_omniglot(folder: str | os.PathLike[str] | None = None,
                  cache: str | os.PathLike[str] | None = None) -> OmniglotArrays:
    """The Omniglot arrays, from ``cache`` when it exists, else decoded from ``folder`` and cached.

    Args:
        folder: the folder with the two zips; needed only when the cache is missing.
        cache: the ``.npz`` cache (default :func:`default_cache_path`).

    Raises:
        DataError: the cache is missing and ``folder`` is not given or lacks the zips.
    """
    cache = Path(cache) if cache is not None else default_cache_path()
    if not cache.is_file():
        if folder is None:
            raise DataError(f"Omniglot cache {cache} not found and no data folder given to build it")
        build_cache(folder, cache)
    with np.load(cache, allow_pickle=False) as data:
        if int(data["version"]) != CACHE_VERSION:
            raise DataError(f"Omniglot cache {cache} has version {int(data['version'])}; expected {CACHE_VERSION} (delete it)")
        return OmniglotArrays(data["images"], tuple(str(a) for a in data["alphabets"]),
                              tuple(str(c) for c in data["characters"]))


def split_by_alphabet(arrays: OmniglotArrays, test_alphabets: Sequence[str] = TEST_ALPHABETS,
                      *, rotate_train: bool = True) -> tuple[OmniglotArrays, OmniglotArrays]:
    """Meta-train (other alphabets, with rotations) and meta-test (``test_alphabets``, upright).

    Raises:
        DataError: an alphabet of ``test_alphabets`` is not in the data.
    """
    missing = set(test_alphabets) - set(arrays.alphabets)
    if missing:
        raise DataError(f"test alphabets {sorted(missing)} not in Omniglot; known: {sorted(set(arrays.alphabets))}")
    train = arrays.select(test_alphabets, keep=False)
    test = arrays.select(test_alphabets, keep=True)
    return (train.with_rotations() if rotate_train else train), test
