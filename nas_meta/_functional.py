"""Task adaptation written with ``torch.func`` so that many tasks adapt at once under ``vmap``.

A task's classifier is a linear head that is not meta-learned, so the network stays independent
of the number of ways and the meta-learned body is all that carries over. It starts either at
zero (Kao et al. 2022's "zeroing trick": the first gradient step makes each class's row
proportional to its mean feature) or at the prototypes of the support set (Proto-MAML,
Triantafillou et al. 2020: row ``2 c_k``, bias ``-|c_k|^2``, so that before any step the head
answers as a Prototypical Network with squared Euclidean distance would).

References:
    Nichol, Achiam, Schulman. On First-Order Meta-Learning Algorithms (Reptile). 2018.
    Kao, Chao, Lee. MAML is a Noisy Contrastive Learner in Classification. ICLR 2022.
    Triantafillou et al. Meta-Dataset: A Dataset of Datasets for Learning to Learn from Few
    Examples. ICLR 2020 (Proto-MAML).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad

from nas_meta.ops import PARAMETER_FREE, PRIMITIVES

__all__ = ["AdaptConfig", "adapt", "accuracy", "task_loss", "parameter_free_mass", "logits_of", "zero_head",
           "prototype_head", "carried_head", "step_temperature", "HEAD_INITS"]

Params = dict[str, torch.Tensor]
Temperature = float | torch.Tensor
# The skip connection and pools as a slice, not an index list: indexing with a Python list
# copies it to the device, which a CUDA graph capture forbids. They are neighbours in PRIMITIVES.
_FREE = slice(PRIMITIVES.index("max_pool_3x3"), PRIMITIVES.index("skip_connect") + 1)
if set(PRIMITIVES[_FREE]) != PARAMETER_FREE - {"none"}:
    raise ImportError(f"parameter-free operations must be contiguous in PRIMITIVES; got {PRIMITIVES}")


@dataclass(frozen=True)
class AdaptConfig:
    """How a task is adapted: plain SGD, ``steps`` full-batch steps on the support set.

    Attributes:
        steps: gradient steps.
        lr: step size of the network weights and the head.
        lr_arch: step size of the architecture weights (0 keeps them fixed); a 0-dim tensor
            lets a captured CUDA graph follow a schedule without being captured again.
        arch_reg: weight of the penalty on the softmax mass of parameter-free operations.
        hard: use the discretised cells (0/1 operation weights) instead of the mixture.
        head_init: where the task's linear head starts: ``"zero"`` or ``"proto"`` (the
            prototypes of the adaptation images under the initial weights).
    """

    steps: int = 5
    lr: float = 0.1
    lr_arch: float | torch.Tensor = 0.0
    arch_reg: float = 0.0
    hard: bool = False
    head_init: str = "zero"


def parameter_free_mass(params: Mapping[str, torch.Tensor], temperature: Temperature = 1.0) -> torch.Tensor:
    """Mean softmax weight of skip connections and pools over every edge of both cells."""
    masses = [torch.softmax(params[k] / temperature, dim=-1)[:, _FREE].sum(-1).mean()
              for k in ("alpha_normal", "alpha_reduce") if k in params]
    return torch.stack(masses).mean() if masses else torch.zeros(())


def _features(model: nn.Module, params: Params, x: torch.Tensor, hard: bool, temperature: Temperature) -> torch.Tensor:
    """Network features; a supernet's operation weights come from ``params`` (soft or 0/1)."""
    if "alpha_normal" not in params:
        return functional_call(model, params, (x,))
    if hard:
        from nas_meta.genotypes import hard_weights

        nodes = int(getattr(model, "nodes"))  # noqa: B009 - a SearchNetwork attribute, not typed on Module
        weights = (hard_weights(params["alpha_normal"], nodes), hard_weights(params["alpha_reduce"], nodes))
    else:
        weights = (torch.softmax(params["alpha_normal"] / temperature, dim=-1),
                   torch.softmax(params["alpha_reduce"] / temperature, dim=-1))
    return functional_call(model, params, (x,), {"weights": weights})


def logits_of(model: nn.Module, params: Params, head: Params, x: torch.Tensor, hard: bool = False,
              temperature: Temperature = 1.0) -> torch.Tensor:
    """Class scores of ``x`` under network ``params`` and linear ``head``."""
    return F.linear(_features(model, params, x, hard, temperature), head["weight"], head["bias"])


def task_loss(model: nn.Module, params: Params, head: Params, x: torch.Tensor, y: torch.Tensor,
              cfg: AdaptConfig, temperature: Temperature = 1.0) -> torch.Tensor:
    """Cross-entropy of the task, plus the parameter-free penalty when ``cfg.arch_reg > 0``."""
    loss = F.cross_entropy(logits_of(model, params, head, x, cfg.hard, temperature), y)
    if cfg.arch_reg > 0 and "alpha_normal" in params:
        loss = loss + cfg.arch_reg * parameter_free_mass(params, temperature)
    return loss


def zero_head(model: nn.Module, ways: int, like: torch.Tensor) -> Params:
    """A zero linear classifier for ``ways`` classes on the network's features."""
    features = int(getattr(model, "out_features"))  # noqa: B009 - set by every backbone of nas_meta
    return {"weight": like.new_zeros(ways, features), "bias": like.new_zeros(ways)}


def prototype_head(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor, ways: int,
                   hard: bool = False, temperature: Temperature = 1.0) -> Params:
    """The linear head equal to nearest-prototype classification of ``(x, y)``'s features.

    ``-|f - c_k|^2 = 2 c_k.f - |c_k|^2 - |f|^2``, and the last term is the same for every class,
    so row ``2 c_k`` and bias ``-|c_k|^2`` rank the classes as the squared distance does.
    Written without data-dependent shapes (a one-hot matmul), so it runs under ``vmap`` and in
    a captured CUDA graph.
    """
    features = _features(model, params, x, hard, temperature)
    onehot = (y[:, None] == torch.arange(ways, device=y.device)).to(features.dtype)
    protos = (onehot.T @ features) / onehot.sum(0)[:, None].clamp_min(1.0)
    return {"weight": 2.0 * protos, "bias": -(protos * protos).sum(-1)}


HEAD_INITS = ("zero", "proto")


def carried_head(head: Params, head_init: str) -> Params | None:
    """The head a second adaptation stage (the discretised cells after the soft supernet)
    starts from: a zero-started head carries its adapted rows over; a prototype head is built
    again (``None``: :func:`adapt` builds it) under the next stage's network, whose features
    are not the first stage's."""
    return None if head_init == "proto" else head


def step_temperature(first: Temperature, last: Temperature | None, step: int, steps: int) -> Temperature:
    """The softmax temperature of adaptation step ``step`` (0-based) of ``steps``: linear from
    ``first`` at the first step to ``last`` at the last one (``last=None``: ``first`` throughout).

    This is MetaNAS's soft pruning (Elsken et al. 2020, and the authors' code): annealed within
    every task's adaptation, the mixture ends each adaptation close to one-hot, so the weights
    are meta-learned for nearly discrete cells and discretising them costs little.
    """
    if last is None:
        return first
    return first + (last - first) * (step / (steps - 1) if steps > 1 else 0.0)


def adapt(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor, ways: int, cfg: AdaptConfig,
          head: Params | None = None, temperature: Temperature = 1.0,
          temperature_end: Temperature | None = None) -> tuple[Params, Params]:
    """``cfg.steps`` SGD steps on ``(x, y)`` from ``params`` and a head: ``head`` if given, else
    one started as ``cfg.head_init`` says.

    ``temperature`` is the supernet's softmax temperature; with ``temperature_end`` it is
    annealed linearly from the first step to the last (see :func:`step_temperature`), and the
    adapted task then answers at ``temperature_end``. A prototype head is built at
    ``temperature``, where the adaptation starts.

    Returns:
        The adapted network parameters and head. Differentiable only where the caller asks
        ``torch.func.grad`` for it; first-order methods take gradients at the result (the
        prototype head counts as a constant of the task, as in first-order Proto-MAML).
        A call on the CPU outside every ``torch.func`` transform, whose inputs nothing
        differentiates, takes its gradients with ``torch.autograd.grad`` instead: the same
        numbers in a third less memory (see :func:`_eager_cpu`).
    """
    if head is None:
        head = (prototype_head(model, params, x, y, ways, cfg.hard, temperature) if cfg.head_init == "proto"
                else zero_head(model, ways, x))
    def loss(p: Params, h: Params, t: Temperature) -> torch.Tensor:
        return task_loss(model, p, h, x, y, cfg, t)

    eager = _eager_cpu(x, params, head, temperature, temperature_end, cfg.lr_arch)
    loss_grad = _first_order_grad(loss) if eager else grad(loss, argnums=(0, 1))
    for step in range(cfg.steps):
        g_p, g_h = loss_grad(params, head, step_temperature(temperature, temperature_end, step, cfg.steps))
        params = {k: v - (cfg.lr_arch if k.startswith("alpha") else cfg.lr) * g_p[k] for k, v in params.items()}
        head = {k: v - cfg.lr * g_h[k] for k, v in head.items()}
    return params, head


def _eager_cpu(x: torch.Tensor, *inputs: object) -> bool:
    """Whether :func:`adapt` may take its gradients with plain ``torch.autograd.grad``: on the
    CPU, outside every ``torch.func`` transform (``vmap``, ``grad``), with no input that an
    outer computation differentiates (none requires grad), outside inference mode.

    ``torch.func.grad`` takes them with ``create_graph=True`` (so that transforms compose), which
    keeps every saved activation of the forward pass alive until the whole backward pass ends;
    the plain backward pass frees each one as soon as it is used: the same kernels and the same
    numbers, and one task's supernet step on the CPU (30 images, supernet 8/3/3) peaks at
    about 0.77 GB of resident memory instead of 1.27 GB (issue 25).
    """
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    if active is None or active() or x.device.type != "cpu" or torch.is_inference_mode_enabled():
        return False
    tensors: list[torch.Tensor] = [x]
    for item in inputs:
        if isinstance(item, Mapping):
            tensors.extend(item.values())
        elif isinstance(item, torch.Tensor):
            tensors.append(item)
    return not any(t.requires_grad for t in tensors)


def _first_order_grad(loss: Callable[[Params, Params, Temperature], torch.Tensor]
                      ) -> Callable[[Params, Params, Temperature], tuple[Params, Params]]:
    """``grad(loss, argnums=(0, 1))`` written with ``torch.autograd.grad`` (see
    :func:`_eager_cpu`): the gradients of both dicts, zeros for an entry the loss does not use."""
    def loss_grad(params: Params, head: Params, t: Temperature) -> tuple[Params, Params]:
        with torch.enable_grad():
            p = {k: v.detach().requires_grad_() for k, v in params.items()}
            h = {k: v.detach().requires_grad_() for k, v in head.items()}
            grads = torch.autograd.grad(loss(p, h, t), [*p.values(), *h.values()], materialize_grads=True)
        return dict(zip(p, grads[:len(p)], strict=True)), dict(zip(h, grads[len(p):], strict=True))

    return loss_grad


def accuracy(model: nn.Module, params: Params, head: Params, x: torch.Tensor, y: torch.Tensor,
             hard: bool = False, temperature: Temperature = 1.0) -> torch.Tensor:
    """Share of ``x`` classified as ``y`` (a 0-dim tensor)."""
    return (logits_of(model, params, head, x, hard, temperature).argmax(-1) == y).float().mean()
