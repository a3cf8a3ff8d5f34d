"""BOHB on a dataset, warm-started from the knowledge base, storing every evaluation as it arrives.

This is the API behind ``metakb optimize``: the budget is the fraction of training rows
(``metakb.evaluation`` protocol), evaluations run in a worker process with a timeout (one at a
time) or on Dask workers (``n_workers > 1`` or a scheduler address), and each result is written
to the knowledge base together with the optimizer's state, in one transaction, so that
``resume=RUN_ID`` continues a killed run without repeating a stored evaluation.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field
from typing import Any

from metakb.errors import ConfigError
from metakb.optimizers._base import BaseOptimizer, Result
from metakb.optimizers._bohb import BOHB
from metakb.optimizers.warmstart import prior_from_scores, similarity_weights

__all__ = ["OptimizationReport", "optimize_table", "WARM_STARTS"]

WARM_STARTS = ("none", "knn", "portfolio")


@dataclass
class OptimizationReport:
    """The outcome of :func:`optimize_table`."""

    run_id: str
    dataset: str
    metric: str
    higher_is_better: bool
    best_config: dict[str, Any] | None
    best_score: float | None
    best_budget: float | None
    n_evaluations: int
    trajectory: list[dict[str, Any]] = field(default_factory=list)
    warm_start: str = "none"

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return dict(self.__dict__)


def _evaluate_in_process(table: Any, protocol: Any, seed: int, config: dict, budget: float
                         ) -> dict[str, Any]:
    """Evaluate on a Dask worker (no timeout there: Dask owns the process)."""
    from metakb.evaluation import evaluate_configuration

    result = evaluate_configuration(table, config, protocol=protocol, budget=budget, seed=seed)
    return _as_outcome(result, protocol.higher_is_better)


def _as_outcome(result: Any, higher_is_better: bool) -> dict[str, Any]:
    record = result.to_record()
    ok = result.status == "ok" and result.value is not None
    loss = (-result.value if higher_is_better else result.value) if ok else None
    return {"loss": loss, **record}


def optimize_table(table: Any, kb: Any, *, time_budget: float | None = None,
                   n_evaluations: int | None = None, space: str = "sklearn-cash",
                   protocol: str = "holdout:0.33:max_rows=1500", min_budget: float = 1 / 9,
                   max_budget: float = 1.0, eta: float = 3, warm_start: str = "none",
                   n_initial: int = 5, portfolio: str | None = None, n_workers: int = 1,
                   scheduler: str | None = None, resume: str | None = None, seed: int = 0,
                   timeout: float = 300.0, memory_mb: int = 4096,
                   progress: bool = False, exclude_datasets: tuple[str, ...] | list[str] = ()
                   ) -> OptimizationReport:
    """Run BOHB on ``table`` and store every evaluation in ``kb`` under one run id.

    Every setting is validated, the warm start read and the meta-features computed before the
    first write; the dataset, its meta-features, the space and the run are then written in one
    transaction, so a refused call leaves the knowledge base unchanged.

    Args:
        table: a :class:`metakb.data.Table`.
        kb: an open :class:`metakb.store.KnowledgeBase`.
        time_budget: seconds; no new evaluation starts after it.
        n_evaluations: or a number of evaluations.
        warm_start: ``none``, ``knn`` (recommendations of the nearest datasets first, and a KDE
            prior from their evaluations weighted by similarity) or ``portfolio`` (a stored
            portfolio first, and a prior from every dataset).
        resume: the run id of an interrupted run to continue.
        exclude_datasets: knowledge-base dataset names the warm start must not learn from
            (leave-one-dataset-out); the table itself is always excluded by content hash.

    Raises:
        ConfigError: an unknown warm start, no limit, a bad optimizer or worker setting, or a
            ``resume`` run that is not an optimize run of this table's dataset.
        NotFoundError: the run, space or portfolio is not in the knowledge base.
    """
    from metakb.build import _prepare_table, _write_table
    from metakb.evaluation import DataRef, EvaluationTask, Protocol, WorkerPool
    from metakb.spaces import get_search_space, space_to_json

    if warm_start not in WARM_STARTS:
        raise ConfigError(f"warm start {warm_start!r} is unknown; expected one of {WARM_STARTS}")
    _check_limits(time_budget, n_evaluations)
    if n_workers < 1:
        raise ConfigError(f"n_workers must be an int >= 1; got {n_workers!r}")
    local = not (n_workers > 1 or scheduler)
    # constructing the pool validates timeout and memory_mb; its worker starts on first use
    pool = WorkerPool(1, timeout=timeout, memory_mb=memory_mb) if local else None
    spec = get_search_space(space)
    configspace = spec.build()
    proto = Protocol.parse(protocol)
    content_hash = table.content_hash()  # once: it reads every value of the table
    if resume is not None:
        run = kb.get_run(resume)
        _check_resumable(kb, run, table, content_hash)
        from metakb.optimizers import restore

        opt: BaseOptimizer = restore(run["state"])
        run_id, settings = resume, run["settings"]
        proto = Protocol.parse(settings["protocol"])
        seed, warm_start = int(settings["seed"]), settings.get("warm_start", warm_start)
        dataset_id, space_id = run["dataset_id"], run["space_id"]
    else:
        initial, prior = _warm_start_lists(kb, table, warm_start, space, proto, n_initial,
                                           portfolio, _excluded(kb, content_hash, exclude_datasets))
        opt = BOHB(configspace, min_budget, max_budget, eta=eta, initial_configs=initial,
                   prior_observations=prior, seed=seed)
        prepared = _prepare_table(kb, table, meta_features=True, seed=0, content_hash=content_hash)
        settings = {"dataset": table.name, "space": space, "protocol": proto.key(),
                    "min_budget": min_budget, "max_budget": max_budget, "eta": eta,
                    "warm_start": warm_start, "seed": seed}

    with contextlib.ExitStack() as stack:
        executor = None
        if pool is not None:
            stack.enter_context(pool)
            ref = DataRef("table", table=table, key=content_hash)

            def objective(config: dict, budget: float) -> dict[str, Any]:
                task = EvaluationTask("optimize", ref, config, proto, budget, seed)
                _, evaluation = next(iter(pool.map_unordered([task])))
                return _as_outcome(evaluation, proto.higher_is_better)
        else:
            from metakb.executors import DaskExecutor

            # connected before the first write: an unreachable scheduler leaves the KB unchanged
            executor = stack.enter_context(DaskExecutor(n_workers, address=scheduler))
            objective = functools.partial(_evaluate_in_process, table, proto, seed)
        if resume is None:
            with kb.transaction():
                dataset_id = _write_table(kb, prepared, origin="metakb optimize")
                space_id = kb.add_space(spec.name, spec.version, space_to_json(configspace),
                                        origin="metakb optimize")
                run_id = kb.create_run("optimize", settings, origin="metakb optimize",
                                       dataset_id=dataset_id, space_id=space_id)
                kb.update_run(run_id, state=opt.state().to_dict())

        def store(optimizer: BaseOptimizer, result: Result) -> None:
            info = result.info
            with kb.transaction():
                config_id = kb.add_configuration(space_id, result.config,
                                                 origin=f"optimize:{run_id}")
                kb.add_evaluations([{
                    "dataset_id": dataset_id, "configuration_id": config_id,
                    "budget": result.budget, "protocol": proto.key(), "seed": seed,
                    "metric": proto.metric, "higher_is_better": proto.higher_is_better,
                    "value": info.get("value"), "scores": info.get("scores") or {},
                    "fit_seconds": info.get("fit_seconds"),
                    "status": info.get("status", "crashed"), "error": info.get("error"),
                    "run_id": run_id, "origin": f"optimize:{run_id}"}])
                kb.update_run(run_id, state=optimizer.state().to_dict())

        try:
            result = opt.optimize(objective, time_budget=time_budget, n_evaluations=n_evaluations,
                                  executor=executor, callback=store, progress=progress)
        except BaseException:
            kb.update_run(run_id, status="interrupted")  # continue it with resume=run_id
            raise
    kb.update_run(run_id, status="finished")
    sign = -1.0 if proto.higher_is_better else 1.0
    best = opt.incumbent()
    trajectory = [{"seconds": round(t["seconds"], 3), "evaluations": int(t["n_evaluations"]),
                   "best_score": sign * t["incumbent_loss"]
                   if math.isfinite(t["incumbent_loss"]) else None}
                  for t in result.trajectory]
    return OptimizationReport(
        run_id=run_id, dataset=table.name, metric=proto.metric,
        higher_is_better=proto.higher_is_better,
        best_config=best.config if best else None,
        best_score=sign * best.loss if best and math.isfinite(best.loss) else None,
        best_budget=best.budget if best else None, n_evaluations=len(opt.history),
        trajectory=trajectory, warm_start=warm_start)


def _check_limits(time_budget: float | None, n_evaluations: int | None) -> None:
    """The limits :meth:`BaseOptimizer.optimize` accepts, checked before anything is written."""
    if time_budget is None and n_evaluations is None:
        raise ConfigError("optimize needs a limit: n_evaluations or time_budget")
    for name, value in (("time_budget", time_budget), ("n_evaluations", n_evaluations)):
        if value is not None and not value > 0:
            raise ConfigError(f"{name} must be > 0; got {value!r}")


def _check_resumable(kb: Any, run: dict[str, Any], table: Any, content_hash: str) -> None:
    """Refuse to resume a run that is not an optimize run, or with another dataset's table."""
    given = table.source_id or table.name
    if run["kind"] != "optimize":
        raise ConfigError(f"run {run['id']!r} is a {run['kind']!r} run, not an optimize run; "
                          "--resume expects the id printed by `metakb optimize`")
    stored = kb.get_dataset(int(run["dataset_id"])) if run["dataset_id"] is not None else None
    if stored is None or stored["content_hash"] != content_hash:
        name = stored["name"] if stored else None
        raise ConfigError(f"run {run['id']!r} optimizes dataset {name!r}, but the given data {given} "
                          "is a different dataset; resume it with that dataset's file")
    if not run["state"]:
        raise ConfigError(f"run {run['id']!r} has no saved optimizer state to resume")


def _excluded(kb: Any, content_hash: str, names: tuple[str, ...] | list[str]) -> list[str]:
    """The dataset names a warm start leaves out: ``names`` and the table itself (by content)."""
    known = kb.find_dataset(content_hash)
    return sorted({*names, *([known["name"]] if known is not None else [])})


def _warm_start_lists(kb: Any, table: Any, warm_start: str, space: str, proto: Any,
                      n_initial: int, portfolio: str | None, excluded: list[str] | None = None
                      ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], float, float]]]:
    """The initial configurations and the KDE prior of a warm start, from the knowledge base."""
    if warm_start == "none":
        return [], []
    configurations = kb.configurations(space)
    configs = {int(i): row["config"] for i, row in configurations.iterrows()}
    scores = kb.performance_matrix(space, metric=proto.metric)
    scores = scores.loc[[d for d in scores.index if d not in set(excluded or ())]]
    higher = bool(scores.attrs.get("higher_is_better", True))
    if warm_start == "knn":
        from metakb.recommend import recommend

        report = recommend(table, kb, k=n_initial, method="knn", space=space, metric=proto.metric,
                           exclude_datasets=excluded or ())
        initial = [dict(r.config) for r in report.recommendations]
        distances: dict[str, float] = {}
        for rec in report.recommendations:
            for source in rec.sources:
                distances.setdefault(source["dataset"], float(source["distance"]))
        weights = similarity_weights(distances)
        scores = scores.loc[[d for d in scores.index if d in weights]]
        return initial, prior_from_scores(scores, configs, higher_is_better=higher,
                                          weights=weights)
    name = portfolio or _default_portfolio(kb, space)
    members = kb.get_portfolio(name)["members"]
    initial = [dict(m["config"]) for m in members[:n_initial]]
    return initial, prior_from_scores(scores, configs, higher_is_better=higher)


def _default_portfolio(kb: Any, space: str) -> str:
    frame = kb.portfolios()
    if frame.empty or not (frame["space"] == space).any():
        raise ConfigError(f"no portfolio of space {space!r} in the knowledge base; build one with "
                          "`metakb portfolio build` or pass --portfolio NAME")
    return str(frame[frame["space"] == space]["name"].iloc[0])
