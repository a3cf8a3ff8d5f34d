"""CUDA-graph replay of the learners' steps: the same numbers as the eager code."""

from __future__ import annotations

import pytest
import torch

from nas_meta.episodes import EpisodeSampler
from nas_meta.graphs import GraphedFunction
from nas_meta.learners import MetaNAS
from nas_meta.train import _batch_size


def test_graphed_function_calls_through_on_cpu() -> None:
    calls = []

    def double(x: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return 2 * x

    fn = GraphedFunction(double)
    assert torch.equal(fn(torch.arange(3.0)), torch.tensor([0.0, 2.0, 4.0]))
    assert fn.n_graphs == 0 and len(calls) == 1


@pytest.mark.parametrize(("episodes", "per_episode", "expected"), [(600, 80, 50), (600, 320, 12), (7, 10, 7),
                                                                  (601, 80, 1), (600, 5000, 1)])
def test_evaluation_batches_divide_the_episodes(episodes: int, per_episode: int, expected: int) -> None:
    size = _batch_size(episodes, per_episode)
    assert size == expected and episodes % size == 0 and size * per_episode <= max(4000, per_episode)


def test_episodes_know_their_ways_without_reading_labels() -> None:
    images = torch.randint(0, 255, (12, 20, 28, 28), dtype=torch.uint8).numpy()
    ep = EpisodeSampler(images, 5, 1, 2, seed=0).sample(3)
    assert ep.n_ways == 5 and ep.ways == 5 and ep.episode(1).ways == 5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("extra", [{}, {"meta_algorithm": "fomaml", "head_init": "proto", "meta_lr": 1e-3}],
                         ids=["reptile-zero-head", "fomaml-proto-head"])
def test_graph_replay_matches_eager_on_cuda(extra: dict) -> None:
    images = torch.randint(0, 255, (12, 20, 28, 28), dtype=torch.uint8).numpy()
    results = []
    for graphs in (False, True):
        sampler = EpisodeSampler(images, 5, 1, 3, device="cuda", seed=0, augment=0.5)  # the same episodes for both
        learner = MetaNAS(channels=4, layers=3, nodes=2, eval_steps=2, finetune_steps=1, inner_steps=2,
                          cuda_graphs=graphs, device="cuda", seed=0, **extra)
        learner._ensure_model()
        for _ in range(3):  # the graph is captured at the first step and replayed at the others
            learner._meta_step(sampler.sample(2), 0.5)
        results.append({k: v.detach().clone() for k, v in learner.model_.state_dict().items()})
        test = EpisodeSampler(images, 5, 1, 3, device="cuda", seed=1)
        for key in ("accuracy", "supernet_accuracy"):  # the graphed evaluation batch, replayed once too
            results[-1][key] = torch.stack([learner._eval_batch(test.sample(4))[key].clone() for _ in range(2)])
    for name, eager in results[0].items():
        torch.testing.assert_close(results[1][name], eager, rtol=1e-4, atol=1e-5, msg=name)
