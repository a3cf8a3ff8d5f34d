"""The DARTS supernet: stacked cells whose edges mix every operation of the space.

The network returns features (global average pooling of the last cell); the classifier is
owned by the few-shot learner, which starts it at zero on every task so that one meta-trained
network serves any number of ways.

References:
    Liu, Simonyan, Yang. DARTS: Differentiable Architecture Search. ICLR 2019.
    Elsken, Staffler, Metzen, Hutter. Meta-Learning of Neural Architectures for Few-Shot
    Learning. CVPR 2020.
"""

from __future__ import annotations

import torch
from torch import nn

from nas_meta._errors import ConfigError
from nas_meta.backbones import check_feature_scale, scale_features
from nas_meta.genotypes import Genotype, discretise, hard_weights, n_edges
from nas_meta.ops import PRIMITIVES, FactorizedReduce, ReLUConvBN, make_op

__all__ = ["SearchNetwork"]


class MixedOp(nn.Module):
    """Weighted sum of every operation on one edge (``none`` contributes nothing)."""

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self._ops = nn.ModuleList(make_op(p, channels, stride, affine=False) for p in PRIMITIVES[1:])

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights[1:], self._ops, strict=True))  # type: ignore[return-value]


class SearchCell(nn.Module):
    """A DARTS cell: ``nodes`` intermediate nodes, each the sum of all its incoming edges."""

    def __init__(self, nodes: int, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction, self.nodes = reduction, nodes
        self.pre0 = FactorizedReduce(c_pp, c, affine=False) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and i < 2 else 1)
                                   for j in range(nodes) for i in range(j + 2))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        k = 0
        for _ in range(self.nodes):
            states.append(sum(self.edges[k + i](h, weights[k + i]) for i, h in enumerate(states)))  # type: ignore[arg-type]
            k += len(states) - 1
        return torch.cat(states[2:], dim=1)


class SearchNetwork(nn.Module):
    """Stem, ``layers`` cells (reductions at a third and two thirds of the depth), pooling.

    Args:
        channels: channels of the first cell's nodes.
        layers: number of cells (at least 2).
        nodes: intermediate nodes per cell.
        in_channels: image channels.
        stem_multiplier: the stem outputs ``stem_multiplier * channels`` channels.
        temperature: architecture weights are ``softmax(alpha / temperature)``; lowering it
            during search brings the supernet close to its discretisation (soft pruning).
        feature_scale: when > 0, features are L2-normalised and multiplied by it (see
            :func:`nas_meta.backbones.scale_features`), so that the soft mixture and its
            discretisation, whose feature norms differ severalfold, feed the task's head on
            the same scale; 0 keeps the pooled features as they are.
        seed: seed of the initial weights (its own generator).
    """

    def __init__(self, channels: int = 16, layers: int = 4, nodes: int = 3, in_channels: int = 1,
                 stem_multiplier: int = 3, temperature: float = 1.0, feature_scale: float = 0.0,
                 seed: int = 0) -> None:
        super().__init__()
        if channels < 2 or layers < 2 or nodes < 1:
            raise ConfigError(f"SearchNetwork needs channels >= 2, layers >= 2, nodes >= 1; got {channels}, {layers}, {nodes}")
        self.channels, self.layers, self.nodes = channels, layers, nodes
        self.feature_scale = check_feature_scale(feature_scale)
        self.temperature = float(temperature)
        gen = torch.Generator().manual_seed(seed)
        c_curr = stem_multiplier * channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c_curr, track_running_stats=False))
        c_pp, c_p, c_curr = c_curr, c_curr, channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        self.reductions = sorted({layers // 3, 2 * layers // 3} - {0})
        for i in range(layers):
            reduction = i in self.reductions
            c_curr = c_curr * 2 if reduction else c_curr
            self.cells.append(SearchCell(nodes, c_pp, c_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, nodes * c_curr
        self.out_features = c_p
        self.pool = nn.AdaptiveAvgPool2d(1)
        e = n_edges(nodes)
        self.alpha_normal = nn.Parameter(1e-3 * torch.randn(e, len(PRIMITIVES), generator=gen))
        self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(e, len(PRIMITIVES), generator=gen))
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() > 1 and not name.startswith("alpha"):
                    nn.init.kaiming_normal_(p, generator=gen)

    def op_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Soft weights of the operations of normal and reduction cells."""
        t = self.temperature
        return torch.softmax(self.alpha_normal / t, dim=-1), torch.softmax(self.alpha_reduce / t, dim=-1)

    def hard_op_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """0/1 weights of the discretised cells (the supernet then is the discrete network)."""
        return hard_weights(self.alpha_normal, self.nodes), hard_weights(self.alpha_reduce, self.nodes)

    def genotype(self) -> Genotype:
        """The discrete cells of the current architecture weights."""
        return discretise(self.alpha_normal, self.alpha_reduce)

    def forward(self, x: torch.Tensor, weights: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Features of ``x``; ``weights`` overrides the operation weights (e.g. hard ones)."""
        w_normal, w_reduce = self.op_weights() if weights is None else weights
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, w_reduce if cell.reduction else w_normal)
        return scale_features(self.pool(s1).flatten(1), self.feature_scale)
