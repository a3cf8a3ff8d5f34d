"""Workflow ``optimize``: BOHB on a dataset, warm-started from the knowledge base, storing every evaluation as it arrives.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from metakb.data import check_rows
from metakb.errors import ConfigError
from metakb.executors import Executor
from metakb.optimizers import BOHB, BaseOptimizer, Result
from metakb.optimizers.warmstart import prior_from_scores, similarity_weights
from metakb.workflows._runs import RunClock
from metakb.workflows.build import prepare_dataset, write_dataset
from metakb.workflows.task import resolve_task

__all__ = ["BUDGET_PRIORS", "OptimizationReport", "optimize_table", "WARM_STARTS", "budget_priors_from_kb"]

WARM_STARTS = ("none", "knn", "portfolio")
#: How a warm start seeds BOHB's models: ``each`` budget from the knowledge base's evaluations at
#: that budget (where it has them), or every budget from the ``full``-budget evaluations.
BUDGET_PRIORS = ("each", "full")


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


def _evaluate_in_process(ref: Any, protocol: Any, seed: int, config: dict, budget: float
                         ) -> dict[str, Any]:
    """Evaluate on a Dask worker through :func:`metakb.evaluation.run_task`, the task runner
    every executor uses (no timeout there: Dask owns the process)."""
    from metakb.evaluation import EvaluationTask, run_task

    result = run_task(EvaluationTask("optimize", ref, config, protocol, budget, seed))
    return _as_outcome(result, protocol.higher_is_better)


def _as_outcome(result: Any, higher_is_better: bool) -> dict[str, Any]:
    record = result.to_record()
    ok = result.status == "ok" and result.value is not None
    loss = (-result.value if higher_is_better else result.value) if ok else None
    return {"loss": loss, **record}


def optimize_table(table: Any | None, kb: Any, *, time_budget: float | None = None,
                   n_evaluations: int | None = None, space: str | None = None,
                   protocol: str = "holdout:0.33:max_rows=1500", min_budget: float = 1 / 9,
                   max_budget: float = 1.0, eta: float = 3, warm_start: str = "none",
                   n_initial: int = 5, portfolio: str | None = None, n_workers: int = 1,
                   scheduler: str | None = None, resume: str | None = None, seed: int = 0,
                   timeout: float = 300.0, memory_mb: int = 4096,
                   progress: bool = False, exclude_datasets: tuple[str, ...] | list[str] = (),
                   task: str | None = None, budget_priors: str = "each") -> OptimizationReport:
    """Run BOHB on ``table`` and store every evaluation in ``kb`` under one run id.

    Every setting is validated, the warm start read and the meta-features computed before the
    first write; the dataset, its meta-features, the space and the run are then written in one
    transaction, so a refused call leaves the knowledge base unchanged.

    Args:
        table: a :class:`metakb.data.Table`; None with ``resume`` reloads the file the run was
            started on (its path, target and categorical columns are stored with the run).
        kb: an open :class:`metakb.store.KnowledgeBase`.
        time_budget: seconds; no new evaluation starts after it.
        n_evaluations: or a number of evaluations. Both are the run's *total* limits: a resumed
            run continues to the limits it was started with (or to new totals when given),
            counting the evaluations and wall seconds of its earlier sessions.
        warm_start: ``none``, ``knn`` (recommendations of the nearest datasets first, and a KDE
            prior from their evaluations weighted by similarity) or ``portfolio`` (a stored
            portfolio first, and a prior from every dataset).
        resume: the run id of an interrupted run to continue.
        exclude_datasets: knowledge-base dataset names the warm start must not learn from
            (leave-one-dataset-out); the table itself is always excluded by content hash.
        space: the search space (None: the CASH space of the table's task type).
        task: ``classification`` or ``regression`` (None: detected, :mod:`metakb.workflows.task`);
            the protocol's metric is the task's (balanced accuracy, R²).
        budget_priors: ``each``: the model of each BOHB budget is seeded from the knowledge
            base's evaluations at that budget (learning curves, ``metakb build --budgets``) where
            it has them, from the full-budget ones otherwise; ``full``: every budget from the
            full-budget evaluations (the behaviour before learning curves existed).

    Raises:
        ConfigError: an unknown warm start, no limit, a bad optimizer or worker setting, or a
            ``resume`` run that is not an optimize run of this table's dataset.
        NotFoundError: the run, space or portfolio is not in the knowledge base.
    """
    from metakb.evaluation import DataRef, Protocol, WorkerPool
    from metakb.spaces import get_search_space, space_to_json

    if warm_start not in WARM_STARTS:
        raise ConfigError(f"warm start {warm_start!r} is unknown; expected one of {WARM_STARTS}")
    if budget_priors not in BUDGET_PRIORS:
        raise ConfigError(f"budget_priors must be one of {list(BUDGET_PRIORS)}, got {budget_priors!r}")
    run = kb.get_run(resume) if resume is not None else None
    if run is not None:
        time_budget, n_evaluations = _resumed_limits(run, time_budget, n_evaluations)
        table = table if table is not None else _stored_table(run)
    elif table is None:
        raise ConfigError("optimize needs a table (the dataset to tune on) unless it resumes a run")
    _check_limits(time_budget, n_evaluations)
    if n_workers < 1:
        raise ConfigError(f"n_workers must be an int >= 1; got {n_workers!r}")
    local = not (n_workers > 1 or scheduler)
    # constructing the pool validates timeout and memory_mb; its worker starts on first use
    pool = WorkerPool(1, timeout=timeout, memory_mb=memory_mb) if local else None
    if run is not None:
        space = space or run["settings"].get("space")
        task = task or run["settings"].get("task")
    setup = resolve_task(table, task=task, space=space)
    table, space = setup.table, setup.space
    spec = get_search_space(space)
    configspace = spec.build()
    proto = Protocol.for_task(protocol, setup.task)
    check_rows(table, proto)  # too small for the protocol: refused before anything is stored
    content_hash = table.content_hash()  # once: it reads every value of the table
    spent = 0.0
    if run is not None:
        _check_resumable(kb, run, table, content_hash)
        from metakb.optimizers import restore

        opt: BaseOptimizer = restore(run["state"])
        run_id, settings = run["id"], run["settings"]
        proto = Protocol.for_task(settings["protocol"], setup.task)
        seed, warm_start = int(settings["seed"]), settings.get("warm_start", warm_start)
        dataset_id, space_id = run["dataset_id"], run["space_id"]
        spent = float(run.get("elapsed_seconds") or 0.0)
        if _limits_reached(opt, spent, time_budget, n_evaluations):
            kb.update_run(run_id, status="finished")
            return _report(opt, None, run_id, table.name, proto, warm_start)
        kb.update_run(run_id, status="running")  # this process owns it now
    else:
        from metakb.optimizers import hyperband_budgets

        budgets = [float(b) for b in hyperband_budgets(min_budget, max_budget, eta)]
        initial, prior = _warm_start_lists(kb, table, warm_start, space, proto, n_initial,
                                           portfolio, _excluded(kb, content_hash, exclude_datasets),
                                           budgets=budgets if budget_priors == "each" else None)
        opt = BOHB(configspace, min_budget, max_budget, eta=eta, initial_configs=initial,
                   prior_observations=prior, seed=seed)
        prepared = prepare_dataset(kb, table, meta_features=True, seed=0, content_hash=content_hash)
        settings = {"dataset": table.name, "space": space, "task": setup.task, "protocol": proto.key(),
                    "min_budget": min_budget, "max_budget": max_budget, "eta": eta,
                    "warm_start": warm_start, "budget_priors": budget_priors, "seed": seed,
                    "limits": {"time_budget": time_budget, "n_evaluations": n_evaluations},
                    "data": _table_source(table)}

    ref = DataRef("table", table=table, key=content_hash)
    deadline = None if time_budget is None else time.monotonic() + time_budget - spent
    with contextlib.ExitStack() as stack:
        objective, executor = _objective(stack, pool, ref, proto, seed, n_workers, scheduler, deadline)
        if resume is None:
            with kb.transaction():
                dataset_id = write_dataset(kb, prepared, origin="metakb optimize")
                space_id = kb.add_space(spec.name, spec.version, space_to_json(configspace),
                                        origin="metakb optimize")
                kb.interrupt_stale_runs("optimize")  # killed runs: resumable, not 'running'
                run_id = kb.create_run("optimize", settings, origin="metakb optimize",
                                       dataset_id=dataset_id, space_id=space_id)
                kb.update_run(run_id, state=opt.state().to_dict())

        clock = RunClock(kb, run_id, spent)
        store = _store_callback(kb, run_id, dataset_id, space_id, proto, seed, clock)
        remaining_time = None if time_budget is None else time_budget - spent
        remaining_evaluations = (None if n_evaluations is None
                                 else n_evaluations - len(opt.history))
        try:
            with clock:
                result = opt.optimize(objective, time_budget=remaining_time,
                                      n_evaluations=remaining_evaluations,
                                      executor=executor, callback=store, progress=progress)
        except BaseException:
            kb.update_run(run_id, status="interrupted",  # continue it with resume=run_id
                          elapsed_seconds=clock.elapsed())
            raise
    kb.update_run(run_id, status="finished", elapsed_seconds=clock.elapsed())
    return _report(opt, result, run_id, table.name, proto, warm_start)


def _table_source(table: Any) -> dict[str, Any] | None:
    """Where a file-backed table comes from, so that ``resume`` can reload it alone."""
    if table.source != "file" or not table.source_id:
        return None
    categorical = [str(c) for c, flag in zip(table.X.columns, table.categorical, strict=True)
                   if flag]
    return {"path": table.source_id, "target": table.target, "name": table.name,
            "categorical": categorical}


def _stored_table(run: dict[str, Any]) -> Any:
    """The table a run was started on, reloaded from its file (``resume`` without DATA)."""
    from metakb.data import load_table

    source = run["settings"].get("data")
    if not source:
        raise ConfigError(f"run {run['id']!r} does not record its data file; resume it with "
                          "DATA and --target")
    return load_table(source["path"], source["target"], name=source["name"],
                      categorical=source["categorical"])


def _resumed_limits(run: dict[str, Any], time_budget: float | None, n_evaluations: int | None
                    ) -> tuple[float | None, int | None]:
    """A resumed run's total limits: the ones given now, else the ones it was started with."""
    if time_budget is not None or n_evaluations is not None:
        return time_budget, n_evaluations
    limits = run["settings"].get("limits")
    if not limits:
        raise ConfigError(f"run {run['id']!r} does not record its limits; resume it with "
                          "--n-evaluations or --time-budget (totals for the whole run)")
    return limits.get("time_budget"), limits.get("n_evaluations")


#: Shortest timeout an evaluation gets when the time budget is almost spent.
MIN_EVALUATION_SECONDS = 1.0


def _limits_reached(opt: BaseOptimizer, spent: float, time_budget: float | None,
                    n_evaluations: int | None) -> bool:
    return ((n_evaluations is not None and len(opt.history) >= n_evaluations)
            or (time_budget is not None and spent >= time_budget))


def _objective(stack: contextlib.ExitStack, pool: Any, ref: Any, proto: Any, seed: int, n_workers: int,
               scheduler: str | None, deadline: float | None = None,
               ) -> tuple[Callable[[dict, float], dict[str, Any]], Executor | None]:
    """The objective of the optimizer and the executor it runs on (None: called in this process).

    Locally each evaluation goes to the worker pool (one at a time, with its timeout and memory
    cap) through :func:`metakb.evaluation.evaluate_tasks`; with several workers or a scheduler the
    optimizer submits :func:`_evaluate_in_process` to a Dask executor. Locally an evaluation
    never runs past the time budget (``deadline``, on the ``time.monotonic`` clock): its timeout
    is the smaller of the pool's own and the time left (at least :data:`MIN_EVALUATION_SECONDS`),
    so one slow configuration cannot stretch a 60 s search to minutes; such an evaluation is
    stored with status ``timeout`` and its error says it hit the budget.
    """
    from metakb.evaluation import EvaluationTask, evaluate_tasks

    if pool is not None:
        stack.enter_context(pool)
        full_timeout = pool.timeout

        def objective(config: dict, budget: float) -> dict[str, Any]:
            if deadline is not None:
                pool.timeout = min(full_timeout, max(MIN_EVALUATION_SECONDS, deadline - time.monotonic()))
            task = EvaluationTask("optimize", ref, config, proto, budget, seed)
            _, evaluation = next(evaluate_tasks(pool, [task]))
            return _as_outcome(evaluation, proto.higher_is_better)

        return objective, None
    from metakb.executors import DaskExecutor

    # connected before the first write: an unreachable scheduler leaves the KB unchanged
    executor = stack.enter_context(DaskExecutor(n_workers, address=scheduler))
    return functools.partial(_evaluate_in_process, ref, proto, seed), executor


def _store_callback(kb: Any, run_id: str, dataset_id: int, space_id: int, proto: Any, seed: int,
                    clock: RunClock) -> Callable[[BaseOptimizer, Result], None]:
    """The optimizer's callback: store each result and the optimizer's state in one transaction."""

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
            kb.update_run(run_id, state=optimizer.state().to_dict(),
                          elapsed_seconds=clock.elapsed())

    return store


def _report(opt: BaseOptimizer, result: Any, run_id: str, dataset: str, proto: Any,
            warm_start: str) -> OptimizationReport:
    """The report of a finished run: the incumbent and the trajectory, as scores."""
    sign = -1.0 if proto.higher_is_better else 1.0
    best = opt.incumbent()
    trajectory = [{"seconds": round(t["seconds"], 3), "evaluations": int(t["n_evaluations"]),
                   "best_score": sign * t["incumbent_loss"]
                   if math.isfinite(t["incumbent_loss"]) else None,
                   "best_budget": t["incumbent_budget"]
                   if math.isfinite(t.get("incumbent_budget", math.nan)) else None}
                  for t in (result.trajectory if result is not None else [])]
    return OptimizationReport(
        run_id=run_id, dataset=dataset, metric=proto.metric,
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
    if run["status"] == "running" and run["id"] not in {r["id"] for r in kb.stale_runs()}:
        raise ConfigError(f"run {run['id']!r} is still running (owner {run.get('owner')}); "
                          "wait for it to finish, or stop it before resuming")


def _excluded(kb: Any, content_hash: str, names: tuple[str, ...] | list[str]) -> list[str]:
    """The dataset names a warm start leaves out: ``names`` and the table itself (by content)."""
    known = kb.find_dataset(content_hash)
    return sorted({*names, *([known["name"]] if known is not None else [])})


Prior = list[tuple[dict[str, Any], float, float]]


def budget_priors_from_kb(kb: Any, space: str, metric: str, budgets: list[float], full: Prior,
                          datasets: list[str], configs: dict[int, dict[str, Any]], higher: bool,
                          weights: dict[str, float] | None = None, protocol: str | None = None
                          ) -> Prior | dict[float, Prior]:
    """BOHB's prior per budget: from the evaluations of ``datasets`` at each of ``budgets`` that
    the knowledge base holds (rank quantiles, as :func:`prior_from_scores`), the ``full``-budget
    prior for the largest budget and for every budget without evaluations. Without any lower
    budget's evaluations it is ``full`` itself (one prior for every budget). ``protocol``: the
    full-budget matrix's, so that no budget's prior mixes in another protocol's scores. Only
    the configurations of ``configs`` are used (the warm start's hidden candidates are not in it)."""
    out: dict[float, Prior] = {}
    for budget in budgets[:-1]:
        scores = kb.performance_matrix(space, metric=metric, budget=budget, protocol=protocol)
        scores = scores.loc[[d for d in scores.index if d in set(datasets)],
                            [c for c in scores.columns if int(c) in configs]]  # hidden candidates stay out
        prior = prior_from_scores(scores, configs, higher_is_better=higher, weights=weights) if len(scores) else []
        if prior:
            out[budget] = prior
    if not out or not full:
        return full
    return {b: out.get(b, full) for b in budgets}


def _warm_start_lists(kb: Any, table: Any, warm_start: str, space: str, proto: Any,
                      n_initial: int, portfolio: str | None, excluded: list[str] | None = None,
                      budgets: list[float] | None = None,
                      ) -> tuple[list[dict[str, Any]], Prior | dict[float, Prior]]:
    """The initial configurations and the KDE prior of a warm start, from the knowledge base
    (with ``budgets``, BOHB's budgets: a prior per budget, :func:`budget_priors_from_kb`)."""
    if warm_start == "none":
        return [], []
    from metakb.workflows.candidates import own_candidates

    hidden = set(own_candidates(kb, space, excluded or ()))  # tuned only on an excluded dataset
    configurations = kb.configurations(space)
    configs = {int(i): row["config"] for i, row in configurations.iterrows() if int(i) not in hidden}
    scores = kb.performance_matrix(space, metric=proto.metric)
    scores = scores.loc[[d for d in scores.index if d not in set(excluded or ())],
                        [c for c in scores.columns if int(c) not in hidden]]
    higher = bool(scores.attrs.get("higher_is_better", True))
    if warm_start == "knn":
        from metakb.workflows.recommend import recommend

        report = recommend(table, kb, k=n_initial, method="knn", space=space, metric=proto.metric,
                           exclude_datasets=excluded or ())
        initial = [dict(r.config) for r in report.recommendations]
        distances: dict[str, float] = {}
        for rec in report.recommendations:
            for source in rec.sources:
                distances.setdefault(source["dataset"], float(source["distance"]))
        weights = similarity_weights(distances)
        scores = scores.loc[[d for d in scores.index if d in weights]]
        full = prior_from_scores(scores, configs, higher_is_better=higher, weights=weights)
        if budgets is None:
            return initial, full
        return initial, budget_priors_from_kb(kb, space, proto.metric, budgets, full, list(scores.index),
                                              configs, higher, weights, scores.attrs.get("protocol"))
    stored = kb.get_portfolio(portfolio or _default_portfolio(kb, space))
    initial = [dict(m["config"]) for m in stored["members"][:n_initial]]
    if set(excluded or ()) & {d["name"] for d in stored["datasets"]} or any(
            int(m["configuration_id"]) in hidden for m in stored["members"][:n_initial]):
        initial = _portfolio_without(scores, configs, stored, n_initial)
    full = prior_from_scores(scores, configs, higher_is_better=higher)
    if budgets is None:
        return initial, full
    return initial, budget_priors_from_kb(kb, space, proto.metric, budgets, full, list(scores.index), configs,
                                          higher, protocol=scores.attrs.get("protocol"))


def _portfolio_without(scores: Any, configs: dict[int, dict[str, Any]], stored: dict[str, Any],
                       n_initial: int) -> list[dict[str, Any]]:
    """The first ``n_initial`` members of the stored greedy portfolio rebuilt on ``scores``.

    A stored portfolio built on an excluded dataset (the table itself, in a leave-one-dataset-out
    benchmark) would carry that dataset's best configurations into the warm start; the same
    greedy construction with the same settings is rerun on the matrix without it instead.
    """
    from portfolios import greedy_portfolio

    settings = stored.get("settings") or {}
    size = min(max(n_initial, 1), scores.shape[1])
    rebuilt = greedy_portfolio(scores, size, higher_is_better=bool(scores.attrs.get("higher_is_better", True)),
                               missing=settings.get("missing", "worst"), normalize=settings.get("normalize", True))
    return [dict(configs[int(str(c))]) for c in rebuilt.members]


def _default_portfolio(kb: Any, space: str) -> str:
    frame = kb.portfolios()
    if frame.empty or not (frame["space"] == space).any():
        raise ConfigError(f"no portfolio of space {space!r} in the knowledge base; build one with "
                          "`metakb portfolio build` or pass --portfolio NAME")
    return str(frame[frame["space"] == space]["name"].iloc[0])
