from __future__ import annotations

import pytest
import torch

from nas_meta._errors import ConfigError
from nas_meta.genotypes import Genotype, discretise, hard_weights, n_edges, parameter_free_share
from nas_meta.ops import PRIMITIVES

IDX = {p: i for i, p in enumerate(PRIMITIVES)}


def _alpha(nodes: int, picks: dict[int, tuple[str, float]]) -> torch.Tensor:
    """Zero logits except ``picks[edge] = (op, logit)``."""
    a = torch.zeros(n_edges(nodes), len(PRIMITIVES))
    for edge, (op, value) in picks.items():
        a[edge, IDX[op]] = value
    return a


def test_n_edges_by_hand():
    assert [n_edges(k) for k in (1, 2, 3, 4)] == [2, 5, 9, 14]


def test_discretise_picks_argmax_op_and_top2_edges():
    # nodes=2: node 0 has edges 0,1 (inputs 0,1); node 1 has edges 2,3,4 (inputs 0,1,2).
    a = _alpha(2, {0: ("sep_conv_3x3", 2.0), 1: ("max_pool_3x3", 1.0), 2: ("skip_connect", 0.5),
                   3: ("dil_conv_5x5", 3.0), 4: ("avg_pool_3x3", 2.5)})
    g = discretise(a, a)
    assert g.normal == (("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("dil_conv_5x5", 1), ("avg_pool_3x3", 2))
    # A strong "none" is never chosen but weakens its edge (strengths are softmax over all ops).
    a[3, IDX["none"]] = 10.0
    assert discretise(a, a).normal[2:] == (("skip_connect", 0), ("avg_pool_3x3", 2))
    assert g.nodes == 2


def test_hard_weights_match_discretise():
    torch.manual_seed(0)
    a = torch.randn(n_edges(3), len(PRIMITIVES))
    g = discretise(a, a)
    hw = hard_weights(a, 3)
    chosen = {(int(e), PRIMITIVES[int(o)]) for e, o in hw.nonzero().tolist()}
    expected, start = set(), 0
    for j in range(3):
        for k in (2 * j, 2 * j + 1):
            op, src = g.normal[k]
            expected.add((start + src, op))
        start += j + 2
    assert chosen == expected
    assert hw.sum().item() == 6


def test_parameter_free_share_by_hand():
    g = Genotype(normal=(("skip_connect", 0), ("sep_conv_3x3", 1)), reduce=(("max_pool_3x3", 0), ("avg_pool_3x3", 1)), nodes=1)
    assert parameter_free_share(g) == pytest.approx(3 / 4)
    assert parameter_free_share(g.normal) == pytest.approx(1 / 2)
    with pytest.raises(ConfigError):
        parameter_free_share(())


def test_json_round_trip():
    g = Genotype(normal=(("dil_conv_3x3", 1), ("sep_conv_5x5", 0)), reduce=(("skip_connect", 0), ("max_pool_3x3", 1)), nodes=1)
    assert Genotype.from_json(g.to_json()) == g
    assert g.to_dict()["normal_concat"] == [2]


@pytest.mark.parametrize("bad", [
    {"normal": [["none", 0], ["sep_conv_3x3", 1]], "reduce": [["skip_connect", 0], ["skip_connect", 1]], "nodes": 1},
    {"normal": [["sep_conv_3x3", 2], ["sep_conv_3x3", 1]], "reduce": [["skip_connect", 0], ["skip_connect", 1]], "nodes": 1},
    {"normal": [["sep_conv_3x3", 0]], "reduce": [["skip_connect", 0], ["skip_connect", 1]], "nodes": 1},
    {"reduce": [], "nodes": 1},
])
def test_invalid_genotypes_rejected(bad):
    with pytest.raises(ConfigError):
        Genotype.from_dict(bad)


def test_discretise_rejects_bad_shape():
    with pytest.raises(ConfigError):
        discretise(torch.zeros(4, len(PRIMITIVES)), torch.zeros(4, len(PRIMITIVES)))
