from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nas_meta._errors import ConfigError
from nas_meta.backbones import Conv4
from nas_meta.ops import PRIMITIVES, DepthwiseConv2d, make_op
from nas_meta.supernet import SearchNetwork


def test_conv4_feature_size_on_28x28():
    assert Conv4(8)(torch.rand(3, 1, 28, 28)).shape == (3, 8)
    with pytest.raises(ConfigError):
        Conv4(0)


def test_supernet_shapes_and_genotype():
    net = SearchNetwork(channels=4, layers=3, nodes=2, seed=1)
    out = net(torch.rand(2, 1, 12, 12))
    assert out.shape == (2, net.out_features) == (2, 2 * 16)
    assert net.genotype().nodes == 2
    with pytest.raises(ConfigError):
        SearchNetwork(channels=4, layers=1)


def test_supernet_with_hard_weights_equals_manual_discrete_sum():
    """One normal cell, one node: with hard weights the node is the sum of its two chosen ops."""
    net = SearchNetwork(channels=2, layers=2, nodes=1, seed=0)
    with torch.no_grad():
        net.alpha_normal.zero_()
        net.alpha_normal[0, PRIMITIVES.index("max_pool_3x3")] = 5.0
        net.alpha_normal[1, PRIMITIVES.index("skip_connect")] = 5.0
    cell = net.cells[0]
    x = torch.rand(2, 6, 6, 6)
    s0, s1 = cell.pre0(x), cell.pre1(x)
    manual = cell.edges[0]._ops[0](s0) + s1  # max_pool (+BN) on input 0, identity on input 1
    hard_n, _ = net.hard_op_weights()
    assert torch.allclose(cell(x, x, hard_n), manual, atol=1e-6)


def test_dense_depthwise_formula_equals_grouped_conv():
    conv = DepthwiseConv2d(3, 5, 2, 4, 2)
    x = torch.rand(2, 3, 9, 9)
    dense = conv.weight * torch.eye(3)[:, :, None, None]
    assert torch.allclose(conv(x), F.conv2d(x, dense, None, 2, 4, 2), atol=1e-5)


def test_make_op_validates_name():
    assert make_op("sep_conv_3x3", 4, 1)(torch.rand(1, 4, 6, 6)).shape == (1, 4, 6, 6)
    with pytest.raises(ConfigError):
        make_op("conv_7x7", 4, 1)


@pytest.mark.parametrize("make", [lambda seed: Conv4(4, seed=seed),
                                  lambda seed: SearchNetwork(4, 2, 1, seed=seed)], ids=["conv4", "supernet"])
def test_seed_fixes_every_initial_value(make):
    torch.manual_seed(1)
    a = make(3).state_dict()
    torch.manual_seed(2)  # the global generator must not matter
    b = make(3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = make(4).state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_scale_features_normalises_rows_and_validates():
    from nas_meta.backbones import check_feature_scale, scale_features

    f = torch.tensor([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    out = scale_features(f, 2.0)
    assert torch.allclose(out, torch.tensor([[1.2, 1.6], [0.0, 0.0], [-2.0, 0.0]]))  # zero row stays finite
    assert scale_features(f, 0.0) is f  # 0: off, untouched
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="feature_scale"):
            check_feature_scale(bad)


def test_feature_scale_puts_soft_and_discretised_supernet_on_one_scale():
    """The point of the option: discretising the cells rescales the pooled features (here
    measured, not assumed), and with ``feature_scale`` both networks' features have norm s."""
    x = torch.rand(6, 1, 12, 12)
    plain = SearchNetwork(channels=4, layers=3, nodes=2, seed=2)
    scaled = SearchNetwork(channels=4, layers=3, nodes=2, feature_scale=3.0, seed=2)
    soft, hard = plain(x).norm(dim=1), plain(x, plain.hard_op_weights()).norm(dim=1)
    assert not torch.allclose(soft, hard, rtol=0.1)  # the two scales differ without the option
    for weights in (None, scaled.hard_op_weights()):
        assert torch.allclose(scaled(x, weights).norm(dim=1), torch.full((6,), 3.0), atol=1e-5)
    # the direction of the features is the plain network's
    assert torch.allclose(F.normalize(plain(x), dim=1), scaled(x) / 3.0, atol=1e-5)
    assert torch.allclose(Conv4(4, feature_scale=2.0)(torch.rand(3, 1, 28, 28)).norm(dim=1),
                          torch.full((3,), 2.0), atol=1e-5)
    with pytest.raises(ConfigError):
        SearchNetwork(channels=4, feature_scale=-2.0)
