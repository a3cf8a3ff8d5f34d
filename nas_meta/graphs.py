"""Replay a pure tensor function as a CUDA graph: one launch instead of thousands of kernels.

A task-adaptation step through the DARTS supernet issues about 5,000 small kernels; launched
one by one from Python, the GPU waits for the CPU most of the time. Captured once as a CUDA
graph, a whole meta-step (every inner step of every task of the meta-batch) is replayed with
one call, and the GPU is busy all the time.

The function must be *pure in its arguments*: it reads its tensor arguments (copied into
static buffers before every replay) and any tensors it closes over (model parameters, whose
storage must stay fixed: update them in place), and returns tensors (any nesting of dicts,
lists and tuples). It must not synchronise with the host (no ``.item()``, no Python branch on
tensor values). Scalars that change during training (a temperature, a step size) go in as
0-dim tensors.

References:
    PyTorch documentation, "CUDA Graphs" (``torch.cuda.graph``, whole-network capture).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["GraphedFunction"]


class GraphedFunction:
    """Call ``fn`` on CUDA tensors through a CUDA graph captured per input shape.

    On the first call with a new combination of input shapes and dtypes the function runs
    ``warmup`` times on a side stream (cuDNN picks its kernels, the autograd engine starts its
    threads), then it is captured; every call copies its inputs into the captured buffers and
    replays. On the CPU, or with ``enabled=False``, ``fn`` is simply called.

    The returned tensors are the graph's own output buffers: the next call overwrites them,
    so copy what must survive it.

    Args:
        fn: the pure function of tensors to capture.
        enabled: capture on CUDA (False: always call ``fn`` directly).
        warmup: uncaptured runs before the capture.
    """

    def __init__(self, fn: Callable[..., Any], *, enabled: bool = True, warmup: int = 2) -> None:
        self.fn = fn
        self.enabled = enabled
        self.warmup = warmup
        self._graphs: dict[tuple, tuple[list[torch.Tensor], Any, torch.cuda.CUDAGraph]] = {}

    @property
    def n_graphs(self) -> int:
        """Number of graphs captured so far (one per distinct input signature)."""
        return len(self._graphs)

    def __call__(self, *inputs: torch.Tensor) -> Any:
        if not (self.enabled and inputs and all(isinstance(t, torch.Tensor) and t.is_cuda for t in inputs)):
            return self.fn(*inputs)
        key = tuple((tuple(t.shape), t.dtype, t.device) for t in inputs)
        if key not in self._graphs:
            self._graphs[key] = self._capture(inputs)
        static_inputs, outputs, graph = self._graphs[key]
        for buffer, value in zip(static_inputs, inputs, strict=True):
            buffer.copy_(value)
        graph.replay()
        return outputs

    def _capture(self, inputs: tuple[torch.Tensor, ...]) -> tuple[list[torch.Tensor], Any, torch.cuda.CUDAGraph]:
        static_inputs = [t.detach().clone() for t in inputs]
        side = torch.cuda.Stream(device=static_inputs[0].device)
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.fn(*static_inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs = self.fn(*static_inputs)
        return static_inputs, outputs, graph
