"""Fixtures of the nas_meta tests: a tiny synthetic few-shot dataset that runs in seconds."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session")
def toy_images() -> np.ndarray:
    """12 classes x 10 drawings of 16x16 uint8 images: a class is a fixed random 8x8 pattern
    (upsampled), a drawing adds noise and a one-pixel shift, so a few gradient steps can tell
    classes apart."""
    rng = np.random.default_rng(0)
    protos = rng.random((12, 8, 8)) < 0.3
    imgs = np.zeros((12, 10, 8, 8), dtype=np.uint8)
    for c in range(12):
        for d in range(10):
            shifted = np.roll(protos[c], shift=(rng.integers(-1, 2), rng.integers(-1, 2)), axis=(0, 1))
            noise = rng.random((8, 8)) < 0.05
            imgs[c, d] = 255 * (shifted ^ noise)
    return imgs.repeat(2, axis=2).repeat(2, axis=3)
