"""``metakb nas ...``: few-shot architecture search and meta-learning (the ``nas_meta`` package).

``meta-train`` meta-trains MetaNAS, Reptile, first-order MAML or Prototypical Networks on the
Omniglot meta-train alphabets, evaluates on the held-out ones (Korean, Sanskrit), writes the
checkpoint, genotype and cell drawings to ``--out`` and stores the genotype and the accuracies
(with 95% CI, device and GPU seconds) in the knowledge base. ``evaluate`` re-evaluates a
checkpoint folder. torch is imported only when a command runs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from metakb.cli._common import (
    add_command_group,
    add_db_argument,
    open_from_args,
    print_json,
    print_table,
)
from metakb.errors import ConfigError
from metakb.workflows.nas import SEARCH_SPACE, store_summary

__all__ = ["register", "store_summary", "SEARCH_SPACE"]

METHODS = ("metanas", "reptile", "fomaml", "protonet")


def _data_dir(arg: str | None) -> str | None:
    root = arg or os.environ.get("METAKB_SHARED_DATA") or str(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    path = Path(root)
    return str(path / "omniglot") if (path / "omniglot").is_dir() else str(path)


def _rows(evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"method": e["method"], "ways": e["ways"], "shots": e["shots"], "episodes": e["episodes"],
             "accuracy": e["accuracy"], "ci95": e["ci95"]} for e in evaluations]


def _eval_settings(args: argparse.Namespace) -> list[tuple[int, int]]:
    from nas_meta.train import parse_eval_settings

    return parse_eval_settings(args.eval) if args.eval else [(args.ways, args.shots)]


def _meta_train(args: argparse.Namespace) -> int:
    from nas_meta.train import meta_train, parse_overrides

    if args.steps < 1:
        raise ConfigError(f"--steps must be an int >= 1; got {args.steps}")
    summary = meta_train(args.method, ways=args.ways, shots=args.shots, steps=args.steps, out=args.out,
                         device=args.device, meta_batch=args.meta_batch, train_ways=args.train_ways,
                         time_budget=args.time_budget, eval_episodes=args.episodes,
                         eval_settings=_eval_settings(args), data=_data_dir(args.data), cache=args.cache,
                         seed=args.seed, params=parse_overrides(args.set), show_progress=not args.json,
                         resume=args.resume, stop_after=args.stop_after, augment=args.augment)
    if summary["paused"]:  # nothing to store yet: the results come with the run's last part
        if args.json:
            print_json(summary)
        else:
            print(f"paused after {summary['steps_done']} meta-steps ({summary['train_seconds']:.0f} s of "
                  f"training); continue with the same command and --resume")
        return 0
    if not args.no_store:
        with open_from_args(args) as kb:
            summary["fewshot_result_ids"] = store_summary(kb, summary, origin=f"metakb nas meta-train --out {args.out}")
    if args.json:
        print_json(summary)
    else:
        print_table(_rows(summary["evaluations"]))
        if "genotype" in summary:
            print(f"parameter-free share of the found cells: {summary['parameter_free_share']:.2f}; "
                  f"drawings in {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from nas_meta.train import evaluate_checkpoint

    result = evaluate_checkpoint(args.checkpoint, settings=_eval_settings(args), episodes=args.episodes,
                                 device=args.device, data=_data_dir(args.data), cache=args.cache, seed=args.seed,
                                 show_progress=not args.json)
    if not args.no_store:
        summary = {"method": result["method"], "evaluations": result["evaluations"], "device": result["device"]}
        with open_from_args(args) as kb:
            store_summary(kb, summary, origin=f"metakb nas evaluate {args.checkpoint}")
    if args.json:
        print_json(result)
    else:
        print_table(_rows(result["evaluations"]))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ways", type=int, default=5, help="classes per test episode (default 5)")
    p.add_argument("--shots", type=int, default=1, help="examples per class (default 1)")
    p.add_argument("--eval", default=None, metavar="WxK,...", help="evaluation settings, e.g. 5x1,20x1")
    p.add_argument("--episodes", type=int, default=600, help="test episodes per setting (default 600)")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    p.add_argument("--data", default=None, help="folder with the Omniglot zips (default $METAKB_SHARED_DATA)")
    p.add_argument("--cache", default=None, help="preprocessed Omniglot .npz (default ~/.cache/metakb)")
    p.add_argument("--no-store", action="store_true", help="do not write to the knowledge base")
    p.add_argument("--json", action="store_true", help="print JSON (and no progress bars)")
    add_db_argument(p)


def _with_device(handler: Any) -> Any:
    """Wrap ``handler`` so that ``--device`` defaults to cuda when available (torch imported late)."""

    def run(args: argparse.Namespace) -> int:
        if args.device is None:
            import torch

            args.device = "cuda" if torch.cuda.is_available() else "cpu"
        return int(handler(args))

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb nas meta-train`` and ``metakb nas evaluate``."""
    _, sub = add_command_group(subparsers, "nas", help="few-shot NAS: MetaNAS, Reptile, FO-MAML, ProtoNet on Omniglot",
                               dest="nas_command")
    train = sub.add_parser("meta-train", help="meta-train a learner, evaluate it, store the results")
    train.add_argument("--method", required=True, choices=METHODS)
    train.add_argument("--seed", type=int, default=0, help="seed of the initial weights and training episodes")
    train.add_argument("--steps", type=int, required=True, help="meta-steps")
    train.add_argument("--out", required=True, help="folder for checkpoint, genotype, drawings, results")
    train.add_argument("--meta-batch", type=int, default=None, help="tasks per meta-step")
    train.add_argument("--train-ways", type=int, default=None, help="ways of training tasks")
    train.add_argument("--time-budget", type=float, default=None, help="seconds of meta-training at most")
    train.add_argument("--augment", type=float, default=0.0, metavar="S",
                       help="random affine distortion of training images, strength in [0, 1] (default 0: none)")
    train.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="learner settings (JSON values)")
    train.add_argument("--stop-after", type=float, default=None, metavar="S",
                       help="pause after S seconds of training, save a resumable checkpoint in --out, evaluate nothing")
    train.add_argument("--resume", action="store_true",
                       help="continue the paused run in --out (same --steps, --time-budget and task settings)")
    _common(train)
    train.set_defaults(handler=_with_device(_meta_train))
    ev = sub.add_parser("evaluate", help="evaluate a checkpoint on the held-out alphabets")
    ev.add_argument("--checkpoint", required=True, help="checkpoint.pt or its folder (with config.json)")
    ev.add_argument("--seed", type=int, default=None,
                    help="seed of the test episodes (default: the one meta-train evaluated with, from results.json)")
    _common(ev)
    ev.set_defaults(handler=_with_device(_evaluate))
