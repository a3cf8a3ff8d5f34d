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
