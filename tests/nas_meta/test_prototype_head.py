"""The prototype head (Proto-MAML) and first-order MAML's gradient through it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas_meta._errors import ConfigError
from nas_meta._functional import AdaptConfig, adapt, logits_of, prototype_head
from nas_meta.backbones import Conv4
from nas_meta.episodes import EpisodeSampler
from nas_meta.learners import FOMAML, METHODS, MetaNAS, Reptile


class _Flatten(nn.Module):
    """Features = the pixels: the prototypes can be checked by hand."""

    out_features = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def test_prototype_head_is_nearest_prototype_by_hand():
    x = torch.tensor([[1.0, 0, 0, 0], [3.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 0, 1.0]]).view(4, 1, 2, 2)
    y = torch.tensor([0, 0, 1, 2])
    head = prototype_head(_Flatten(), {}, x, y, ways=3)
    protos = torch.tensor([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 0, 1.0]])  # class means
    assert torch.allclose(head["weight"], 2 * protos)
    assert torch.allclose(head["bias"], torch.tensor([-4.0, -4.0, -1.0]))
    queries = torch.randn(10, 1, 2, 2)
    logits = logits_of(_Flatten(), {}, head, queries)
    squared = torch.cdist(queries.flatten(1), protos).pow(2)
    # logits = -|f - c|^2 + |f|^2: the same softmax and the same ranking as ProtoNet's
    assert torch.allclose(logits, -squared + queries.flatten(1).pow(2).sum(1, keepdim=True), atol=1e-5)


def test_adapt_starts_from_the_prototype_head_when_asked():
    model = Conv4(4, seed=0)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = torch.rand(6, 1, 16, 16), torch.tensor([0, 0, 1, 1, 2, 2])
    _, zero = adapt(model, params, x, y, 3, AdaptConfig(steps=0))
    _, proto = adapt(model, params, x, y, 3, AdaptConfig(steps=0, head_init="proto"))
    assert float(zero["weight"].abs().sum()) == 0.0
    assert torch.allclose(proto["weight"], prototype_head(model, params, x, y, 3)["weight"])


def test_first_order_proto_maml_gradient_is_protonets_when_nothing_adapts(toy_images):
    """With no inner step, first-order Proto-MAML's meta-gradient must be the exact gradient of
    the Prototypical Network loss (the pull-back through the prototypes is the part that a
    plain first-order gradient would miss)."""
    episodes = EpisodeSampler(toy_images, 3, 2, 3, seed=0).sample(2)
    learner = FOMAML(channels=4, head_init="proto", cuda_graphs=False)
    learner._ensure_model()
    cfg = AdaptConfig(steps=0, head_init="proto")
    grads, loss = learner._fomaml_grads(episodes, cfg)

    model = learner.model_
    model.zero_grad()
    losses = []
    for i in range(len(episodes)):
        support, query = model(episodes.support_x[i]), model(episodes.query_x[i])
        protos = torch.stack([support[episodes.support_y[i] == k].mean(0) for k in range(3)])
        losses.append(F.cross_entropy(-torch.cdist(query, protos).pow(2), episodes.query_y[i]))
    reference = torch.stack(losses).mean()
    reference.backward()
    assert float(loss) == pytest.approx(float(reference.detach()), rel=1e-4)
    for name, p in model.named_parameters():
        # (a conv bias before batch norm has an exactly-zero gradient: compare on the scale of the weights')
        scale = float(grads[name.replace("bias", "weight")].abs().max())
        assert torch.allclose(grads[name], p.grad, rtol=1e-3, atol=1e-4 * scale), name
    without_pull_back = learner._fomaml_grads(episodes, AdaptConfig(steps=0))[0]  # zero head: another gradient
    assert not torch.allclose(without_pull_back["body.0.weight"], grads["body.0.weight"])


@pytest.mark.parametrize("method", ["reptile", "fomaml", "metanas"])
def test_every_gradient_learner_takes_the_prototype_head(toy_images, method):
    tiny = {"reptile": {"channels": 16}, "fomaml": {"channels": 16},
            "metanas": {"channels": 4, "layers": 2, "nodes": 1, "arch_warmup": 0.0, "meta_algorithm": "fomaml"}}
    train = EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0, augment=0.3)
    learner = METHODS[method](head_init="proto", inner_steps=1, eval_steps=1, **tiny[method])
    if isinstance(learner, MetaNAS):
        learner.finetune_steps = 1
    learner.fit(train, steps=2, meta_batch=2, show_progress=False)
    test = EpisodeSampler(toy_images[8:], 3, 1, 3, seed=1)
    result = learner.evaluate(test, episodes=4, batch=4, show_progress=False, per_episode=True)
    assert len(result["per_episode"]) == 4 and result["accuracy"] == pytest.approx(sum(result["per_episode"]) / 4)
    assert learner.get_params()["head_init"] == "proto"
    # the prototype head answers before any step: above the zero head's exact 1/3 (chance) by
    # more than four standard errors of chance on these 270 queries
    learner.eval_steps = 0
    if isinstance(learner, MetaNAS):
        learner.finetune_steps = 0
    assert learner.evaluate(test, episodes=30, batch=30, show_progress=False)["accuracy"] > 0.45


def test_unknown_head_init_is_refused():
    with pytest.raises(ConfigError, match="head_init must be one of"):
        Reptile(head_init="learned")
