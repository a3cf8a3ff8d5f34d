"""The standard few-shot backbone: four blocks of 3x3 convolution, batch norm, ReLU, max-pool.

References:
    Vinyals et al. Matching Networks for One Shot Learning. NeurIPS 2016 (the 4-layer net);
    Finn, Abbeel, Levine. MAML. ICML 2017; Snell, Swersky, Zemel. Prototypical Networks. 2017.
"""

from __future__ import annotations

import torch
from torch import nn

from nas_meta._errors import ConfigError

__all__ = ["Conv4"]


class Conv4(nn.Module):
    """Four conv blocks; on 28x28 inputs the output is a ``channels``-dim feature vector.

    Args:
        channels: filters per layer (64 in the literature).
        in_channels: image channels.
        running_stats: keep batch-norm running averages (ProtoNet's test mode); without them
            batch norm uses the statistics of each batch (transductive, as MAML and Reptile).
        seed: seed of the initial weights.
    """

    def __init__(self, channels: int = 64, in_channels: int = 1, running_stats: bool = False, seed: int = 0) -> None:
        super().__init__()
        if channels < 1:
            raise ConfigError(f"channels must be an int >= 1; got {channels}")
        blocks = []
        c_in = in_channels
        for _ in range(4):
            blocks += [nn.Conv2d(c_in, channels, 3, padding=1),
                       nn.BatchNorm2d(channels, track_running_stats=running_stats),
                       nn.ReLU(inplace=False), nn.MaxPool2d(2)]
            c_in = channels
        self.body = nn.Sequential(*blocks)
        self.out_features = channels
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for module in self.body:
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, generator=gen)
                    # Zero, not torch's default draw from the global generator, so that ``seed``
                    # fixes every initial value; batch norm right after cancels a conv bias anyway.
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).flatten(1)
