"""Tuned candidates for the configuration pool: BOHB on each training dataset, its incumbents kept.

Auto-sklearn 2.0 builds its portfolio candidates from the incumbents of an optimisation run on
every training dataset, then evaluates every candidate on every dataset. ``metakb build
--candidates bohb`` does the same with metakb's own :class:`~metakb.optimizers.BOHB`: on each
dataset of the build, ``n_evaluations`` evaluations with the build's protocol and evaluation
seed (budgets are fractions of the training rows, 1/9 to 1 by default, as ``optimize``), then the
``incumbents`` best distinct configurations of the largest budgets are added to the space's
configurations with their provenance (``configuration_sources``: the dataset searched, the
search's settings and seed, its loss). The build then evaluates the full matrix of its
configurations and every candidate of the space.

The searches' own evaluations are not stored: at the build's protocol they would add hundreds
of sparsely filled columns to the performance matrix. A search is recorded when it finishes
(its candidates and their sources in one transaction), so a rerun skips every dataset whose
search with the same settings is stored and repeats at most the searches in flight when it was
stopped. Searches of different datasets run side by side on the build's executor, each one
evaluation at a time (so each search is the same whatever ``--jobs``).

References:
    Feurer, Eggensperger, Falkner, Lindauer, Hutter. Auto-Sklearn 2.0: Hands-free AutoML via
    Meta-Learning. JMLR 2022.
    Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at Scale.
    ICML 2018.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from metakb.errors import ConfigError
from metakb.evaluation import DataRef, EvaluationResult, EvaluationTask, Protocol, run_task
from metakb.executors import Executor
from metakb.optimizers import BOHB, Result, Trial
from metakb.spaces import get_search_space
from metakb.store import KnowledgeBase, canonical_json, sha256_text

__all__ = ["CANDIDATE_KIND", "CANDIDATE_METHODS", "CandidateSearch", "SearchReport", "candidate_ids",
           "candidate_origins", "incumbents", "own_candidates", "tune_candidates"]

#: ``configuration_sources.kind`` of a BOHB incumbent.
CANDIDATE_KIND = "bohb-incumbent"
#: Values of ``metakb build --candidates``.
CANDIDATE_METHODS = ("none", "bohb")


@dataclass(frozen=True)
class CandidateSearch:
    """The settings of the search run on each training dataset.

    Args:
        n_evaluations: evaluations per dataset (``--per-dataset-evaluations``).
        incumbents: the best distinct configurations kept per dataset (``--incumbents``).
        min_budget / max_budget / eta: BOHB's budgets (fractions of the training rows).
        seed: the searches' seed; each dataset's BOHB gets its own seed derived from it and the
            dataset's content hash (:meth:`dataset_seed`), so that searches of different datasets
            do not start from the same random configurations.
    """

    n_evaluations: int = 64
    incumbents: int = 1
    min_budget: float = 1 / 9
    max_budget: float = 1.0
    eta: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        for flag, value in (("--per-dataset-evaluations", self.n_evaluations), ("--incumbents", self.incumbents)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{flag} must be an integer in [1, inf), got {value!r}")

    def dataset_seed(self, content_hash: str) -> int:
        """BOHB's seed on the dataset of this content hash (stable across knowledge bases)."""
        return int(sha256_text(f"{int(self.seed)}:{content_hash}")[:8], 16)

    def settings(self, space: str, protocol: Protocol, eval_seed: int, content_hash: str) -> dict[str, Any]:
        """Everything that decides the outcome of the search on one dataset: its identity."""
        return {"optimizer": "BOHB", "space": space, "protocol": protocol.key(), "metric": protocol.metric,
                "eval_seed": eval_seed, "budget_mode": "rows", "n_evaluations": int(self.n_evaluations),
                "incumbents": int(self.incumbents), "min_budget": float(self.min_budget),
                "max_budget": float(self.max_budget), "eta": float(self.eta), "seed": int(self.seed),
                "search_seed": self.dataset_seed(content_hash)}


@dataclass
class SearchReport:
    """What the candidate phase of a build did."""

    searched: int = 0
    reused: int = 0
    evaluations: int = 0
    failed: list[str] = field(default_factory=list)  # datasets whose search had no successful evaluation
    new_configurations: int = 0


@dataclass
class _Search:
    dataset_id: int
    ref: DataRef
    optimizer: BOHB
    settings: dict[str, Any]


def candidate_ids(kb: KnowledgeBase, space_id: int) -> list[int]:
    """Every tuned candidate stored for the space, in the order they were first stored."""
    sources = kb.configuration_sources(int(space_id))
    return [int(i) for i in dict.fromkeys(sources["configuration_id"].tolist())]


def candidate_origins(kb: KnowledgeBase, space: int | str) -> dict[int, set[str]]:
    """Tuned candidate id -> the names of the datasets whose searches found it (empty for a
    space without candidates): what a leave-one-dataset-out evaluation hides from a held-out
    dataset when it is the only origin."""
    sources = kb.configuration_sources(space)
    out: dict[int, set[str]] = {}
    for config_id, dataset in zip(sources["configuration_id"], sources["dataset"], strict=True):
        out.setdefault(int(config_id), set()).add(str(dataset))
    return out


def own_candidates(kb: KnowledgeBase, space: int | str, datasets: Iterable[str]) -> list[int]:
    """The tuned candidates every one of whose searches ran on one of ``datasets``: knowledge
    learned from those datasets only, which a warm start told not to learn from them
    (``exclude_datasets``, a dataset's own copy in the knowledge base) must not offer either."""
    from metakb.warmstart.evaluate import candidates_found_only_on

    return candidates_found_only_on(candidate_origins(kb, space), datasets)


def tune_candidates(kb: KnowledgeBase, datasets: list[tuple[int, DataRef]], *, space: str, space_id: int,
                    protocol: Protocol, eval_seed: int, search: CandidateSearch, executor: Executor, run_id: str,
                    origin: str, on_result: Callable[[], None] | None = None) -> SearchReport:
    """Search every dataset not yet searched with these settings; store the incumbents and
    their provenance as each search finishes.

    Args:
        datasets: ``(dataset_id, where the workers load it)`` of the training datasets.
        protocol / eval_seed: the build's protocol and evaluation seed (the matrix's own).
        executor: the build's executor; up to ``n_workers`` searches run side by side.
        on_result: called after every evaluation (progress).
    """
    report = SearchReport()
    todo: deque[tuple[int, DataRef, dict[str, Any]]] = deque()
    for dataset_id, ref in datasets:
        settings = search.settings(space, protocol, eval_seed, str(kb.get_dataset(int(dataset_id))["content_hash"]))
        if kb.configuration_sources(int(space_id), dataset=int(dataset_id), settings=settings).empty:
            todo.append((dataset_id, ref, settings))
        else:
            report.reused += 1
    configspace = get_search_space(space).build()
    in_flight: dict[Any, tuple[_Search, Trial]] = {}

    def submit(state: _Search) -> None:
        trial = state.optimizer.suggest()
        task = EvaluationTask((state.dataset_id, trial.trial_id), state.ref, dict(trial.config), protocol,
                              trial.budget, eval_seed)
        in_flight[executor.submit(run_task, task)] = (state, trial)

    while todo or in_flight:
        while todo and len(in_flight) < executor.n_workers:
            dataset_id, ref, settings = todo.popleft()
            submit(_Search(dataset_id, ref, BOHB(configspace, search.min_budget, search.max_budget, eta=search.eta,
                                                  seed=settings["search_seed"]), settings))
        for future in executor.wait_first(list(in_flight)):
            state, trial = in_flight.pop(future)
            value, error = executor.outcome(future)
            state.optimizer.observe(trial.trial_id, _loss(value if error is None else None, protocol))
            report.evaluations += 1
            if on_result is not None:
                on_result()
            if len(state.optimizer.history) < search.n_evaluations:
                submit(state)
                continue
            report.searched += 1
            report.new_configurations += _store(kb, state, space_id, search.incumbents, run_id, origin, report)
    return report


def _loss(result: EvaluationResult | None, protocol: Protocol) -> float | None:
    """BOHB's loss of an evaluation (None: failed, the worst)."""
    if result is None or result.status != "ok" or result.value is None:
        return None
    return -float(result.value) if protocol.higher_is_better else float(result.value)


def incumbents(history: list[Result], k: int) -> list[Result]:
    """The ``k`` best distinct configurations, largest budget first, then lowest loss (failed
    evaluations never count)."""
    ranked = sorted((r for r in history if math.isfinite(r.loss)), key=lambda r: (-r.budget, r.loss, r.trial_id))
    out: dict[str, Result] = {}
    for result in ranked:
        out.setdefault(canonical_json(result.config), result)
        if len(out) == k:
            break
    return list(out.values())


def _store(kb: KnowledgeBase, state: _Search, space_id: int, k: int, run_id: str, origin: str,
           report: SearchReport) -> int:
    """Store one finished search's incumbents and their sources in one transaction; return how
    many configurations were new to the space."""
    best = incumbents(state.optimizer.history, k)
    name = str(kb.get_dataset(int(state.dataset_id))["name"])
    if not best:
        report.failed.append(name)
        return 0
    with kb.transaction():
        before = len(kb.configurations(int(space_id)))
        ids = kb.add_configurations(int(space_id), [r.config for r in best], origin=origin,
                                    labels=[f"tuned:{name}"] * len(best))
        kb.add_configuration_sources([
            {"configuration_id": cid, "dataset_id": int(state.dataset_id), "kind": CANDIDATE_KIND, "rank": rank,
             "loss": r.loss, "budget": r.budget, "settings": state.settings, "run_id": run_id, "origin": origin}
            for rank, (cid, r) in enumerate(zip(ids, best, strict=True), start=1)])
        return len(kb.configurations(int(space_id))) - before
