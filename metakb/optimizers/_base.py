"""The ask/tell contract every metakb optimizer follows, and the loop that drives it.

Contract:

* :meth:`BaseOptimizer.suggest` returns a :class:`Trial` (a configuration, the budget to
  evaluate it on, and an id). It never blocks: several trials may be in flight at once.
* :meth:`BaseOptimizer.observe` takes the loss of a trial by id, in any order (lower is better;
  ``None``, NaN or an infinite loss mark a failed evaluation, counted as the worst).
* :meth:`BaseOptimizer.state` returns an :class:`OptimizerState` (JSON through ``to_dict`` /
  ``from_dict``) from which :func:`restore` rebuilds the optimizer: finished evaluations are
  kept, trials that were in flight are handed out again first, so a killed run resumes without
  repeating any finished evaluation.
* Every optimizer owns its ``numpy.random.Generator`` (``seed``); nothing touches global state.
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from metakb.errors import ConfigError, NotFoundError
from metakb.params import SEED, Predicate, validate_params

if TYPE_CHECKING:  # the executors' contract; imported for the annotations only (it costs 25 ms)
    from metakb.executors import Executor

__all__ = ["Trial", "Result", "OptimizerState", "OptimizeResult", "BaseOptimizer",
           "configspace_to_json", "configspace_from_json"]


@dataclass(frozen=True)
class Trial:
    """One evaluation to run: ``objective(config, budget)``."""

    trial_id: int
    config: dict[str, Any]
    budget: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """A finished trial (``loss`` is ``math.inf`` for a failed evaluation)."""

    trial_id: int
    config: dict[str, Any]
    budget: float
    loss: float
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (an infinite loss becomes None)."""
        out = asdict(self)
        out["loss"] = self.loss if math.isfinite(self.loss) else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Inverse of :meth:`to_dict`."""
        loss = math.inf if data["loss"] is None else float(data["loss"])
        return cls(int(data["trial_id"]), dict(data["config"]), float(data["budget"]), loss,
                   dict(data.get("info", {})))


@dataclass
class OptimizerState:
    """Everything needed to resume an optimizer, as plain JSON-ready data.

    Attributes:
        kind: the optimizer class name (``"BOHB"``, ``"RandomSearch"``).
        settings: the constructor's arguments (the space as ConfigSpace JSON).
        rng: the state of the optimizer's bit generator.
        next_trial_id: the id the next new trial gets.
        history: finished results, in the order they arrived.
        pending: trials handed out without a result yet.
        extra: the algorithm's own state (brackets, queues).
    """

    kind: str
    settings: dict[str, Any]
    rng: dict[str, Any]
    next_trial_id: int
    history: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        """A dict of JSON types."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OptimizerState:
        """Inverse of :meth:`to_dict`."""
        if int(data.get("version", 1)) != 1:
            raise ConfigError(f"optimizer state version {data.get('version')!r} is unknown; "
                              "expected 1")
        return cls(**{k: data[k] for k in ("kind", "settings", "rng", "next_trial_id",
                                           "history", "pending")},
                   extra=dict(data.get("extra", {})), version=1)


@dataclass
class OptimizeResult:
    """What :meth:`BaseOptimizer.optimize` returns.

    Attributes:
        best_config: the incumbent (lowest loss at the largest budget evaluated).
        best_loss: its loss.
        best_budget: the budget it was evaluated on.
        history: the results that arrived during this call, in arrival order.
        trajectory: one row per finished evaluation of this call: ``n_evaluations``,
            ``budget_used``, ``seconds``, ``incumbent_loss``, ``incumbent_budget`` (the
            incumbent is the best at the highest budget evaluated so far, so its loss can rise
            when a higher budget is first reached).
    """

    best_config: dict[str, Any] | None
    best_loss: float
    best_budget: float
    history: list[Result]
    trajectory: list[dict[str, float]]


Objective = Callable[[dict[str, Any], float], Any]
Callback = Callable[["BaseOptimizer", Result], None]


def _is_configspace(value: Any) -> bool:
    from ConfigSpace import ConfigurationSpace

    return isinstance(value, ConfigurationSpace)


class BaseOptimizer(abc.ABC):
    """An ask/tell optimizer (see the module docstring for the contract).

    Parameters are declared as in scikit-learn (:mod:`metakb.params`): the search space and the
    seed every optimizer takes here, the others in each subclass's ``_parameter_constraints``;
    :meth:`_validate_params` checks them all, in the constructor (an optimizer derives its
    state there: the space's encoding, the budgets, the prior's densities).
    """

    _seed_constraints: dict[str, list[Any]] = {"seed": [*SEED]}
    #: the first constructor parameter of every optimizer (checked with the subclass's table).
    _space_constraints: dict[str, list[Any]] = {
        "configspace": [Predicate(_is_configspace, "a ConfigSpace ConfigurationSpace")]}
    _parameter_constraints: dict[str, list[Any]] = {}

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        validate_params(self, self._seed_constraints)  # before numpy sees it (its TypeError is raw)
        self._rng = np.random.default_rng(seed)
        self._next_id = 0
        self._pending: dict[int, Trial] = {}
        self._requeue: list[Trial] = []
        self.history: list[Result] = []

    # ------------------------------------------------------------------ contract
    @abc.abstractmethod
    def _new_trial(self) -> tuple[dict[str, Any], float, dict[str, Any]]:
        """The next ``(config, budget, info)``; the base class assigns the id."""

    @abc.abstractmethod
    def _tell(self, trial: Trial, loss: float) -> None:
        """Learn from a finished trial (the base class keeps the history)."""

    @abc.abstractmethod
    def _settings(self) -> dict[str, Any]:
        """The constructor's arguments as JSON types."""

    def _validate_params(self) -> None:
        """Check the search space and the subclass's ``_parameter_constraints`` (ConfigError
        with scikit-learn's wording)."""
        validate_params(self, {**self._space_constraints, **self._seed_constraints,
                               **type(self)._parameter_constraints})

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        """Restore the algorithm's own state (history is replayed before this)."""
        del extra  # stateless by default

    def _replay(self, result: Result) -> None:
        """Feed a restored finished result to the model (default: nothing)."""
        del result  # no model by default

    # ------------------------------------------------------------------ ask / tell
    def suggest(self) -> Trial:
        """The next trial to evaluate (trials in flight when a run was killed come first)."""
        if self._requeue:
            trial = self._requeue.pop(0)
        else:
            config, budget, info = self._new_trial()
            trial = Trial(self._next_id, config, float(budget), info)
            self._next_id += 1
        self._pending[trial.trial_id] = trial
        return trial

    def observe(self, trial_id: int, loss: float | None, info: Mapping[str, Any] | None = None
                ) -> Result:
        """Record the loss of a trial handed out by :meth:`suggest` (any order).

        Raises:
            NotFoundError: no trial with this id is in flight.
        """
        trial = self._pending.pop(trial_id, None)
        if trial is None:
            raise NotFoundError(f"trial {trial_id!r} is not in flight; expected one of "
                                f"{sorted(self._pending)}")
        value = math.inf if loss is None or not np.isfinite(loss) else float(loss)
        result = Result(trial.trial_id, trial.config, trial.budget, value,
                        {**trial.info, **(dict(info) if info else {})})
        self._tell(trial, value)
        self.history.append(result)
        return result

    @property
    def pending(self) -> list[Trial]:
        """Trials handed out and not yet observed."""
        return list(self._pending.values())

    def incumbent(self) -> Result | None:
        """The lowest loss among results on the largest budget evaluated so far."""
        if not self.history:
            return None
        top = max(r.budget for r in self.history)
        return min((r for r in self.history if r.budget == top), key=lambda r: r.loss)

    # ------------------------------------------------------------------ state
    def state(self) -> OptimizerState:
        """A JSON-ready snapshot from which :func:`restore` resumes."""
        pending = [asdict(t) for t in self._requeue] + [asdict(t) for t in self._pending.values()]
        return OptimizerState(
            kind=type(self).__name__, settings=self._settings(),
            rng=_jsonable(self._rng.bit_generator.state), next_trial_id=self._next_id,
            history=[r.to_dict() for r in self.history], pending=pending,
            extra=self._extra_state())

    def _load_state(self, state: OptimizerState) -> None:
        self._rng.bit_generator.state = state.rng
        self._next_id = int(state.next_trial_id)
        for data in state.history:
            result = Result.from_dict(data)
            self.history.append(result)
            self._replay(result)
        self._load_extra_state(state.extra)
        self._requeue = [Trial(int(t["trial_id"]), dict(t["config"]), float(t["budget"]),
                               dict(t.get("info", {}))) for t in state.pending]

    # ------------------------------------------------------------------ loop
    def optimize(self, objective: Objective, *, n_evaluations: int | None = None,
                 time_budget: float | None = None, total_budget: float | None = None,
                 executor: Executor | None = None, callback: Callback | None = None,
                 progress: bool = True) -> OptimizeResult:
        """Run ``objective(config, budget)`` on suggested trials until a limit is reached.

        Args:
            objective: returns the loss (a float, or a mapping with ``"loss"``); an exception
                is recorded as a failed evaluation (infinite loss, error text in ``info``).
            n_evaluations: stop after this many evaluations (counting this call only).
            time_budget: stop handing out trials after this many seconds.
            total_budget: stop once the budgets handed out sum to this (in budget units).
            executor: a :mod:`metakb.executors` executor to run ``n_workers`` evaluations at
                once, asynchronously; None runs them one by one in this process.
            callback: called with ``(optimizer, result)`` as each result arrives (store it,
                save :meth:`state`).
            progress: show a tqdm progress bar.

        Raises:
            ConfigError: no limit is given, or a limit is not positive.
        """
        limits = {"n_evaluations": n_evaluations, "time_budget": time_budget,
                  "total_budget": total_budget}
        if all(v is None for v in limits.values()):
            raise ConfigError("optimize needs a limit: n_evaluations, time_budget or total_budget")
        for name, value in limits.items():
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be > 0; got {value!r}")
        loop = _Loop(self, objective, limits, callback, progress)
        return loop.run(executor)


class _Loop:
    """The optimize loop: keeps up to ``n_workers`` trials in flight."""

    def __init__(self, opt: BaseOptimizer, objective: Objective, limits: dict[str, Any],
                 callback: Callback | None, progress: bool) -> None:
        self.opt, self.objective, self.limits, self.callback = opt, objective, limits, callback
        self.start = time.monotonic()
        self.n_started = 0
        self.budget_started = 0.0
        self.budget_done = 0.0
        self.trajectory: list[dict[str, float]] = []
        self.bar = _progress_bar(limits, progress)

    def can_start(self) -> bool:
        n, t, b = (self.limits[k] for k in ("n_evaluations", "time_budget", "total_budget"))
        if n is not None and self.n_started >= n:
            return False
        if t is not None and time.monotonic() - self.start >= t:
            return False
        return not (b is not None and self.budget_started >= b - 1e-9)

    def next_trial(self) -> Trial:
        trial = self.opt.suggest()
        self.n_started += 1
        self.budget_started += trial.budget
        return trial

    def finish(self, trial: Trial, outcome: Any, error: str | None) -> None:
        loss, info = _parse_outcome(outcome, error)
        result = self.opt.observe(trial.trial_id, loss, info)
        self.budget_done += trial.budget
        best = self.opt.incumbent()
        self.trajectory.append({
            "n_evaluations": float(len(self.trajectory) + 1),
            "budget_used": self.budget_done,
            "seconds": time.monotonic() - self.start,
            "incumbent_loss": best.loss if best is not None else math.inf,
            "incumbent_budget": best.budget if best is not None else math.nan})
        if self.bar is not None:
            self.bar.update(1 if self.limits["total_budget"] is None else trial.budget)
        if self.callback is not None:
            self.callback(self.opt, result)

    def run(self, executor: Executor | None) -> OptimizeResult:
        first = len(self.opt.history)
        try:
            if executor is None:
                self._run_serial()
            else:
                self._run_parallel(executor)
        finally:
            if self.bar is not None:
                self.bar.close()
        best = self.opt.incumbent()
        return OptimizeResult(
            best_config=best.config if best else None,
            best_loss=best.loss if best else math.inf,
            best_budget=best.budget if best else math.nan,
            history=list(self.opt.history[first:]), trajectory=self.trajectory)

    def _run_serial(self) -> None:
        while self.can_start():
            trial = self.next_trial()
            try:
                outcome, error = self.objective(dict(trial.config), trial.budget), None
            except Exception as e:  # the objective's failure is a result, not our error
                outcome, error = None, f"{type(e).__name__}: {e}"
            self.finish(trial, outcome, error)

    def _run_parallel(self, executor: Executor) -> None:
        in_flight: dict[Any, Trial] = {}
        while True:
            while len(in_flight) < executor.n_workers and self.can_start():
                trial = self.next_trial()
                in_flight[executor.submit(self.objective, dict(trial.config), trial.budget)] = trial
            if not in_flight:
                return
            for future in executor.wait_first(list(in_flight)):
                trial = in_flight.pop(future)
                outcome, error = executor.outcome(future)
                self.finish(trial, outcome, error)


def _parse_outcome(outcome: Any, error: str | None) -> tuple[float | None, dict[str, Any]]:
    if error is not None:
        return None, {"status": "crashed", "error": error}
    if isinstance(outcome, Mapping):
        if "loss" not in outcome:
            return None, {"status": "crashed", "error": f"objective returned {outcome!r} "
                                                         "without 'loss'"}
        extra = {k: _to_builtin(v) for k, v in outcome.items() if k != "loss"}
        return _float_or_none(outcome["loss"]), {"status": "ok", **extra}
    return _float_or_none(outcome), {"status": "ok"}


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer | np.floating):
        return value.item()
    return value


def _progress_bar(limits: dict[str, Any], progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    if limits["total_budget"] is not None:
        return tqdm(total=limits["total_budget"], desc="budget", unit="")
    return tqdm(total=limits["n_evaluations"], desc="evaluations")


def configspace_to_json(space: Any) -> str:
    """ConfigSpace's own JSON of a space."""
    import json

    return json.dumps(space.to_serialized_dict())


def configspace_from_json(text: str) -> Any:
    """Inverse of :func:`configspace_to_json`."""
    import json

    from ConfigSpace import ConfigurationSpace

    return ConfigurationSpace.from_serialized_dict(json.loads(text))
