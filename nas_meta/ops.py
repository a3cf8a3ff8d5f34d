"""The operations of the DARTS search space, with transductive batch normalisation.

Every batch normalisation uses the statistics of the batch it sees (no running averages): the
convention of MAML and Reptile on Omniglot, which also keeps the modules free of buffers so
that ``torch.func`` can adapt many tasks at once with ``vmap``.

References:
    Liu, Simonyan, Yang. DARTS: Differentiable Architecture Search. ICLR 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PRIMITIVES", "PARAMETER_FREE", "OPS", "ReLUConvBN", "FactorizedReduce", "DepthwiseConv2d", "make_op"]

PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
# Operations with no weights: a cell made of them cannot learn (the DARTS collapse).
PARAMETER_FREE: frozenset[str] = frozenset({"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"})


def _bn(channels: int, affine: bool) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, affine=affine, track_running_stats=False)


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution, batch normalisation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         _bn(c_out, affine))


class DepthwiseConv2d(nn.Conv2d):
    """A depthwise convolution that can run as a dense one with a diagonal kernel on CUDA.

    Mathematically the same operation either way. Measured on an H100 with the MetaNAS
    meta-step captured as a CUDA graph (``benchmarks/nas_profile.py``), cuDNN's native
    depthwise kernels under ``vmap`` take 1.20 s per meta-step and the dense diagonal form
    1.42 s, so the native kernels are the default; set ``dense_on_cuda`` to compare. On the
    CPU a strided dilated one whose input is channels-last runs in the default memory format
    (see ``forward``).
    """

    # Class-wide switch, for measuring both kernels (benchmarks/nas_profile.py).
    dense_on_cuda: ClassVar[bool] = False

    def __init__(self, channels: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> None:
        super().__init__(channels, channels, kernel, stride, padding, dilation=dilation, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_cuda and self.dense_on_cuda:
            eye = torch.eye(self.in_channels, device=x.device, dtype=x.dtype)
            dense = self.weight * eye[:, :, None, None]  # (C, 1, k, k) -> (C, C, k, k), zero off the diagonal
            return F.conv2d(x, dense, None, self.stride, self.padding, self.dilation)
        if (x.device.type == "cpu" and self.stride[0] > 1 and self.dilation[0] > 1
                and _is_channels_last(x)):
            # oneDNN has no direct channels-last kernel for a strided dilated depthwise
            # convolution: its gradient took twice as long as in the default format
            # (issue 25, 30 images of 16 channels at 28x28), so this one runs there.
            return super().forward(x.contiguous()).contiguous(memory_format=torch.channels_last)
        return super().forward(x)


class DilConv(nn.Sequential):
    """ReLU, dilated depthwise convolution, pointwise convolution, batch normalisation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            DepthwiseConv2d(c_in, kernel, stride, padding, dilation),
            nn.Conv2d(c_in, c_out, 1, bias=False), _bn(c_out, affine))


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable convolutions (the first one strided)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(DilConv(c_in, c_in, kernel, stride, padding, 1, affine),
                         DilConv(c_in, c_out, kernel, 1, padding, 1, affine))


class Zero(nn.Module):
    """Outputs zeros (strided when the cell reduces)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halves the resolution with two offset strided 1x1 convolutions (inputs of even size)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = _bn(c_out, affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        # oneDNN's weight gradient of a strided 1x1 convolution in the channels-last format
        # corrupts memory with more than one thread (torch 2.13, oneDNN 3.12: jit_1x1 backward
        # weights); the two convolutions run in the default format instead, as before issue 25.
        nhwc = x.device.type == "cpu" and _is_channels_last(x)
        if nhwc:
            x = x.contiguous()
        out = self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))
        return out.contiguous(memory_format=torch.channels_last) if nhwc else out


def _is_channels_last(x: torch.Tensor) -> bool:
    """``x`` is laid out channels-last (and not also in the default format); False under
    ``vmap``, whose batched tensors have no memory format to ask about."""
    try:
        return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    except RuntimeError:
        return False


OPS: dict[str, Callable[[int, int, bool], nn.Module]] = {
    "none": lambda c, s, a: Zero(s),
    "max_pool_3x3": lambda c, s, a: nn.Sequential(nn.MaxPool2d(3, s, 1), _bn(c, False)),
    "avg_pool_3x3": lambda c, s, a: nn.Sequential(nn.AvgPool2d(3, s, 1, count_include_pad=False), _bn(c, False)),
    "skip_connect": lambda c, s, a: nn.Identity() if s == 1 else FactorizedReduce(c, c, a),
    "sep_conv_3x3": lambda c, s, a: SepConv(c, c, 3, s, 1, a),
    "sep_conv_5x5": lambda c, s, a: SepConv(c, c, 5, s, 2, a),
    "dil_conv_3x3": lambda c, s, a: DilConv(c, c, 3, s, 2, 2, a),
    "dil_conv_5x5": lambda c, s, a: DilConv(c, c, 5, s, 4, 2, a),
}


def make_op(name: str, channels: int, stride: int, affine: bool = True) -> nn.Module:
    """The operation ``name`` of the space on ``channels`` channels."""
    from nas_meta._errors import ConfigError

    if name not in OPS:
        raise ConfigError(f"operation must be one of {list(PRIMITIVES)}; got {name!r}")
    return OPS[name](channels, stride, affine)
