"""N-way K-shot episodes, sampled in batches straight on the target device.

The class images live once on the device as uint8; an episode is an index draw (classes
without replacement, then drawings without replacement within each class) and a cast to float.
Labels are the positions ``0..N-1`` of the classes in the episode; the classes are drawn at
random, so which character gets which label is random too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nas_meta._errors import ConfigError, DataError

__all__ = ["Episodes", "EpisodeSampler"]


@dataclass
class Episodes:
    """A batch of ``B`` episodes; support and query are ordered class by class.

    Attributes:
        support_x: float ``(B, N*K, 1, 28, 28)`` in [0, 1].
        support_y: long ``(B, N*K)``.
        query_x: float ``(B, N*Q, 1, 28, 28)``.
        query_y: long ``(B, N*Q)``.
        n_ways: N, when known without looking at the labels (0: read from ``support_y``).
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    n_ways: int = 0

    def __len__(self) -> int:
        return int(self.support_x.shape[0])

    @property
    def ways(self) -> int:
        """N; known from the sampler without a device-to-host read (which CUDA graphs forbid)."""
        return self.n_ways or int(self.support_y.max()) + 1

    def episode(self, i: int) -> Episodes:
        """Episode ``i`` as a batch of one."""
        return Episodes(self.support_x[i:i + 1], self.support_y[i:i + 1],
                        self.query_x[i:i + 1], self.query_y[i:i + 1], self.n_ways)


class EpisodeSampler:
    """Draws N-way K-shot episodes with ``Q`` queries per class.

    Args:
        images: uint8 array ``(n_classes, n_drawings, H, W)``.
        ways: classes per episode (N).
        shots: support drawings per class (K).
        queries: query drawings per class (Q); ``shots + queries`` must not exceed the drawings.
        device: where the episodes are built.
        seed: seed of the sampler's own generator.

    Raises:
        ConfigError: ``ways``, ``shots`` or ``queries`` out of range for the data.
    """

    def __init__(self, images: np.ndarray, ways: int, shots: int, queries: int = 15, *,
                 device: str | torch.device = "cpu", seed: int = 0) -> None:
        if images.ndim != 4:
            raise DataError(f"images must have shape (classes, drawings, H, W); got {images.shape}")
        n_classes, n_draw = images.shape[:2]
        if not 2 <= ways <= n_classes:
            raise ConfigError(f"ways must be an int in [2, {n_classes}]; got {ways}")
        if shots < 1 or queries < 1 or shots + queries > n_draw:
            raise ConfigError(f"shots >= 1 and queries >= 1 with shots + queries <= {n_draw} needed; got shots={shots}, queries={queries}")
        self.ways, self.shots, self.queries = int(ways), int(shots), int(queries)
        self.device = torch.device(device)
        self._images = torch.as_tensor(images).to(self.device)
        self._rng = np.random.default_rng(seed)

    @property
    def n_classes(self) -> int:
        return int(self._images.shape[0])

    def get_state(self) -> dict:
        """The generator's state (JSON-able): saved with a checkpoint so a resumed run draws on."""
        return dict(self._rng.bit_generator.state)

    def set_state(self, state: dict) -> None:
        """Continue the draws of a sampler whose :meth:`get_state` gave ``state``."""
        try:
            self._rng.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"sampler state must come from EpisodeSampler.get_state; got {str(state)[:80]!r} ({exc})") from exc

    def sample(self, batch: int = 1) -> Episodes:
        """``batch`` independent episodes."""
        n_draw = self._images.shape[1]
        per = self.shots + self.queries
        classes = np.stack([self._rng.choice(self.n_classes, self.ways, replace=False) for _ in range(batch)])
        draws = np.argsort(self._rng.random((batch, self.ways, n_draw)), axis=2)[:, :, :per]
        cls = torch.as_tensor(classes, device=self.device)[:, :, None].expand(-1, -1, per)
        drw = torch.as_tensor(draws, device=self.device)
        x = self._images[cls, drw].float().div_(255.0).unsqueeze(3)  # (B, N, K+Q, 1, H, W)
        y = torch.arange(self.ways, device=self.device)[None, :, None].expand(batch, -1, per)
        h, w = x.shape[-2:]
        sx = x[:, :, :self.shots].reshape(batch, -1, 1, h, w)
        qx = x[:, :, self.shots:].reshape(batch, -1, 1, h, w)
        sy = y[:, :, :self.shots].reshape(batch, -1)
        qy = y[:, :, self.shots:].reshape(batch, -1)
        return Episodes(sx, sy, qx, qy, self.ways)
