"""N-way K-shot episodes, sampled in batches straight on the target device.

The class images live once on the device as uint8; an episode is an index draw (classes
without replacement, then drawings without replacement within each class) and a cast to float.
Labels are the positions ``0..N-1`` of the classes in the episode; the classes are drawn at
random, so which character gets which label is random too.

Training samplers may distort every image by a small random affine map (``augment``): rotation,
scale, shear and shift, drawn independently per image. With only 160 training characters
(x 4 rotations) a few-shot learner overfits the drawings it sees; the distortions are the
augmentation the issue asks for, applied on the device as one ``grid_sample`` per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from nas_meta._errors import ConfigError, DataError

__all__ = ["Episodes", "EpisodeSampler", "AUGMENT_LIMITS", "check_augment"]

AUGMENT_LIMITS = {"rotation_deg": 15.0, "scale": 0.15, "shear": 0.15, "shift_px": 3.0}
"""The largest distortion at ``augment=1``: each is drawn uniformly in ``[-limit, limit] * augment``
(scale as a factor ``1 + u``); small enough that a character stays the same character."""


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


def check_augment(augment: float) -> None:
    """Refuse an augmentation strength outside [0, 1] (one line naming the value)."""
    if not 0.0 <= augment <= 1.0:
        raise ConfigError(f"augment must be a strength in [0, 1]; got {augment}")


class EpisodeSampler:
    """Draws N-way K-shot episodes with ``Q`` queries per class.

    Args:
        images: uint8 array ``(n_classes, n_drawings, H, W)``.
        ways: classes per episode (N).
        shots: support drawings per class (K).
        queries: query drawings per class (Q); ``shots + queries`` must not exceed the drawings.
        device: where the episodes are built.
        seed: seed of the sampler's own generator (classes, drawings and distortions).
        augment: strength of the random affine distortion of every image, in [0, 1]
            (0: none; 1: the limits of :data:`AUGMENT_LIMITS`). For training samplers only.

    Raises:
        ConfigError: ``ways``, ``shots``, ``queries`` or ``augment`` out of range.
    """

    def __init__(self, images: np.ndarray, ways: int, shots: int, queries: int = 15, *,
                 device: str | torch.device = "cpu", seed: int = 0, augment: float = 0.0) -> None:
        if images.ndim != 4:
            raise DataError(f"images must have shape (classes, drawings, H, W); got {images.shape}")
        n_classes, n_draw = images.shape[:2]
        if not 2 <= ways <= n_classes:
            raise ConfigError(f"ways must be an int in [2, {n_classes}]; got {ways}")
        if shots < 1 or queries < 1 or shots + queries > n_draw:
            raise ConfigError(f"shots >= 1 and queries >= 1 with shots + queries <= {n_draw} needed; got shots={shots}, queries={queries}")
        check_augment(augment)
        self.ways, self.shots, self.queries = int(ways), int(shots), int(queries)
        self.augment = float(augment)
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
        if self.augment > 0:
            x = self._distort(x.flatten(0, 2)).view(x.shape)
        y = torch.arange(self.ways, device=self.device)[None, :, None].expand(batch, -1, per)
        h, w = x.shape[-2:]
        sx = x[:, :, :self.shots].reshape(batch, -1, 1, h, w)
        qx = x[:, :, self.shots:].reshape(batch, -1, 1, h, w)
        sy = y[:, :, :self.shots].reshape(batch, -1)
        qy = y[:, :, self.shots:].reshape(batch, -1)
        return Episodes(sx, sy, qx, qy, self.ways)

    def _distort(self, x: torch.Tensor) -> torch.Tensor:
        """Each image of ``x`` ``(M, 1, H, W)`` under its own random affine map (bilinear, zero
        background: Omniglot's ink is 1 on 0)."""
        m, size = x.shape[0], x.shape[-1]
        lim = {k: v * self.augment for k, v in AUGMENT_LIMITS.items()}
        u = self._rng.uniform(-1.0, 1.0, size=(5, m))
        angle = np.deg2rad(lim["rotation_deg"] * u[0])
        scale = 1.0 + lim["scale"] * u[1]
        shear = lim["shear"] * u[2]
        shift = lim["shift_px"] * u[3:] * 2.0 / size  # pixels -> grid units of [-1, 1]
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        theta = np.empty((m, 2, 3))
        theta[:, 0] = np.stack([cos, -sin + shear * cos, shift[0]], 1)
        theta[:, 1] = np.stack([sin, cos + shear * sin, shift[1]], 1)
        grid = F.affine_grid(torch.as_tensor(theta, dtype=x.dtype, device=x.device), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
