"""Meta-train and evaluate one few-shot learner: ``python -m nas_meta.train --method ...``.

Needs torch, numpy and PIL only (no metakb store), so it runs on a bare GPU machine; the
results it writes (``results.json``, ``genotype.json``, ``checkpoint.pt``, ``config.json``)
are stored in the knowledge base afterwards by ``metakb nas meta-train`` or
``benchmarks/nas_fewshot.py --store``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import torch

from nas_meta._errors import ConfigError
from nas_meta.episodes import EpisodeSampler, check_augment
from nas_meta.learners import METHODS, FewShotLearner, MetaNAS, load_learner
from nas_meta.omniglot import TEST_ALPHABETS, load_omniglot, split_by_alphabet

__all__ = ["meta_train", "evaluate_checkpoint", "main", "device_name", "cpu_threads", "EVAL_SEED"]

EVAL_SEED = 1
"""Seed of the test-episode sampler of every evaluation (meta-train's own and ``evaluate``'s by
default), independent of the training seed: one checkpoint always meets the same test episodes."""

# Training-task defaults per method: ProtoNet trains on 60-way episodes (Snell et al. 2017).
TRAIN_WAYS = {"protonet": 60}


def device_name(device: str) -> str:
    """``"NVIDIA H100 80GB HBM3"`` for a CUDA device, else the CPU's architecture."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({platform.machine()})"


@contextmanager
def cpu_threads(device: str | torch.device | None) -> Iterator[None]:
    """One intra-op thread for a run on the CPU, unless ``OMP_NUM_THREADS`` sets their number.

    A few-shot task's tensors are small (a 5-way task is a few dozen 28x28 images), too small
    for torch's parallel kernels to gain from a second thread; on a machine whose cores are
    shared they lose badly: measured on the shared 2-core development machine (issue 25), a
    depthwise convolution's forward and backward took 40-1,400 ms of CPU with two threads
    (each waiting for the other, descheduled one) and 2-8 ms with one. The previous thread
    count comes back when the run ends; CUDA runs are left alone.
    """
    if device is None or torch.device(device).type != "cpu" or os.environ.get("OMP_NUM_THREADS"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_F = TypeVar("_F", bound=Callable[..., Any])


def _on_cpu_threads(fn: _F) -> _F:
    """Run ``fn`` under :func:`cpu_threads` of its ``device`` keyword (default ``"cpu"``)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with cpu_threads(kwargs.get("device", "cpu")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _samplers(data: str | None, cache: str | None, ways: int, shots: int, queries: int, device: str, seed: int,
              train: bool, augment: float = 0.0) -> EpisodeSampler:
    train_arr, test_arr = split_by_alphabet(load_omniglot(data, cache))
    arr = train_arr if train else test_arr
    return EpisodeSampler(arr.images, ways, shots, queries, device=device, seed=seed, augment=augment)


def _batch_size(episodes: int, images_per_episode: int, max_images: int = 4000, max_batch: int = 100) -> int:
    """Episodes per evaluation batch: at most ``max_images`` images, and a divisor of ``episodes``.

    Equal batches keep one tensor shape, so a CUDA-graphed evaluation is captured only once.
    """
    cap = max(1, min(max_batch, episodes, max_images // images_per_episode))
    return next(b for b in range(cap, 0, -1) if episodes % b == 0)


def evaluate_learner(learner: FewShotLearner, settings: Sequence[tuple[int, int]], episodes: int, *,
                     data: str | None = None, cache: str | None = None, queries: int = 15, seed: int = EVAL_SEED,
                     batch: int | None = None, time_budget: float | None = None,
                     show_progress: bool = True) -> list[dict[str, Any]]:
    """Evaluate on held-out alphabets for every ``(ways, shots)`` of ``settings``.

    ``time_budget`` (seconds) caps each setting's evaluation; the episodes done are reported.
    """
    results = []
    for ways, shots in settings:
        sampler = _samplers(data, cache, ways, shots, queries, learner.device, seed, train=False)
        size = batch or _batch_size(episodes, ways * (shots + queries))
        res = learner.evaluate(sampler, episodes, batch=size, time_budget=time_budget, show_progress=show_progress)
        res.update({"queries": queries, "test_alphabets": list(TEST_ALPHABETS), "eval_seed": seed})
        results.append(res)
    return results


@_on_cpu_threads
def meta_train(method: str, *, ways: int, shots: int, steps: int, out: str | Path, device: str = "cpu",
               meta_batch: int | None = None, train_ways: int | None = None, train_shots: int | None = None,
               train_queries: int = 5, time_budget: float | None = None, eval_episodes: int = 600,
               eval_settings: Sequence[tuple[int, int]] | None = None, data: str | None = None,
               cache: str | None = None, seed: int = 0, params: dict[str, Any] | None = None,
               eval_budget: float | None = None, show_progress: bool = True, resume: bool = False,
               stop_after: float | None = None, augment: float = 0.0) -> dict[str, Any]:
    """Meta-train ``method`` on the meta-train alphabets, evaluate, write everything to ``out``.

    A run longer than one sitting is split: ``stop_after`` (seconds) pauses it, saves a
    resumable checkpoint (weights, optimiser, episode generator) in ``out`` and skips the
    evaluation; the same call with ``resume=True`` continues its schedules from there. The
    settings of a resumed run are the checkpoint's; ``steps``, ``time_budget`` and the training
    tasks must be those of the first call. ``augment`` distorts the training images (see
    :class:`~nas_meta.episodes.EpisodeSampler`); test episodes are never distorted.

    Returns:
        The summary also written to ``out/results.json``: settings, training seconds, device,
        evaluations (accuracy and 95% CI per setting), and for MetaNAS the found genotype and
        its share of parameter-free operations; ``paused`` is True when ``stop_after`` ended
        the call.

    Raises:
        ConfigError: unknown method, settings out of range, or a resume that does not match
            the paused run.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    check_augment(augment)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train_ways = train_ways or TRAIN_WAYS.get(method, ways)
    train_shots = train_shots or shots
    meta_batch = meta_batch or (1 if method == "protonet" else 8)
    plan = {"method": method, "steps": steps, "time_budget": time_budget, "meta_batch": meta_batch,
            "train_ways": train_ways, "train_shots": train_shots, "train_queries": train_queries, "seed": seed,
            "augment": augment}
    sampler = _samplers(data, cache, train_ways, train_shots, train_queries, device, seed, train=True,
                        augment=augment)
    if resume:
        learner, sampler_state = _resumed(out, plan, params, device)
        sampler.set_state(sampler_state)
    else:
        learner = METHODS[method](device=device, seed=seed, **(params or {}))
    learner.fit(sampler, steps, meta_batch=meta_batch, time_budget=time_budget, show_progress=show_progress,
                resume=resume, stop_after=stop_after)
    learner.save(out)
    (out / _TRAIN_STATE).write_text(json.dumps({"plan": plan, "sampler": sampler.get_state()}))
    summary: dict[str, Any] = {
        "method": method, "ways": ways, "shots": shots, "steps": steps, "steps_done": learner.steps_done_,
        "meta_batch": meta_batch, "train_ways": train_ways, "train_shots": train_shots,
        "train_queries": train_queries, "augment": augment, "time_budget": time_budget, "seed": seed,
        "params": learner.get_params(), "train_seconds": learner.train_seconds_,
        "device": device_name(device), "torch": torch.__version__, "command": " ".join(sys.argv),
        "paused": learner.paused_,
    }
    if learner.paused_:
        summary["evaluations"] = []
        (out / "results.json").write_text(json.dumps(summary, indent=2))
        return summary
    if isinstance(learner, MetaNAS):
        summary.update(_genotype_outputs(learner, out))
    settings = list(eval_settings) if eval_settings else [(ways, shots)]
    summary["evaluations"] = evaluate_learner(learner, settings, eval_episodes, data=data, cache=cache,
                                              time_budget=eval_budget, show_progress=show_progress) if eval_episodes else []
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    return summary


_TRAIN_STATE = "train_state.json"


def _resumed(out: Path, plan: dict[str, Any], params: dict[str, Any] | None,
             device: str) -> tuple[FewShotLearner, dict[str, Any]]:
    """The paused learner in ``out`` and its episode generator's state, after checking that
    this call continues the same run."""
    if params:
        raise ConfigError(f"a resumed run keeps its checkpoint's settings; drop --set {sorted(params)}")
    state_file = out / _TRAIN_STATE
    if not state_file.exists():
        raise ConfigError(f"nothing to resume in {out}: no {_TRAIN_STATE} (start the run without --resume)")
    state = json.loads(state_file.read_text())
    saved = {"augment": 0.0, **state["plan"]}  # runs paused before --augment existed had none
    changed = {k: (saved.get(k), v) for k, v in plan.items() if saved.get(k) != v}
    if changed:
        detail = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise ConfigError(f"resume must repeat the paused run's settings; changed: {detail}")
    learner = load_learner(out, device=device)
    if learner.steps_done_ >= plan["steps"] or not learner.paused_:
        raise ConfigError(f"the run in {out} is finished ({learner.steps_done_} meta-steps), not paused; nothing to resume")
    return learner, state["sampler"]


def _genotype_outputs(learner: MetaNAS, out: Path) -> dict[str, Any]:
    from nas_meta.genotypes import parameter_free_share

    genotype = learner.genotype()
    (out / "genotype.json").write_text(genotype.to_json())
    info: dict[str, Any] = {"genotype": genotype.to_dict(), "parameter_free_share": parameter_free_share(genotype)}
    try:
        from nas_meta.plot import plot_genotype
    except ImportError as exc:  # matplotlib missing on a bare GPU machine: plot later from genotype.json
        info["plot_error"] = str(exc)
    else:
        info["plots"] = [str(p) for p in plot_genotype(genotype, out / "cell")]
    return info


def evaluate_checkpoint(checkpoint: str | Path, *, settings: Sequence[tuple[int, int]], episodes: int = 600,
                        device: str | None = None, data: str | None = None, cache: str | None = None,
                        seed: int | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Load a checkpoint folder and evaluate it on the held-out alphabets.

    ``seed`` seeds the test episodes; None takes the ``eval_seed`` that meta-train recorded in
    the folder's ``results.json`` (else :data:`EVAL_SEED`), so that the same checkpoint with
    the same number of episodes gives the number meta-train reported (issue 23, item 7).
    """
    learner = load_learner(checkpoint, device=device)
    if seed is None:
        seed = _recorded_eval_seed(checkpoint)
    start = time.perf_counter()
    with cpu_threads(learner.device):
        evals = evaluate_learner(learner, settings, episodes, data=data, cache=cache, seed=seed,
                                 show_progress=show_progress)
    return {"method": learner.method, "checkpoint": str(checkpoint), "device": device_name(learner.device),
            "evaluations": evals, "seconds": time.perf_counter() - start}


def _recorded_eval_seed(checkpoint: str | Path) -> int:
    """The test-episode seed meta-train used for ``checkpoint`` (:data:`EVAL_SEED` when unknown)."""
    path = Path(checkpoint)
    results = (path if path.is_dir() else path.parent) / "results.json"
    try:
        evaluations = json.loads(results.read_text()).get("evaluations") or []
        return int(evaluations[0]["eval_seed"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return EVAL_SEED


def _settings(text: str) -> list[tuple[int, int]]:
    """``"5x1,20x1"`` -> ``[(5, 1), (20, 1)]``."""
    try:
        return [(int(w), int(s)) for w, s in (item.lower().split("x") for item in text.split(",") if item)]
    except ValueError as exc:
        raise ConfigError(f"--eval must look like '5x1,20x1' (ways x shots); got {text!r}") from exc


def _overrides(items: Sequence[str]) -> dict[str, Any]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set must be KEY=VALUE; got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nas_meta.train", description=__doc__.splitlines()[0])
    p.add_argument("--method", required=True, choices=sorted(METHODS))
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--shots", type=int, default=1)
    p.add_argument("--steps", type=int, required=True, help="meta-steps")
    p.add_argument("--meta-batch", type=int, default=None, help="tasks per meta-step (8; ProtoNet 1)")
    p.add_argument("--train-ways", type=int, default=None, help="ways of training tasks (default --ways; ProtoNet 60)")
    p.add_argument("--train-shots", type=int, default=None)
    p.add_argument("--train-queries", type=int, default=5)
    p.add_argument("--augment", type=float, default=0.0, metavar="S",
                   help="random affine distortion of training images, strength in [0, 1] (0: none)")
    p.add_argument("--time-budget", type=float, default=None, help="seconds of meta-training at most")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", required=True)
    p.add_argument("--eval", default=None, help="evaluation settings, e.g. 5x1,20x1 (default: --ways x --shots)")
    p.add_argument("--episodes", type=int, default=600, help="evaluation episodes per setting")
    p.add_argument("--eval-budget", type=float, default=None, help="seconds of evaluation per setting at most")
    p.add_argument("--data", default=os.environ.get("METAKB_SHARED_DATA", None), help="folder with the Omniglot zips")
    p.add_argument("--cache", default=None, help="the preprocessed .npz (built from --data when missing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="learner settings (JSON values)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--stop-after", type=float, default=None, metavar="S",
                   help="pause after S seconds of training and save a resumable checkpoint (no evaluation)")
    p.add_argument("--resume", action="store_true",
                   help="continue the paused run in --out (repeat its --steps, --time-budget and task settings)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if str(args.device).startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    data = str(Path(args.data) / "omniglot") if args.data and (Path(args.data) / "omniglot").is_dir() else args.data
    summary = meta_train(args.method, ways=args.ways, shots=args.shots, steps=args.steps, out=args.out,
                         device=args.device, meta_batch=args.meta_batch, train_ways=args.train_ways,
                         train_shots=args.train_shots, train_queries=args.train_queries,
                         time_budget=args.time_budget, eval_episodes=args.episodes,
                         eval_settings=_settings(args.eval) if args.eval else None, data=data,
                         cache=args.cache, seed=args.seed, params=_overrides(args.set),
                         eval_budget=args.eval_budget, show_progress=not args.quiet, resume=args.resume,
                         stop_after=args.stop_after, augment=args.augment)
    if summary["paused"]:
        print(f"paused after {summary['steps_done']} meta-steps ({summary['train_seconds']:.1f} s of training); "
              f"continue with --resume --out {args.out}")
        return 0
    for ev in summary["evaluations"]:
        print(f"{summary['method']} {ev['ways']}-way {ev['shots']}-shot: {100 * ev['accuracy']:.2f} "
              f"+- {100 * ev['ci95']:.2f} % ({ev['episodes']} episodes)")
    print(f"train seconds {summary['train_seconds']:.1f} on {summary['device']}; wrote {args.out}")
    return 0


# Public names of the two option parsers, for the CLI (metakb.cli.nas).
parse_eval_settings = _settings
parse_overrides = _overrides


if __name__ == "__main__":
    sys.exit(main())
