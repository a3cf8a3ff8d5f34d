"""Hyperband's brackets and the successive-halving state machine that runs one bracket.

References:
    Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar. Hyperband: A Novel Bandit-Based Approach to
    Hyperparameter Optimization. JMLR 18(185), 2018 (Table 1: R = 81, eta = 3).
    Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at Scale.
    ICML 2018 (HpBandSter's bracket sizes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from metakb.errors import ConfigError

__all__ = ["hyperband_budgets", "bracket_sizes", "SuccessiveHalving"]

BRACKET_RULES = ("hpbandster", "paper")


def hyperband_budgets(min_budget: float, max_budget: float, eta: float) -> np.ndarray:
    """The geometric budget ladder ``max_budget * eta ** -k``, smallest first (HpBandSter's).

    Its length is ``s_max + 1`` with ``s_max = floor(log_eta(max_budget / min_budget))``
    (up to rounding error), so the smallest budget is at least ``min_budget``.
    """
    if not 0 < min_budget <= max_budget:
        raise ConfigError(f"budgets must satisfy 0 < min_budget <= max_budget; got "
                          f"min_budget={min_budget}, max_budget={max_budget}")
    if eta <= 1:
        raise ConfigError(f"eta must be > 1; got {eta}")
    s_max = int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))
    return max_budget * np.power(float(eta), -np.arange(s_max, -1, -1, dtype=float))


def bracket_sizes(s: int, s_max: int, eta: float, rule: str = "hpbandster") -> list[int]:
    """Number of configurations in each successive-halving stage of bracket ``s``.

    Args:
        s: the bracket (``s + 1`` stages; ``s = s_max`` starts on the smallest budget).
        s_max: the index of the most aggressive bracket (number of budgets minus one).
        eta: the halving rate.
        rule: ``"hpbandster"``: ``n0 = floor((s_max + 1) / (s + 1)) * eta ** s`` (HpBandSter
            and BOHB); ``"paper"``: ``n0 = ceil((s_max + 1) / (s + 1) * eta ** s)`` (Hyperband,
            Algorithm 1). Later stages keep ``floor(n0 * eta ** -i)`` (at least 1).
    """
    if rule not in BRACKET_RULES:
        raise ConfigError(f"bracket rule {rule!r} is unknown; expected one of {BRACKET_RULES}")
    if not 0 <= s <= s_max:
        raise ConfigError(f"bracket s must be in [0, {s_max}]; got {s}")
    if rule == "hpbandster":
        n0 = int(math.floor((s_max + 1) / (s + 1)) * eta**s)
    else:
        n0 = int(math.ceil((s_max + 1) / (s + 1) * eta**s - 1e-9))
    return [max(int(n0 * eta ** (-i) + 1e-9), 1) for i in range(s + 1)]


class SuccessiveHalving:
    """One bracket: sample ``num_configs[0]`` configurations lazily, keep the best each stage.

    Jobs are handed out one at a time (:meth:`next_job`) so that several can be in flight; a
    stage ends when all its results are in, and the ``num_configs[k + 1]`` lowest losses (ties
    by sampling order) go on to the next budget, as in HpBandSter. As there, a failed
    evaluation (infinite loss) is never promoted: when fewer than ``num_configs[k + 1]``
    configurations succeeded, the free slots of the next stage are filled with new
    configurations from the sampler (HpBandSter's ``BaseIteration.get_next_run``).

    Args:
        bracket_id: the Hyperband iteration number.
        budgets: the budget of each stage.
        num_configs: the number of configurations of each stage.
    """

    def __init__(self, bracket_id: int, budgets: list[float], num_configs: list[int]) -> None:
        if len(budgets) != len(num_configs):
            raise ConfigError(f"a bracket needs one size per budget; got {len(budgets)} budgets "
                              f"and {len(num_configs)} sizes")
        self.bracket_id = bracket_id
        self.budgets = [float(b) for b in budgets]
        self.num_configs = [int(n) for n in num_configs]
        self.stage = 0
        self.configs: list[dict[str, Any]] = []
        self.members: list[list[int]] = [[] for _ in budgets]
        self.dispatched: set[tuple[int, int]] = set()
        self.results: dict[tuple[int, int], float] = {}

    @property
    def finished(self) -> bool:
        """Whether the last stage has all its results."""
        last = len(self.budgets) - 1
        return self.stage == last and self._stage_complete(last)

    def next_job(self, sampler: Callable[[float], dict[str, Any]]
                 ) -> tuple[int, int, float, dict[str, Any]] | None:
        """``(slot, stage, budget, config)`` of the next job, or None while waiting for results."""
        s = self.stage
        budget = self.budgets[s]
        for slot in self.members[s]:  # promoted configurations first, then new ones
            if (s, slot) not in self.dispatched:
                self.dispatched.add((s, slot))
                return slot, s, budget, self.configs[slot]
        if len(self.members[s]) < self.num_configs[s]:
            self.configs.append(sampler(budget))
            slot = len(self.configs) - 1
            self.members[s].append(slot)
            self.dispatched.add((s, slot))
            return slot, s, budget, self.configs[slot]
        return None

    def record(self, slot: int, stage: int, loss: float) -> None:
        """Store a result; advance to the next stage when this one is complete."""
        if (stage, slot) not in self.dispatched or (stage, slot) in self.results:
            raise ConfigError(f"bracket {self.bracket_id} has no pending job for slot {slot} at "
                              f"stage {stage}")
        self.results[(stage, slot)] = float(loss) if np.isfinite(loss) else math.inf
        if stage == self.stage and self._stage_complete(stage) and stage < len(self.budgets) - 1:
            ok = [m for m in self.members[stage] if math.isfinite(self.results[(stage, m)])]
            losses = np.array([self.results[(stage, m)] for m in ok])
            order = np.argsort(losses, kind="stable")
            self.members[stage + 1] = [ok[i] for i in order[: self.num_configs[stage + 1]]]
            self.stage += 1

    def _stage_complete(self, stage: int) -> bool:
        members = self.members[stage]
        return (len(members) == self.num_configs[stage]
                and all((stage, m) in self.results for m in members))

    # ------------------------------------------------------------------ state
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (infinite losses as None)."""
        return {
            "bracket_id": self.bracket_id, "budgets": self.budgets,
            "num_configs": self.num_configs, "stage": self.stage, "configs": self.configs,
            "members": self.members, "dispatched": sorted(map(list, self.dispatched)),
            "results": [[s, m, (v if math.isfinite(v) else None)]
                        for (s, m), v in sorted(self.results.items())],
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> SuccessiveHalving:
        """Rebuild a bracket from :meth:`to_dict`."""
        bracket = cls(state["bracket_id"], state["budgets"], state["num_configs"])
        bracket.stage = int(state["stage"])
        bracket.configs = [dict(c) for c in state["configs"]]
        bracket.members = [list(m) for m in state["members"]]
        bracket.dispatched = {(int(s), int(m)) for s, m in state["dispatched"]}
        bracket.results = {(int(s), int(m)): (math.inf if v is None else float(v))
                           for s, m, v in state["results"]}
        return bracket
