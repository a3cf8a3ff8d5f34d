"""The few-shot learners: Reptile, first-order MAML, MetaNAS and Prototypical Networks.

All four follow the scikit-learn contract: ``__init__`` stores the settings, ``fit`` meta-trains
and returns ``self``, learned state ends in ``_`` (``model_``, ``history_``). Gradient-based
learners adapt a whole meta-batch of tasks at once with ``torch.func.vmap``.

References:
    Nichol, Achiam, Schulman. On First-Order Meta-Learning Algorithms. 2018 (Reptile).
    Finn, Abbeel, Levine. Model-Agnostic Meta-Learning. ICML 2017 (first-order MAML).
    Elsken, Staffler, Metzen, Hutter. Meta-Learning of Neural Architectures for Few-Shot
    Learning. CVPR 2020 (MetaNAS).
    Snell, Swersky, Zemel. Prototypical Networks for Few-shot Learning. NeurIPS 2017.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import pickle  # only for its error class: checkpoints are read with weights_only=True
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import grad_and_value, vjp, vmap

from nas_meta._errors import ConfigError
from nas_meta._functional import (
    HEAD_INITS,
    AdaptConfig,
    accuracy,
    adapt,
    carried_head,
    prototype_head,
    task_loss,
)
from nas_meta._progress import progress
from nas_meta.backbones import Conv4, check_feature_scale
from nas_meta.episodes import Episodes, EpisodeSampler
from nas_meta.genotypes import discretise, parameter_free_share
from nas_meta.graphs import GraphedFunction
from nas_meta.supernet import SearchNetwork

__all__ = ["FewShotLearner", "Reptile", "FOMAML", "MetaNAS", "ProtoNet", "METHODS", "TAU_SCHEDULES",
           "load_learner", "mean_ci95"]

TAU_SCHEDULES = ("meta", "task")


def mean_ci95(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its normal 95% confidence interval."""
    values = np.asarray(values, dtype=float)
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(half)


def _tasks_vmap(fn: Any, in_dims: tuple, device: torch.device) -> Any:
    """``vmap(fn, in_dims)`` over the tasks of a batch on CUDA; one task at a time elsewhere.

    Batched over all tasks at once, every task's activations (and their gradients) of a
    supernet adaptation step are alive together: on the CPU, 8 tasks of a tiny MetaNAS
    supernet (8 channels, 3 cells) took 7.0 GB of resident memory for one step, one task
    1.3 GB (issue 25). Off CUDA the tasks therefore run one after another, as plain calls whose
    outputs are stacked as vmap stacks them: the same arithmetic, peak memory of one task, and
    no vmap batching rules -- ``vmap(..., chunk_size=1)`` gave the same memory but made a
    depthwise convolution's gradient 5x slower than a plain call on the CPU (27 vs 5 ms). On
    CUDA the tasks stay batched (the GPU's parallelism, and one captured graph per meta-step).
    """
    if device.type == "cuda":
        return vmap(fn, in_dims=in_dims)

    def one_task_at_a_time(*args: Any) -> Any:
        sizes = {a.shape[d] for a, d in zip(args, in_dims, strict=True) if d is not None}
        if len(sizes) != 1:
            raise ValueError(f"the batched arguments disagree on the number of tasks: {sorted(sizes)}")
        outputs = [fn(*[a if d is None else a.select(d, i) for a, d in zip(args, in_dims, strict=True)])
                   for i in range(sizes.pop())]
        return _stack_outputs(outputs)

    return one_task_at_a_time


def _stack_outputs(outputs: list[Any]) -> Any:
    """Per-task outputs (tensors, or tuples/lists/dicts of them) stacked along a new first dim."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(outputs)
    if isinstance(first, dict):
        return {k: _stack_outputs([o[k] for o in outputs]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_outputs(list(column)) for column in zip(*outputs, strict=True))
    raise TypeError(f"cannot stack task outputs of type {type(first).__name__}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class FewShotLearner:
    """Base of the learners: settings, the fit loop with a time budget, evaluation, saving.

    Subclasses implement ``_build_model``, ``_meta_step`` and ``_eval_batch``; their
    ``__init__`` keyword arguments are the settings saved in a checkpoint's ``config.json``.
    """

    method: ClassVar[str] = ""
    #: every constructor parameter -> its accepted values, checked by the constructor.
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, *, device: str = "cpu", seed: int = 0) -> None:
        self.device = device
        self.seed = seed

    # ------------------------------------------------------------------ settings
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor settings (as scikit-learn's ``get_params``; nothing is nested)."""
        names = [p for c in type(self).__mro__ if c is not object
                 for p in inspect.signature(vars(c).get("__init__", object.__init__)).parameters
                 if p not in ("self", "args", "kwargs")]
        return {n: getattr(self, n) for n in dict.fromkeys(names)}

    def set_params(self, **params: Any) -> FewShotLearner:
        """Change settings (as scikit-learn's ``set_params``), checked as the constructor checks
        them; return ``self``.

        Raises:
            ConfigError: an unknown setting, or a value outside its ``_parameter_constraints``.
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {name!r}; expected one of {sorted(valid)}")
            setattr(self, name, value)
        _validate_params(self)
        return self

    def _check(self, name: str, value: float, low: float, high: float = math.inf) -> None:
        if not low <= value <= high:
            raise ConfigError(f"{name} of {type(self).__name__} must be in [{low}, {high}]; got {value}")

    # ------------------------------------------------------------------ to implement
    def _build_model(self) -> nn.Module:
        raise NotImplementedError

    def _meta_step(self, episodes: Episodes, progress_frac: float) -> float | torch.Tensor:
        """One meta-update; returns its training loss (a tensor stays on the device)."""
        raise NotImplementedError

    def _eval_batch(self, episodes: Episodes) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _build_optimizer(self) -> tuple[torch.optim.Optimizer, Any] | None:
        """The outer optimiser and its step-size scheduler (or None), for learners that have one."""
        return None

    def _extra_state(self) -> dict[str, Any]:
        """Learned state outside the state dict (plain JSON values), saved in ``config.json``."""
        return {}

    def _restore_extra_state(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`_extra_state` saved (``{}`` for checkpoints without it)."""

    # ------------------------------------------------------------------ training
    def _reset(self) -> None:
        """Forget everything learned (model, optimiser, captured graphs): a new ``fit`` starts
        from the seeded initial weights, as scikit-learn's ``fit`` does."""
        for name in ("model_", "optimizer_", "scheduler_", "device_", "history_", "train_seconds_", "steps_done_",
                     "paused_", "_graph_cache", "_scalar_buffers"):
            self.__dict__.pop(name, None)

    def _ensure_model(self) -> None:
        if not hasattr(self, "model_"):
            self.device_ = torch.device(self.device)
            self.model_ = self._build_model().to(self.device_)
            built = self._build_optimizer()
            if built is not None:
                self.optimizer_, self.scheduler_ = built
            self.history_: list[dict[str, float]] = []
            self.train_seconds_ = 0.0
            self.steps_done_ = 0
            self.paused_ = False

    def fit(self, sampler: EpisodeSampler, steps: int, *, meta_batch: int = 1, time_budget: float | None = None,
            show_progress: bool = True, resume: bool = False, stop_after: float | None = None) -> FewShotLearner:
        """Meta-train for ``steps`` meta-steps, or until ``time_budget`` seconds have passed.

        Schedules (step sizes, temperature, the architecture's search window) follow the share
        of the run that is done: ``max(step / steps, elapsed / time_budget)``, so a run cut by
        its budget still completes them; a warning then says how many steps were done.

        Without ``resume`` every call starts afresh from the seeded initial weights (a second
        ``fit`` does not continue the first). A long run can be split into several calls (a machine lent for 10 minutes at a time, a
        preempted job): ``stop_after`` pauses this call after that many seconds with the
        schedules where they are (``paused_`` is then True; :meth:`save` keeps the optimiser's
        state too), and ``resume=True`` continues them, counting the steps and seconds already
        done towards ``steps`` and ``time_budget``.

        Args:
            sampler: meta-train episodes (its ways and shots are the training task's).
            steps: meta-steps (each one a meta-batch of tasks), in all.
            meta_batch: tasks per meta-step.
            time_budget: wall-clock seconds of meta-training at most, in all.
            show_progress: draw a progress bar.
            resume: continue a paused run (fitted or loaded) instead of starting its schedules anew.
            stop_after: seconds of this call after which to pause.
        """
        self._check("steps", steps, 1)
        self._check("meta_batch", meta_batch, 1)
        if time_budget is not None and not time_budget > 0:
            raise ConfigError(f"time_budget of {type(self).__name__}.fit must be > 0 seconds or None; got {time_budget}")
        if stop_after is not None and not stop_after > 0:
            raise ConfigError(f"stop_after of {type(self).__name__}.fit must be > 0 seconds or None; got {stop_after}")
        if resume and not hasattr(self, "model_"):
            raise ConfigError(f"resume=True needs a fitted or loaded {type(self).__name__}; fit it first or load_learner")
        if not resume:
            self._reset()
        self._ensure_model()
        first, before = (self.steps_done_, self.train_seconds_) if resume else (0, 0.0)
        self.paused_ = False
        _sync(self.device_)
        start = time.perf_counter()
        bar = progress(range(first, steps), desc=f"{self.method} meta-train", enabled=show_progress)
        for step in bar:
            elapsed = time.perf_counter() - start
            if stop_after is not None and elapsed >= stop_after:
                self.paused_ = True
                break
            frac = step / steps if time_budget is None else max(step / steps, (before + elapsed) / time_budget)
            if frac >= 1.0:
                warnings.warn(f"{self.method}: time budget of {time_budget:.0f} s reached after {step} of {steps} meta-steps",
                              RuntimeWarning, stacklevel=2)
                break
            loss = self._meta_step(sampler.sample(meta_batch), frac)
            self.steps_done_ = step + 1
            if step % 50 == 0 or step == steps - 1:  # the only device-to-host read of the loop
                value = float(loss)
                self.history_.append({"step": float(step), "loss": value, "seconds": elapsed})
                bar.set_postfix(loss=f"{value:.3f}")
        _sync(self.device_)
        self.train_seconds_ += time.perf_counter() - start
        return self

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, sampler: EpisodeSampler, episodes: int = 600, *, batch: int = 50,
                 time_budget: float | None = None, show_progress: bool = True,
                 per_episode: bool = False) -> dict[str, Any]:
        """Mean query accuracy over ``episodes`` test episodes, with its 95% CI.

        Two learners evaluated with samplers of the same seed see the same episodes, so with
        ``per_episode=True`` (the accuracy of every episode, in order, under ``"per_episode"``)
        they can be compared episode by episode.

        Returns:
            ``accuracy``, ``ci95``, ``episodes``, ``ways``, ``shots``, ``eval_seconds`` and any
            per-method statistics; ``episodes`` is the number done, fewer than asked when
            ``time_budget`` (seconds) ended the evaluation early (for MetaNAS the supernet's
            accuracy before discretisation and the share of parameter-free operations in the
            task-adapted cells).
        """
        if not hasattr(self, "model_"):
            raise ConfigError(f"{type(self).__name__} must be fitted (or loaded) before evaluate")
        self._check("episodes", episodes, 2)
        _sync(self.device_)
        start = time.perf_counter()
        stats: dict[str, list[np.ndarray]] = {}
        done = 0
        bar = progress(total=episodes, desc=f"{self.method} eval {sampler.ways}w{sampler.shots}s", enabled=show_progress)
        while done < episodes and (time_budget is None or done == 0 or time.perf_counter() - start < time_budget):
            n = min(batch, episodes - done)
            for key, value in self._eval_batch(sampler.sample(n)).items():
                stats.setdefault(key, []).append(value.detach().float().cpu().numpy())
            done += n
            bar.update(n)
        bar.close()
        _sync(self.device_)
        accuracies = np.concatenate(stats.pop("accuracy"))
        acc, ci = mean_ci95(accuracies)
        result: dict[str, Any] = {"method": self.method, "ways": sampler.ways, "shots": sampler.shots,
                                  "episodes": done, "accuracy": acc, "ci95": ci,
                                  "eval_seconds": time.perf_counter() - start}
        if per_episode:
            result["per_episode"] = accuracies.tolist()
        for key, chunks in stats.items():
            result[key], result[key + "_ci95"] = mean_ci95(np.concatenate(chunks))
        return result

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Write ``checkpoint.pt`` (the state dict: tensors only), ``config.json`` and, for the
        learners with an outer optimiser, ``optimizer.pt`` (its state dict and its scheduler's),
        so that :func:`load_learner` and ``fit(resume=True)`` continue where this run stopped."""
        if not hasattr(self, "model_"):
            raise ConfigError(f"{type(self).__name__} must be fitted before save")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in self.model_.state_dict().items()}, folder / "checkpoint.pt")
        if getattr(self, "optimizer_", None) is not None:
            scheduler = getattr(self, "scheduler_", None)
            torch.save({"optimizer": self.optimizer_.state_dict(),
                        "scheduler": None if scheduler is None else scheduler.state_dict()}, folder / "optimizer.pt")
        config = {"method": self.method, "params": self.get_params(), "steps_done": self.steps_done_,
                  "train_seconds": self.train_seconds_, "history": self.history_, "paused": self.paused_,
                  "state": self._extra_state()}
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        return folder / "checkpoint.pt"


def load_learner(checkpoint: str | Path, *, device: str | None = None) -> FewShotLearner:
    """A learner from ``checkpoint.pt`` (or its folder) and the ``config.json`` beside it.

    Raises:
        ConfigError: the files are missing or name an unknown method.
    """
    path = Path(checkpoint)
    folder = path if path.is_dir() else path.parent
    ckpt = folder / "checkpoint.pt" if path.is_dir() else path
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"checkpoint must be a folder with checkpoint.pt and config.json; got {checkpoint} ({exc})") from exc
    try:  # tensors only: a file holding other objects is refused, never unpickled
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"checkpoint {ckpt} is not a state dict of tensors that torch can read ({first})") from exc
    cls = METHODS.get(config.get("method", ""))
    if cls is None:
        raise ConfigError(f"checkpoint method must be one of {sorted(METHODS)}; got {config.get('method')!r}")
    params = dict(config["params"])
    if device is not None:
        params["device"] = device
    learner = cls(**params)
    learner._ensure_model()
    try:
        learner.model_.load_state_dict(state)
    except (RuntimeError, TypeError) as exc:  # other shapes or names than config.json's network
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(f"checkpoint {ckpt} does not match the {config['method']} network of its config.json "
                          f"({first})") from exc
    learner.steps_done_ = int(config.get("steps_done", 0))
    learner.train_seconds_ = float(config.get("train_seconds", 0.0))
    learner.history_ = list(config.get("history", []))
    learner.paused_ = bool(config.get("paused", False))
    learner._restore_extra_state(dict(config.get("state", {})))
    opt_file = folder / "optimizer.pt"
    if getattr(learner, "optimizer_", None) is not None and opt_file.exists():
        opt_state = torch.load(opt_file, map_location="cpu", weights_only=True)
        learner.optimizer_.load_state_dict(opt_state["optimizer"])
        if opt_state.get("scheduler") is not None and learner.scheduler_ is not None:
            learner.scheduler_.load_state_dict(opt_state["scheduler"])
    return learner


# ---------------------------------------------------------------------- parameter tables
# Each learner declares ``_parameter_constraints`` (every constructor parameter -> the accepted
# values, any one of which will do) as scikit-learn and metakb.params do, and the same message is
# written: "The 'inner_steps' parameter of Reptile must be an int in the range [0, inf). Got -3
# instead." nas_meta must import without metakb (see nas_meta._errors), so the few kinds of
# constraint are written out here: None, "boolean", a type, or a callable with a description
# (which metakb.params.validate_params reads the same way).


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _Range:
    """Numbers of ``kind`` (``"int"`` or ``"float"``) from ``low`` to ``high`` (None: unbounded);
    ``closed`` is ``"left"``, ``"right"``, ``"both"`` or ``"neither"``. Never a bool, NaN or an
    infinity."""

    def __init__(self, kind: str, low: float | None, high: float | None = None, closed: str = "left") -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed
        opening = "[" if closed in ("left", "both") and low is not None else "("
        closing = "]" if closed in ("right", "both") and high is not None else ")"
        left = "-inf" if low is None else _number(low)
        right = "inf" if high is None else _number(high)
        self.description = (f"{'an int' if kind == 'int' else 'a float'} in the range "
                            f"{opening}{left}, {right}{closing}")

    def __call__(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.kind == "int" else numbers.Real):
            return False
        number: Any = int(value) if isinstance(value, numbers.Integral) else float(value)
        if isinstance(number, float) and not math.isfinite(number):
            return False
        if self.low is not None and (number < self.low or (number == self.low and self.closed in ("right", "neither"))):
            return False
        return self.high is None or not (number > self.high
                                          or (number == self.high and self.closed in ("left", "neither")))


class _Choice:
    """One of a few strings."""

    def __init__(self, options: tuple[str, ...]) -> None:
        self.options = options
        self.description = "a str among {" + ", ".join(repr(o) for o in sorted(options)) + "}"

    def __call__(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options


def _satisfies(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, str):  # "boolean"
        return isinstance(value, bool)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return bool(constraint(value))


def _describe(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, str):
        return "an instance of 'bool'"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint.description)


def _validate_params(learner: Any, table: dict[str, list[Any]] | None = None) -> None:
    """Check ``learner``'s parameters against its ``_parameter_constraints`` (or ``table``).

    Raises:
        ConfigError: the first parameter, in table order, that satisfies none of its constraints.
    """
    for name, accepted in (type(learner)._parameter_constraints if table is None else table).items():
        value = getattr(learner, name)
        if any(_satisfies(c, value) for c in accepted):
            continue
        words = [_describe(c) for c in accepted]
        expected = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
        raise ConfigError(f"The {name!r} parameter of {type(learner).__name__} must be {expected}. "
                          f"Got {value!r} instead.")


_COMMON: dict[str, list[Any]] = {
    "device": [str, torch.device],
    "seed": [_Range("int", 0)],  # of torch's generator: no None
}
_GRADIENT: dict[str, list[Any]] = {
    "inner_steps": [_Range("int", 0)],  # zero steps is a valid ablation
    "inner_lr": [_Range("float", 0, closed="neither")],
    "eval_steps": [_Range("int", 0)],
    "meta_lr": [_Range("float", 0, closed="neither")],
    "head_init": [_Choice(HEAD_INITS)],
    "feature_scale": [_Range("float", 0)],  # 0: off
    "cuda_graphs": ["boolean"],
    **_COMMON,
}
_CHANNELS: dict[str, list[Any]] = {"channels": [_Range("int", 1)]}


class _GradientLearner(FewShotLearner):
    """Shared parts of the learners that adapt by gradient steps (Reptile, FO-MAML, MetaNAS)."""

    def __init__(self, *, inner_steps: int = 5, inner_lr: float = 0.1, eval_steps: int = 20,
                 meta_lr: float = 1.0, head_init: str = "zero", feature_scale: float = 0.0, cuda_graphs: bool = True,
                 device: str = "cpu", seed: int = 0) -> None:
        super().__init__(device=device, seed=seed)
        if isinstance(head_init, str) and head_init not in HEAD_INITS:  # the wording callers know
            raise ConfigError(f"head_init must be one of {list(HEAD_INITS)}; got {head_init!r}")
        self.head_init = head_init
        self.feature_scale = feature_scale
        self.cuda_graphs = cuda_graphs
        self.inner_steps = inner_steps
        self.inner_lr = inner_lr
        self.eval_steps = eval_steps
        self.meta_lr = meta_lr
        _validate_params(self, _GRADIENT)  # the shared settings; each subclass checks its whole table
        self.feature_scale = check_feature_scale(feature_scale)

    def _params(self) -> dict[str, torch.Tensor]:
        return {k: v.detach() for k, v in self.model_.named_parameters()}

    def _temperatures(self) -> tuple[float, float]:
        """Softmax temperature at the first and at the last step of a task's adaptation (and
        the one the adapted task answers at). Only a supernet has one; see :class:`MetaNAS`."""
        return 1.0, 1.0

    def _temperature_inputs(self, temperatures: tuple[float, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The two temperatures as 0-dim device tensors, inputs of the captured graphs."""
        first, last = self._temperatures() if temperatures is None else temperatures
        return self._scalar("temperature", first), self._scalar("temperature_end", last)

    def _adapt_cfg(self, steps: int) -> AdaptConfig:
        return AdaptConfig(steps=steps, lr=self.inner_lr, head_init=self.head_init)

    def _scalar(self, name: str, value: float) -> torch.Tensor:
        """A 0-dim device tensor holding ``value``: how a changing scalar enters a CUDA graph.

        One buffer per ``name``, refilled in place: ``fill_`` is an asynchronous kernel, where
        a new ``torch.tensor(value, device=...)`` would be a blocking host-to-device copy on
        every meta-step.
        """
        buffers: dict[str, torch.Tensor] = self.__dict__.setdefault("_scalar_buffers", {})
        if name not in buffers:
            buffers[name] = torch.zeros((), device=self.device_)
        return buffers[name].fill_(float(value))

    def _graphed(self, key: tuple, fn: Any) -> GraphedFunction:
        """The :class:`GraphedFunction` of ``fn``, one per ``key`` (the settings baked into it)."""
        cache: dict[tuple, GraphedFunction] = self.__dict__.setdefault("_graph_cache", {})
        if key not in cache:
            cache[key] = GraphedFunction(fn, enabled=self.cuda_graphs)
        return cache[key]

    def _eval_batch(self, episodes: Episodes) -> dict[str, torch.Tensor]:
        cfg, model, ways = self._adapt_cfg(self.eval_steps), self.model_, episodes.ways

        def batch(sx, sy, qx, qy, t, t_end):  # type: ignore[no-untyped-def]
            def one(params, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
                p, h = adapt(model, params, sx, sy, ways, cfg, temperature=t, temperature_end=t_end)
                return accuracy(model, p, h, qx, qy, temperature=t_end)

            return {"accuracy": _tasks_vmap(one, (None, 0, 0, 0, 0), self.device_)(self._params(), sx, sy, qx, qy)}

        fn = self._graphed(("eval", cfg, ways), batch)
        return fn(episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                  *self._temperature_inputs())

    def _reptile_update(self, episodes: Episodes, cfg: AdaptConfig, eps: float, frozen: tuple[str, ...] = (),
                        eps_arch: float | None = None, pre: AdaptConfig | None = None,
                        temperatures: tuple[float, float] | None = None) -> torch.Tensor:
        """Adapt on support and query together, then move towards the mean adapted weights.

        ``pre``: an adaptation run before ``cfg``'s (see :func:`_pre_adapt`); ``temperatures``:
        the first and last step's (default :meth:`_temperatures`).
        The adaptation of the whole meta-batch is one captured graph on CUDA; ``cfg.lr_arch``
        enters it as a tensor, so switching the architecture search on or off needs no new
        capture. Returns the mean post-adaptation loss (a 0-dim tensor, not read back).
        """
        model, ways = self.model_, episodes.ways
        x = torch.cat([episodes.support_x, episodes.query_x], 1)
        y = torch.cat([episodes.support_y, episodes.query_y], 1)
        fixed = replace(cfg, lr_arch=0.0)

        def batch(x, y, t, t_end, lr_arch):  # type: ignore[no-untyped-def]
            task_cfg = replace(fixed, lr_arch=lr_arch)

            def one(params, x, y):  # type: ignore[no-untyped-def]
                params, head = _pre_adapt(model, params, x, y, ways, pre, cfg.head_init, t, t_end)
                p, h = adapt(model, params, x, y, ways, task_cfg, head=head, temperature=t, temperature_end=t_end)
                return p, task_loss(model, p, h, x, y, AdaptConfig(hard=cfg.hard), t_end)

            adapted, loss = _tasks_vmap(one, (None, 0, 0), self.device_)(self._params(), x, y)
            return {k: v.mean(0) for k, v in adapted.items()}, loss.mean()

        fn = self._graphed(("reptile", fixed, pre, ways), batch)
        mean_adapted, loss = fn(x, y, *self._temperature_inputs(temperatures), self._scalar("lr_arch", float(cfg.lr_arch)))
        groups: dict[float, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
        for name, p in self.model_.named_parameters():
            if frozen and name.startswith(frozen):
                continue
            step = eps_arch if eps_arch is not None and name.startswith("alpha") else eps
            targets = groups.setdefault(float(step), ([], []))
            targets[0].append(p.data)
            targets[1].append(mean_adapted[name])
        with torch.no_grad():
            for step, (params, means) in groups.items():
                torch._foreach_lerp_(params, means, step)  # p += step * (mean adapted p - p)
        return loss

    def _fomaml_grads(self, episodes: Episodes, cfg: AdaptConfig, pre: AdaptConfig | None = None,
                      temperatures: tuple[float, float] | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """First-order MAML: the query-loss gradient at the adapted weights, averaged over tasks.

        ``pre``: an adaptation run before ``cfg``'s (see :func:`_pre_adapt`); first order, the
        gradient at the end of both counts as the gradient at the start. ``temperatures``: the
        first and last adaptation step's (default :meth:`_temperatures`); the query loss is
        taken at the last.

        With the prototype head (``head_init="proto"``) the gradient also flows through the
        head's starting point, the prototypes under the initial weights, as first-order
        Proto-MAML does: the adaptation is taken as the identity (first order), so the query
        loss's gradient at the adapted head is pulled back through the prototype computation.
        Without it a 1-shot task, whose support images are their own prototypes, would give
        the body no signal about where the prototypes lie.

        One captured graph on CUDA (see :meth:`_reptile_update`); the returned tensors are its
        output buffers, overwritten by the next meta-step.
        """
        model, ways = self.model_, episodes.ways
        fixed = replace(cfg, lr_arch=0.0)

        def batch(sx, sy, qx, qy, t, t_end, lr_arch):  # type: ignore[no-untyped-def]
            task_cfg = replace(fixed, lr_arch=lr_arch)
            qcfg = AdaptConfig(arch_reg=cfg.arch_reg, hard=cfg.hard)

            def one(params, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
                params, head = _pre_adapt(model, params, sx, sy, ways, pre, cfg.head_init, t, t_end)
                if cfg.head_init != "proto":
                    p, h = adapt(model, params, sx, sy, ways, task_cfg, head=head, temperature=t, temperature_end=t_end)
                    return grad_and_value(lambda p_: task_loss(model, p_, h, qx, qy, qcfg, t_end))(p)
                head0, pull_back = vjp(lambda q: prototype_head(model, q, sx, sy, ways, cfg.hard, t), params)
                p, h = adapt(model, params, sx, sy, ways, task_cfg, head=head0, temperature=t, temperature_end=t_end)
                (g, g_head), loss = grad_and_value(lambda p_, h_: task_loss(model, p_, h_, qx, qy, qcfg, t_end),
                                                   argnums=(0, 1))(p, h)
                (g_protos,) = pull_back(g_head)
                return {k: v + g_protos[k] for k, v in g.items()}, loss

            g, loss = _tasks_vmap(one, (None, 0, 0, 0, 0), self.device_)(self._params(), sx, sy, qx, qy)
            return {k: v.mean(0) for k, v in g.items()}, loss.mean()

        fn = self._graphed(("fomaml", fixed, pre, ways), batch)
        return fn(episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                  *self._temperature_inputs(temperatures), self._scalar("lr_arch", float(cfg.lr_arch)))


def _pre_adapt(model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, ways: int,
               pre: AdaptConfig | None, head_init: str, temperature: Any,
               temperature_end: Any) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None]:
    """Run ``pre`` (if any) and say which head the next adaptation starts from.

    MetaNAS's finishing phase trains what its test answers with: the soft supernet adapts
    weights and α to the task first (``pre``), then the discretised cells of the *adapted* α
    are trained, from the head :func:`~nas_meta._functional.carried_head` says.
    """
    if pre is None:
        return params, None
    params, head = adapt(model, params, x, y, ways, pre, temperature=temperature, temperature_end=temperature_end)
    return params, carried_head(head, head_init)


class Reptile(_GradientLearner):
    """Reptile with a fixed 4-layer conv net; the meta step size decays linearly to zero.

    Args:
        channels: filters of the conv net.
        inner_steps: SGD steps per training task (on its support and query images together).
        inner_lr: SGD step size, in training and at test.
        eval_steps: SGD steps on the support set at test time.
        meta_lr: initial Reptile step size (interpolation towards the adapted weights).
        head_init: a task's linear head starts at ``"zero"`` or at its prototypes (``"proto"``,
            Proto-MAML).
        feature_scale: L2-normalise the network's features and multiply them by this (0: off;
            see :func:`nas_meta.backbones.scale_features`).
        cuda_graphs: replay each meta-step and evaluation batch as a captured CUDA graph.
        device: torch device.
        seed: seed of the initial weights.
    """

    method = "reptile"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {**_CHANNELS, **_GRADIENT}

    def __init__(self, *, channels: int = 64, inner_steps: int = 5, inner_lr: float = 0.1, eval_steps: int = 20,
                 meta_lr: float = 1.0, head_init: str = "zero", feature_scale: float = 0.0, cuda_graphs: bool = True,
                 device: str = "cpu", seed: int = 0) -> None:
        super().__init__(inner_steps=inner_steps, inner_lr=inner_lr, eval_steps=eval_steps, meta_lr=meta_lr,
                         head_init=head_init, feature_scale=feature_scale, cuda_graphs=cuda_graphs, device=device,
                         seed=seed)
        self.channels = channels
        _validate_params(self)

    def _build_model(self) -> nn.Module:
        return Conv4(self.channels, feature_scale=self.feature_scale, seed=self.seed)

    def _meta_step(self, episodes: Episodes, progress_frac: float) -> torch.Tensor:
        return self._reptile_update(episodes, self._adapt_cfg(self.inner_steps), self.meta_lr * (1.0 - progress_frac))


class FOMAML(_GradientLearner):
    """First-order MAML with the fixed 4-layer conv net and Adam as the outer optimiser.

    Args:
        channels: filters of the conv net.
        inner_steps: SGD steps on the support set per training task.
        inner_lr: SGD step size, in training and at test.
        eval_steps: SGD steps at test time.
        meta_lr: Adam step size of the meta-update.
        head_init: a task's linear head starts at ``"zero"`` or at its prototypes (``"proto"``,
            Proto-MAML).
        feature_scale: L2-normalise the network's features and multiply them by this (0: off;
            see :func:`nas_meta.backbones.scale_features`).
        cuda_graphs: replay each meta-step and evaluation batch as a captured CUDA graph.
        device: torch device.
        seed: seed of the initial weights.
    """

    method = "fomaml"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {**_CHANNELS, **_GRADIENT}

    def __init__(self, *, channels: int = 64, inner_steps: int = 5, inner_lr: float = 0.1, eval_steps: int = 20,
                 meta_lr: float = 1e-3, head_init: str = "zero", feature_scale: float = 0.0, cuda_graphs: bool = True,
                 device: str = "cpu", seed: int = 0) -> None:
        super().__init__(inner_steps=inner_steps, inner_lr=inner_lr, eval_steps=eval_steps, meta_lr=meta_lr,
                         head_init=head_init, feature_scale=feature_scale, cuda_graphs=cuda_graphs, device=device,
                         seed=seed)
        self.channels = channels
        _validate_params(self)

    def _build_model(self) -> nn.Module:
        return Conv4(self.channels, feature_scale=self.feature_scale, seed=self.seed)

    def _build_optimizer(self) -> tuple[torch.optim.Optimizer, Any]:
        return torch.optim.Adam(self.model_.parameters(), lr=self.meta_lr), None

    def _meta_step(self, episodes: Episodes, progress_frac: float) -> torch.Tensor:
        grads, loss = self._fomaml_grads(episodes, self._adapt_cfg(self.inner_steps))
        for name, p in self.model_.named_parameters():
            p.grad = grads[name]
        self.optimizer_.step()
        return loss


class MetaNAS(_GradientLearner):
    """MetaNAS: meta-learn the supernet's weights and architecture together.

    Each task adapts both the weights and the architecture weights (``alpha``) by SGD; the
    meta-update is Reptile's interpolation (or first-order MAML's Adam step) for both. At test
    time a task adapts both, the cells are discretised (argmax operation, top-2 edges per
    node), and the discrete network is fine-tuned on the support set before it answers.

    Guard-rails against the collapse into parameter-free cells: the architecture stays fixed
    for the first ``arch_warmup`` share of meta-training (the weights learn first, as in DARTS),
    it stops changing after ``arch_stop`` (early stopping), a penalty ``arch_reg`` on the
    softmax mass of skip connections and pools enters every task loss, and the share of
    parameter-free operations is reported for every found cell.

    Args:
        channels, layers, nodes: the supernet (see :class:`SearchNetwork`).
        meta_algorithm: ``"reptile"`` or ``"fomaml"``.
        inner_steps, inner_lr: task adaptation of the weights (training).
        inner_lr_arch: task adaptation step size of the architecture weights.
        eval_steps: adaptation steps at test time before discretisation.
        finetune_steps: SGD steps of the discretised network at test time.
        meta_lr: Reptile's initial step size (decays to 0) or Adam's step size.
        meta_lr_arch: Reptile step size of the architecture (constant); Adam's for fomaml.
        arch_reg: weight of the parameter-free penalty.
        arch_warmup, arch_stop: share of meta-training after which the architecture starts
            and stops being meta-learned.
        tau_start, tau_end: softmax temperature, annealed linearly (soft pruning) as
            ``tau_schedule`` says.
        tau_schedule: ``"meta"``: over meta-training (``tau_start`` at its start, ``tau_end``
            at its end), the same at every step of a task's adaptation and at test time the
            temperature the run ended at; ``"task"``: within every task's adaptation, from
            ``tau_start`` at its first step to ``tau_end`` at its last, where the task answers
            (MetaNAS's soft pruning, as the authors' code does it; at test time too). The
            mixture then ends every adaptation close to one-hot, so the weights are
            meta-learned for nearly discrete cells. During the architecture's warm-up the
            mixture stays at ``tau_start`` (uniform: every operation's weights learn).
        discrete_finish: share of meta-training, at its end, spent on the discretised cells
            (0/1 operation weights, architecture frozen): the weights are then meta-learned
            for the network that answers at test time, not for the soft mixture (0: off).
        finish_adapt_arch: in that phase each task first adapts weights and α on the soft
            supernet, as at test time, and the discretised cells of its *adapted* α are
            trained (False: the cells of the meta-learned α, which differ from the cells a
            test task answers with when α moves during its adaptation).
        head_init: a task's linear head starts at ``"zero"`` or at its prototypes (``"proto"``,
            Proto-MAML).
        feature_scale: L2-normalise the network's features and multiply them by this (0: off;
            see :func:`nas_meta.backbones.scale_features`).
        cuda_graphs: replay each meta-step and evaluation batch as a captured CUDA graph.
        device, seed: torch device and seed.
    """

    method = "metanas"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "channels": [_Range("int", 2)],  # the supernet's smallest
        "layers": [_Range("int", 2)],
        "nodes": [_Range("int", 1)],
        "meta_algorithm": [_Choice(("reptile", "fomaml"))],
        "inner_steps": _GRADIENT["inner_steps"],
        "inner_lr": _GRADIENT["inner_lr"],
        "inner_lr_arch": [_Range("float", 0)],  # 0: the architecture does not adapt to a task
        "eval_steps": _GRADIENT["eval_steps"],
        "finetune_steps": [_Range("int", 0)],
        "meta_lr": _GRADIENT["meta_lr"],
        "meta_lr_arch": [_Range("float", 0)],  # 0: the architecture is not meta-learned
        "arch_reg": [_Range("float", 0)],
        "arch_warmup": [_Range("float", 0, 1, closed="both")],
        "arch_stop": [_Range("float", 0, 1, closed="both")],
        "tau_start": [_Range("float", 0, closed="neither")],
        "tau_end": [_Range("float", 0, closed="neither")],
        "tau_schedule": [_Choice(TAU_SCHEDULES)],
        "discrete_finish": [_Range("float", 0, 1, closed="left")],
        "finish_adapt_arch": ["boolean"],
        "head_init": _GRADIENT["head_init"],
        "feature_scale": _GRADIENT["feature_scale"],
        "cuda_graphs": _GRADIENT["cuda_graphs"],
        **_COMMON,
    }

    def __init__(self, *, channels: int = 16, layers: int = 4, nodes: int = 3, meta_algorithm: str = "reptile",
                 inner_steps: int = 5, inner_lr: float = 0.1, inner_lr_arch: float = 0.5, eval_steps: int = 20,
                 finetune_steps: int = 10, meta_lr: float = 1.0, meta_lr_arch: float = 0.5, arch_reg: float = 0.1,
                 arch_warmup: float = 0.2, arch_stop: float = 0.9, tau_start: float = 1.0, tau_end: float = 0.3,
                 tau_schedule: str = "meta", discrete_finish: float = 0.0, finish_adapt_arch: bool = True, head_init: str = "zero",
                 feature_scale: float = 0.0, cuda_graphs: bool = True, device: str = "cpu", seed: int = 0) -> None:
        super().__init__(inner_steps=inner_steps, inner_lr=inner_lr, eval_steps=eval_steps, meta_lr=meta_lr,
                         head_init=head_init, feature_scale=feature_scale, cuda_graphs=cuda_graphs, device=device,
                         seed=seed)
        self.channels, self.layers, self.nodes = channels, layers, nodes
        self.meta_algorithm = meta_algorithm
        self.inner_lr_arch, self.finetune_steps, self.meta_lr_arch = inner_lr_arch, finetune_steps, meta_lr_arch
        self.arch_reg, self.arch_warmup, self.arch_stop = arch_reg, arch_warmup, arch_stop
        self.tau_start, self.tau_end, self.tau_schedule = tau_start, tau_end, tau_schedule
        self.discrete_finish, self.finish_adapt_arch = discrete_finish, finish_adapt_arch
        if isinstance(tau_schedule, str) and tau_schedule not in TAU_SCHEDULES:  # the wording callers know
            raise ConfigError(f"tau_schedule must be one of {list(TAU_SCHEDULES)}; got {tau_schedule!r}")
        _validate_params(self)
        if not arch_warmup <= arch_stop:
            raise ConfigError(f"0 <= arch_warmup <= arch_stop <= 1 needed; got {arch_warmup}, {arch_stop}")

    def _build_model(self) -> nn.Module:
        return SearchNetwork(self.channels, self.layers, self.nodes, temperature=self.tau_start,
                             feature_scale=self.feature_scale, seed=self.seed)

    def _build_optimizer(self) -> tuple[torch.optim.Optimizer, Any] | None:
        if self.meta_algorithm != "fomaml":
            return None  # Reptile's update is an interpolation, no optimiser state
        arch = [p for n, p in self.model_.named_parameters() if n.startswith("alpha")]
        weights = [p for n, p in self.model_.named_parameters() if not n.startswith("alpha")]
        return torch.optim.Adam([{"params": weights, "lr": self.meta_lr},
                                 {"params": arch, "lr": self.meta_lr_arch}]), None

    def _temperatures(self) -> tuple[float, float]:
        """The test-time adaptation's first and last temperature."""
        if self.tau_schedule == "task":
            return self.tau_start, self.tau_end
        answer = float(self.model_.temperature)  # type: ignore[arg-type]
        return answer, answer

    def _training_temperatures(self, progress_frac: float) -> tuple[float, float]:
        """A training task's first and last temperature at this point of meta-training."""
        if self.tau_schedule == "meta":
            t = self.tau_start + (self.tau_end - self.tau_start) * progress_frac
            return t, t
        if progress_frac < self.arch_warmup:
            return self.tau_start, self.tau_start
        return self.tau_start, self.tau_end

    def _extra_state(self) -> dict[str, Any]:
        return {"temperature": float(self.model_.temperature)}  # type: ignore[arg-type]

    def _restore_extra_state(self, state: dict[str, Any]) -> None:
        # Checkpoints written before the temperature was saved: a finished run ended close to
        # tau_end, a paused one recomputes it at its next meta-step.
        done = self.steps_done_ > 0 and not self.paused_
        model: SearchNetwork = self.model_  # type: ignore[assignment]
        model.temperature = float(state.get("temperature", self.tau_end if done else self.tau_start))

    def _adapt_cfg(self, steps: int, arch: bool = True) -> AdaptConfig:
        return AdaptConfig(steps=steps, lr=self.inner_lr, lr_arch=self.inner_lr_arch if arch else 0.0,
                           arch_reg=self.arch_reg, head_init=self.head_init)

    def _meta_step(self, episodes: Episodes, progress_frac: float) -> torch.Tensor:
        model: SearchNetwork = self.model_  # type: ignore[assignment]
        temperatures = self._training_temperatures(progress_frac)
        # the temperature a test task answers at, were the run to end here
        model.temperature = temperatures[1] if self.tau_schedule == "meta" else self.tau_end
        finishing = self.discrete_finish > 0 and progress_frac >= 1.0 - self.discrete_finish
        search = self.arch_warmup <= progress_frac < self.arch_stop and not finishing
        cfg = self._adapt_cfg(self.inner_steps, arch=search)
        pre = None
        if finishing:  # the discretised cells: 0/1 weights from alpha, no penalty on alpha
            cfg = replace(cfg, hard=True, arch_reg=0.0)
            if self.finish_adapt_arch:  # as at test: soft adaptation of weights and alpha first
                pre = self._adapt_cfg(self.inner_steps, arch=True)
        frozen = () if search else ("alpha",)
        if self.meta_algorithm == "reptile":
            return self._reptile_update(episodes, cfg, self.meta_lr * (1.0 - progress_frac), frozen=frozen,
                                        eps_arch=self.meta_lr_arch, pre=pre, temperatures=temperatures)
        grads, loss = self._fomaml_grads(episodes, cfg, pre=pre, temperatures=temperatures)
        for name, p in model.named_parameters():
            p.grad = None if frozen and name.startswith(frozen) else grads[name]
        self.optimizer_.step()
        return loss

    def genotype(self):  # type: ignore[no-untyped-def]
        """The meta-learned cells (before any task adaptation)."""
        return self.model_.genotype()  # type: ignore[operator]

    def _eval_batch(self, episodes: Episodes) -> dict[str, torch.Tensor]:
        model, ways = self.model_, episodes.ways
        search_cfg = replace(self._adapt_cfg(self.eval_steps), lr_arch=0.0)
        tune_cfg = AdaptConfig(steps=self.finetune_steps, lr=self.inner_lr, hard=True, head_init=self.head_init)

        def batch(sx, sy, qx, qy, t, t_end, lr_arch):  # type: ignore[no-untyped-def]
            cfg = replace(search_cfg, lr_arch=lr_arch)

            def one(params, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
                p, h = adapt(model, params, sx, sy, ways, cfg, temperature=t, temperature_end=t_end)
                soft = accuracy(model, p, h, qx, qy, temperature=t_end)
                p2, h2 = adapt(model, p, sx, sy, ways, tune_cfg, head=carried_head(h, self.head_init))
                return accuracy(model, p2, h2, qx, qy, hard=True), soft, p["alpha_normal"], p["alpha_reduce"]

            return _tasks_vmap(one, (None, 0, 0, 0, 0), self.device_)(self._params(), sx, sy, qx, qy)

        fn = self._graphed(("eval", search_cfg, tune_cfg, ways), batch)
        acc, soft, a_n, a_r = fn(episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                                 *self._temperature_inputs(), self._scalar("lr_arch", self.inner_lr_arch))
        a_n, a_r = a_n.cpu(), a_r.cpu()  # graph buffers: read before the next batch overwrites them
        shares = torch.tensor([parameter_free_share(discretise(a_n[i], a_r[i])) for i in range(len(acc))])
        return {"accuracy": acc.clone(), "supernet_accuracy": soft.clone(), "parameter_free_share": shares}


class ProtoNet(FewShotLearner):
    """Prototypical Networks on the 4-layer conv net (squared Euclidean distance, Adam).

    Args:
        channels: filters of the conv net.
        lr: Adam step size.
        lr_halve_every: halve the step size every this many episodes (Snell et al.: 2000).
        device, seed: torch device and seed.
    """

    method = "protonet"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_CHANNELS,
        "lr": [_Range("float", 0, closed="neither")],
        "lr_halve_every": [_Range("int", 1)],  # StepLR's step_size
        **_COMMON,
    }

    def __init__(self, *, channels: int = 64, lr: float = 1e-3, lr_halve_every: int = 2000,
                 device: str = "cpu", seed: int = 0) -> None:
        super().__init__(device=device, seed=seed)
        self.channels, self.lr, self.lr_halve_every = channels, lr, lr_halve_every
        _validate_params(self)

    def _build_model(self) -> nn.Module:
        return Conv4(self.channels, running_stats=True, seed=self.seed)

    @staticmethod
    def _logits(support: torch.Tensor, sy: torch.Tensor, query: torch.Tensor, ways: int) -> torch.Tensor:
        protos = torch.zeros(ways, support.shape[-1], device=support.device).index_add_(0, sy, support)
        protos = protos / torch.bincount(sy, minlength=ways)[:, None]
        return -torch.cdist(query, protos).pow(2)

    def _build_optimizer(self) -> tuple[torch.optim.Optimizer, Any]:
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.lr)
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, self.lr_halve_every, 0.5)

    def _meta_step(self, episodes: Episodes, progress_frac: float) -> float:
        self.model_.train()
        losses = []
        for i in range(len(episodes)):
            ep = episodes.episode(i)
            ways = int(ep.support_y.max()) + 1
            feats = self.model_(torch.cat([ep.support_x[0], ep.query_x[0]]))
            n_s = ep.support_x.shape[1]
            loss = F.cross_entropy(self._logits(feats[:n_s], ep.support_y[0], feats[n_s:], ways), ep.query_y[0])
            self.optimizer_.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer_.step()
            self.scheduler_.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    @torch.no_grad()
    def _eval_batch(self, episodes: Episodes) -> dict[str, torch.Tensor]:
        self.model_.eval()
        b, n_s = episodes.support_x.shape[:2]
        ways = int(episodes.support_y.max()) + 1
        x = torch.cat([episodes.support_x, episodes.query_x], 1)
        feats = self.model_(x.flatten(0, 1)).view(b, x.shape[1], -1)
        accs = [(self._logits(feats[i, :n_s], episodes.support_y[i], feats[i, n_s:], ways).argmax(-1)
                 == episodes.query_y[i]).float().mean() for i in range(b)]
        return {"accuracy": torch.stack(accs)}


METHODS: dict[str, type[FewShotLearner]] = {"reptile": Reptile, "fomaml": FOMAML, "metanas": MetaNAS,
                                            "protonet": ProtoNet}
