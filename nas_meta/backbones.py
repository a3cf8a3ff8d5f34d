"""The standard few-shot backbone: four blocks of 3x3 convolution, batch norm, ReLU, max-pool.

References:
    Vinyals et al. Matching Networks for One Shot Learning. NeurIPS 2016 (the 4-layer net);
    Finn, Abbeel, Levine. MAML. ICML 2017; Snell, Swersky, Zemel. Prototypical Networks. 2017.
"""

from __future__ import annotations

import torch
from torch import nn

from nas_meta._errors import ConfigError

__all__ = ["Conv4", "scale_features", "check_feature_scale"]


def check_feature_scale(value: float) -> float:
    """``value`` as a float if it is a valid feature scale (0 = off, else > 0)."""
    value = float(value)
    if not value >= 0.0 or value == float("inf"):
        raise ConfigError(f"feature_scale must be 0 (off) or a finite number > 0; got {value}")
    return value


def scale_features(features: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale * features / |features|`` per row when ``scale > 0``, else ``features``.

    With normalised features a prototype head's squared distances lie in ``[0, 4 scale^2]``
    whatever the network, and a linear head's logits are ``scale`` times a cosine (the cosine
    classifier of Chen et al., "A Closer Look at Few-shot Classification", ICLR 2019), so a
    change of the network that only rescales its features, such as discretising a supernet's
    cells, does not sharpen or flatten the task's answers. The 1e-6 floor keeps an all-zero
    feature finite.
    """
    if scale <= 0:
        return features
    return scale * features / features.norm(dim=-1, keepdim=True).clamp_min(1e-6)


class Conv4(nn.Module):
    """Four conv blocks; on 28x28 inputs the output is a ``channels``-dim feature vector.

    Args:
        channels: filters per layer (64 in the literature).
        in_channels: image channels.
        running_stats: keep batch-norm running averages (ProtoNet's test mode); without them
            batch norm uses the statistics of each batch (transductive, as MAML and Reptile).
        feature_scale: when > 0, features are L2-normalised and multiplied by it
            (:func:`scale_features`); 0 keeps them as they are.
        seed: seed of the initial weights.
    """

    def __init__(self, channels: int = 64, in_channels: int = 1, running_stats: bool = False,
                 feature_scale: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        if channels < 1:
            raise ConfigError(f"channels must be an int >= 1; got {channels}")
        self.feature_scale = check_feature_scale(feature_scale)
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
        return scale_features(self.body(x).flatten(1), self.feature_scale)
