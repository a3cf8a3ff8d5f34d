"""MAML in learn2learn's shape: ``MAML(model)``, ``learner = maml.clone()``, ``learner.adapt(loss)``.

The clone holds its own parameters as tensors computed from the original's, so the query loss
of an adapted clone back-propagates into the original module: through the inner gradient steps
(second order) or, with ``first_order=True``, treating them as constants (first-order MAML).

Example::

    maml = MAML(net, lr=0.4, first_order=True)
    for task in tasks:
        learner = maml.clone()
        learner.adapt(F.cross_entropy(learner(task.sx), task.sy))
        F.cross_entropy(learner(task.qx), task.qy).backward()   # gradients land on net
    optimizer.step()

References:
    Finn, Abbeel, Levine. Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks.
    ICML 2017. Arnold et al. learn2learn: A Library for Meta-Learning Research. 2020.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from nas_meta._errors import ConfigError

__all__ = ["MAML", "Learner"]


class Learner(nn.Module):
    """A differentiable copy of a module, adapted by :meth:`adapt`; call it like the module."""

    def __init__(self, module: nn.Module, params: dict[str, torch.Tensor], lr: float, first_order: bool,
                 allow_unused: bool) -> None:
        super().__init__()
        self.module = module
        self.params = params
        self.lr = lr
        self.first_order = first_order
        self.allow_unused = allow_unused

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return functional_call(self.module, self.params, args, kwargs)

    def adapt(self, loss: torch.Tensor, lr: float | None = None) -> Learner:
        """One SGD step on ``loss`` for this clone's parameters (the original is untouched).

        Raises:
            ConfigError: ``loss`` is not a scalar.
            RuntimeError: ``loss`` does not depend on a parameter (unless ``allow_unused``).
        """
        if loss.dim() != 0:
            raise ConfigError(f"adapt needs a scalar loss; got a tensor of shape {tuple(loss.shape)}")
        names = [n for n, p in self.params.items() if p.requires_grad]
        try:
            grads = torch.autograd.grad(loss, [self.params[n] for n in names], create_graph=not self.first_order,
                                        allow_unused=self.allow_unused)
        except RuntimeError as exc:
            raise RuntimeError(f"adapt could not differentiate the loss w.r.t. the clone's parameters: {exc}") from exc
        step = self.lr if lr is None else lr
        for name, g in zip(names, grads, strict=True):
            if g is None:
                continue
            g = g.detach() if self.first_order else g
            self.params[name] = self.params[name] - step * g
        return self


class MAML(nn.Module):
    """Wraps a module for MAML-style meta-learning.

    Args:
        model: the network whose initial parameters are meta-learned.
        lr: step size of :meth:`Learner.adapt`.
        first_order: ignore second derivatives (first-order MAML; cheaper, often as good).
        allow_unused: allow parameters that the loss does not use (their step is skipped).
    """

    def __init__(self, model: nn.Module, lr: float, first_order: bool = False, allow_unused: bool = False) -> None:
        super().__init__()
        if lr <= 0:
            raise ConfigError(f"lr of MAML must be > 0; got {lr}")
        self.module = model
        self.lr = lr
        self.first_order = first_order
        self.allow_unused = allow_unused
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats for m in model.modules()):
            warnings.warn("MAML: batch norm with running statistics is updated in place by every clone; "
                          "use track_running_stats=False (transductive batch norm)", UserWarning, stacklevel=2)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def clone(self, first_order: bool | None = None) -> Learner:
        """A copy whose parameters are differentiable functions of the original's."""
        params = {n: p.clone() for n, p in self.module.named_parameters()}
        order = self.first_order if first_order is None else first_order
        return Learner(self.module, params, self.lr, order, self.allow_unused)
