"""Genotypes: the discrete cells read off the architecture weights, and their JSON form.

Discretisation follows DARTS: on every edge the strongest operation other than ``none``; for
every intermediate node the two incoming edges whose strongest operation is strongest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from nas_meta._errors import ConfigError
from nas_meta.ops import PARAMETER_FREE, PRIMITIVES

__all__ = ["Genotype", "discretise", "hard_weights", "n_edges", "parameter_free_share"]


def n_edges(nodes: int) -> int:
    """Edges of a cell with ``nodes`` intermediate nodes (node j has j + 2 inputs)."""
    return sum(2 + j for j in range(nodes))


@dataclass(frozen=True)
class Genotype:
    """A normal and a reduction cell: per node, two ``(operation, input)`` pairs.

    Inputs are numbered as in DARTS: 0 and 1 are the two previous cells, 2.. the earlier nodes.
    """

    normal: tuple[tuple[str, int], ...]
    reduce: tuple[tuple[str, int], ...]
    nodes: int

    def __post_init__(self) -> None:
        for cell in (self.normal, self.reduce):
            if len(cell) != 2 * self.nodes:
                raise ConfigError(f"a cell needs 2 edges per node ({2 * self.nodes}); got {len(cell)}")
            for k, (op, src) in enumerate(cell):
                if op not in PRIMITIVES or op == "none":
                    raise ConfigError(f"genotype operation must be one of {list(PRIMITIVES[1:])}; got {op!r}")
                if not 0 <= src < k // 2 + 2:
                    raise ConfigError(f"input of edge {k} must be in [0, {k // 2 + 1}]; got {src}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the form stored in the knowledge base)."""
        return {"normal": [list(e) for e in self.normal], "reduce": [list(e) for e in self.reduce],
                "nodes": self.nodes, "normal_concat": list(range(2, 2 + self.nodes)),
                "reduce_concat": list(range(2, 2 + self.nodes))}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genotype:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: a key is missing or an edge is malformed.
        """
        try:
            return cls(tuple((str(o), int(i)) for o, i in data["normal"]),
                       tuple((str(o), int(i)) for o, i in data["reduce"]), int(data["nodes"]))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"genotype must have 'normal', 'reduce' (lists of [op, input]) and 'nodes'; got {dict(data)!r}") from exc

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        return cls.from_dict(json.loads(text))


def _discretise_cell(alpha: torch.Tensor, nodes: int) -> tuple[tuple[str, int], ...]:
    probs = torch.softmax(alpha.detach().float().cpu(), dim=-1)
    edges: list[tuple[str, int]] = []
    start = 0
    for j in range(nodes):
        block = probs[start:start + j + 2, 1:]  # drop "none"
        strength, best = block.max(dim=-1)
        chosen = sorted(torch.argsort(strength, descending=True)[:2].tolist())
        edges += [(PRIMITIVES[1 + int(best[i])], int(i)) for i in chosen]
        start += j + 2
    return tuple(edges)


def discretise(alpha_normal: torch.Tensor, alpha_reduce: torch.Tensor) -> Genotype:
    """The genotype of architecture weights ``(edges, operations)`` of both cell types.

    Raises:
        ConfigError: the weights do not have the shape of the space.
    """
    rows = alpha_normal.shape[0]
    nodes = next((k for k in range(1, 16) if n_edges(k) == rows), None)
    if nodes is None or alpha_normal.shape != alpha_reduce.shape or alpha_normal.shape[1] != len(PRIMITIVES):
        raise ConfigError(f"architecture weights must be (n_edges, {len(PRIMITIVES)}) for both cells; got {tuple(alpha_normal.shape)} and {tuple(alpha_reduce.shape)}")
    return Genotype(_discretise_cell(alpha_normal, nodes), _discretise_cell(alpha_reduce, nodes), nodes)


def hard_weights(alpha: torch.Tensor, nodes: int) -> torch.Tensor:
    """The 0/1 operation weights of the discretised cell, computed with tensor ops only.

    With these weights the supernet computes exactly the discrete cell of :func:`discretise`;
    written without Python branching on values so it works under ``torch.func.vmap``.
    """
    probs = torch.softmax(alpha, dim=-1)
    masked = torch.cat([torch.full_like(probs[..., :1], -1.0), probs[..., 1:]], dim=-1)
    strength = masked.max(dim=-1, keepdim=True).values
    onehot = (masked >= strength).to(alpha.dtype)
    keep = []
    start = 0
    for j in range(nodes):
        block = strength[start:start + j + 2, 0]
        second = torch.topk(block, 2).values[-1]
        keep.append((block >= second).to(alpha.dtype))
        start += j + 2
    return onehot * torch.cat(keep)[:, None]


def parameter_free_share(genotype: Genotype | Sequence[tuple[str, int]]) -> float:
    """Share of the chosen operations that have no weights (skip connections and pools)."""
    edges = list(genotype.normal) + list(genotype.reduce) if isinstance(genotype, Genotype) else list(genotype)
    if not edges:
        raise ConfigError("parameter_free_share needs at least one edge; got none")
    return sum(op in PARAMETER_FREE for op, _ in edges) / len(edges)
