from __future__ import annotations

import numpy as np
import pytest
import torch

from nas_meta._errors import ConfigError
from nas_meta.episodes import EpisodeSampler


def test_episode_shapes_labels_and_disjoint_draws(toy_images):
    sampler = EpisodeSampler(toy_images, ways=3, shots=2, queries=4, seed=0)
    ep = sampler.sample(5)
    assert ep.support_x.shape == (5, 6, 1, 16, 16) and ep.query_x.shape == (5, 12, 1, 16, 16)
    assert ep.support_y[0].tolist() == [0, 0, 1, 1, 2, 2]
    assert float(ep.support_x.max()) <= 1.0
    flat = toy_images.reshape(-1, 256).astype(np.float32) / 255
    for b in range(5):
        rows = []
        for x in torch.cat([ep.support_x[b], ep.query_x[b]]):
            rows.append(int(np.flatnonzero((flat == x.reshape(-1).numpy()).all(1))[0]))
        assert len(set(rows)) == len(rows)  # no drawing twice within an episode
        classes = [r // 10 for r in rows]
        assert len(set(classes)) == 3


def test_sampler_is_reproducible(toy_images):
    a = EpisodeSampler(toy_images, 3, 1, 2, seed=7).sample(2)
    b = EpisodeSampler(toy_images, 3, 1, 2, seed=7).sample(2)
    assert torch.equal(a.query_x, b.query_x)


@pytest.mark.parametrize(("ways", "shots", "queries"), [(1, 1, 1), (13, 1, 1), (3, 0, 1), (3, 5, 6)])
def test_sampler_rejects_bad_settings(toy_images, ways, shots, queries):
    with pytest.raises(ConfigError):
        EpisodeSampler(toy_images, ways, shots, queries)


def test_augmentation_distorts_each_image_but_keeps_the_character(toy_images):
    plain = EpisodeSampler(toy_images, 3, 2, 4, seed=3).sample(4)
    aug = EpisodeSampler(toy_images, 3, 2, 4, seed=3, augment=1.0).sample(4)
    assert aug.support_x.shape == plain.support_x.shape and torch.equal(aug.query_y, plain.query_y)
    assert float(aug.query_x.min()) >= 0.0 and float(aug.query_x.max()) <= 1.0
    x, y = plain.query_x.flatten(0, 1), aug.query_x.flatten(0, 1)
    changed = (x - y).abs().flatten(1).amax(1) > 0.05
    assert bool(changed.all())  # every image got its own map; none is left as drawn
    # a small affine map moves the ink, it does not erase or flood the image
    ink_ratio = y.flatten(1).sum(1) / x.flatten(1).sum(1)
    assert float(ink_ratio.min()) > 0.5 and float(ink_ratio.max()) < 1.6
    # the same image under the map stays closer to itself than to another class's drawing
    same = (x - y).pow(2).flatten(1).sum(1)
    other = (x.roll(4, 0) - y).pow(2).flatten(1).sum(1)  # 4 images on: another class
    assert float((same < other).float().mean()) > 0.7


def test_augmentation_is_reproducible_and_off_by_default(toy_images):
    a = EpisodeSampler(toy_images, 3, 1, 2, seed=5, augment=0.5).sample(3)
    b = EpisodeSampler(toy_images, 3, 1, 2, seed=5, augment=0.5).sample(3)
    assert torch.equal(a.query_x, b.query_x)
    plain = EpisodeSampler(toy_images, 3, 1, 2, seed=5).sample(3)
    assert EpisodeSampler(toy_images, 3, 1, 2, seed=5).augment == 0.0
    assert not torch.equal(a.query_x, plain.query_x)


@pytest.mark.parametrize("augment", [-0.1, 1.5])
def test_sampler_rejects_bad_augmentation(toy_images, augment):
    with pytest.raises(ConfigError, match="augment must be a strength in"):
        EpisodeSampler(toy_images, 3, 1, 2, augment=augment)
