from __future__ import annotations

import pytest
import torch
from torch import nn

from nas_meta._errors import ConfigError
from nas_meta.maml import MAML


def _setup(first_order: bool):
    net = nn.Linear(1, 1, bias=False)
    net.weight.data.fill_(2.0)
    return net, MAML(net, lr=0.1, first_order=first_order)


@pytest.mark.parametrize(("first_order", "expected_grad"), [(True, -24.0), (False, 19.2)])
def test_maml_gradients_by_hand(first_order, expected_grad):
    # L(w) = (3w - 1)^2, w = 2: dL/dw = 30, w' = 2 - 0.1 * 30 = -1; query grad at w' = 6 * (3w' - 1) = -24;
    # second order multiplies by dw'/dw = 1 - 0.1 * 18 = -0.8.
    net, maml = _setup(first_order)
    x, y = torch.tensor([[3.0]]), torch.tensor([[1.0]])
    learner = maml.clone()
    learner.adapt(((learner(x) - y) ** 2).sum())
    assert learner.params["weight"].item() == pytest.approx(-1.0)
    assert net.weight.item() == pytest.approx(2.0)  # the original is untouched
    ((learner(x) - y) ** 2).sum().backward()
    assert net.weight.grad.item() == pytest.approx(expected_grad, rel=1e-5)


def test_maml_validation():
    net = nn.Linear(1, 1)
    with pytest.raises(ConfigError):
        MAML(net, lr=0.0)
    learner = MAML(net, lr=0.1).clone()
    with pytest.raises(ConfigError):
        learner.adapt(torch.ones(2, requires_grad=True))


def test_maml_warns_on_running_stats():
    with pytest.warns(UserWarning, match="running statistics"):
        MAML(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)), lr=0.1)
