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

from typing import ClassVar

import torch
from torch import nn

from nas_meta._errors import ConfigError
from nas_meta.backbones import check_feature_scale, scale_features
from nas_meta.genotypes import Genotype, discretise, hard_weights, n_edges
from nas_meta.ops import PRIMITIVES, FactorizedReduce, ReLUConvBN, make_op

__all__ = ["SearchNetwork"]

# Which operations of each edge to compute: ``mask[edge][op]`` is False where the operation's
# weight is exactly 0 (see SearchNetwork.cpu_skip_zero_ops); None computes every one.
OpMask = list[list[bool]] | None


class MixedOp(nn.Module):
    """Weighted sum of every operation on one edge (``none`` contributes nothing).

    ``active`` (one flag per operation of :data:`PRIMITIVES`) leaves out the operations whose
    weight is exactly 0: their terms ``0 * op(x)`` add nothing to the sum, and nothing to any
    gradient (the weight multiplies every path through them).
    """

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self._ops = nn.ModuleList(make_op(p, channels, stride, affine=False) for p in PRIMITIVES[1:])

    def forward(self, x: torch.Tensor, weights: torch.Tensor, active: list[bool] | None = None) -> torch.Tensor:
        if active is None:
            return sum(w * op(x) for w, op in zip(weights[1:], self._ops, strict=True))  # type: ignore[return-value]
        return sum(w * op(x) for w, op, on in zip(weights[1:], self._ops, active[1:], strict=True)  # type: ignore[return-value]
                   if on)


class SearchCell(nn.Module):
    """A DARTS cell: ``nodes`` intermediate nodes, each the sum of all its incoming edges."""

    def __init__(self, nodes: int, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction, self.nodes = reduction, nodes
        self.pre0 = FactorizedReduce(c_pp, c, affine=False) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and i < 2 else 1)
                                   for j in range(nodes) for i in range(j + 2))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor, active: OpMask = None) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        k = 0
        for _ in range(self.nodes):
            if active is None:
                states.append(sum(self.edges[k + i](h, weights[k + i]) for i, h in enumerate(states)))  # type: ignore[arg-type]
            else:  # an edge whose operations all weigh 0 adds nothing to its node
                states.append(sum(self.edges[k + i](h, weights[k + i], active[k + i])  # type: ignore[arg-type]
                                  for i, h in enumerate(states) if any(active[k + i][1:])))
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

    On the CPU (never on CUDA, and never under ``vmap``) two class-wide switches make the same
    computation cheaper (issue 25, ``docs/nas_meta.md``, "Memory and time on the CPU"):
    ``cpu_channels_last`` runs the cells in the channels-last memory format, where oneDNN has
    direct kernels for the depthwise and pointwise convolutions and the pools (their backward
    passes dominated the time in the default layout; strided 1x1 and strided dilated
    convolutions still run in the default format, see :mod:`nas_meta.ops`; the results agree
    to float rounding: 1e-5 after a soft and a discretised meta-step), and
    ``cpu_skip_zero_ops`` leaves out the operations (and whole edges) whose weight is exactly 0,
    as the 0/1 weights of the discretised cells make all but one operation of two edges per
    node (the same sums and gradients: a zero-weighted term adds exactly nothing).
    """

    #: run the cells channels-last on the CPU (see the class docstring)
    cpu_channels_last: ClassVar[bool] = True
    #: skip operations of weight exactly 0 on the CPU (see the class docstring)
    cpu_skip_zero_ops: ClassVar[bool] = True

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
        active_normal = active_reduce = None
        if s0.device.type == "cpu":
            if self.cpu_channels_last:
                s0 = s1 = _channels_last(s0)
            if self.cpu_skip_zero_ops:
                active_normal, active_reduce = self._active_ops(w_normal), self._active_ops(w_reduce)
        for cell in self.cells:
            s0, s1 = s1, (cell(s0, s1, w_reduce, active_reduce) if cell.reduction
                          else cell(s0, s1, w_normal, active_normal))
        return scale_features(self.pool(s1).flatten(1), self.feature_scale)

    def _active_ops(self, weights: torch.Tensor) -> OpMask:
        """Which operations weigh more than exactly 0; None (compute all) when every one does,
        when some node would be left without an operation, or when the values cannot be read
        (under ``vmap``)."""
        try:
            mask: list[list[bool]] = weights.ne(0).tolist()
        except RuntimeError:  # a batched tensor under vmap has no values to branch on
            return None
        if all(all(row[1:]) for row in mask):
            return None
        start = 0
        for j in range(self.nodes):
            if not any(any(row[1:]) for row in mask[start:start + j + 2]):
                return None
            start += j + 2
        return mask


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` in the channels-last memory format; unchanged under ``vmap``, whose batched
    tensors do not take a memory format."""
    try:
        return x.contiguous(memory_format=torch.channels_last)
    except RuntimeError:
        return x
