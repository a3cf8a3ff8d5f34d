"""Side-by-side ablation of few-shot learner settings, compared episode by episode.

Each *arm* is a learner (``reptile``, ``fomaml``, ``metanas``, ``protonet``) with its settings
and a training-image augmentation strength. Every arm meta-trains from the same seed on the
same stream of training tasks for the same number of meta-steps (or seconds), then answers the
same held-out episodes (Korean and Sanskrit), so the table reports each arm's accuracy and its
paired difference from the first arm, with 95% CIs over episodes.

An arm is written ``METHOD [KEY=VALUE ...] [augment=S]``, one quoted string per arm; the values
are JSON (``head_init=proto``, ``channels=32``). ``--set-all`` applies to every arm that takes
the setting.

Usage (the CPU diagnostic of the third session's follow-up, about 40 minutes on 2 cores):
    .venv/bin/python benchmarks/nas_ablation.py --steps 150 --meta-batch 4 --episodes 200 \\
        --eval 5x1,20x1 --set-all channels=32 --json docs/results/nas_ablation_cpu.json \\
        --arms "fomaml" "fomaml head_init=proto" "fomaml head_init=proto augment=0.5"
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nas_meta.learners import METHODS, mean_ci95  # noqa: E402
from nas_meta.train import TRAIN_WAYS, _overrides, _samplers, _settings, device_name  # noqa: E402


def parse_arm(text: str, set_all: dict[str, Any]) -> dict[str, Any]:
    """``"fomaml head_init=proto augment=0.5"`` -> method, learner settings, augmentation."""
    method, *items = text.split()
    if method not in METHODS:
        raise SystemExit(f"an arm must start with one of {sorted(METHODS)}; got {text!r}")
    settings = _overrides(items)
    augment = float(settings.pop("augment", 0.0))
    accepted = set(inspect.signature(METHODS[method]).parameters)
    unknown = set(settings) - accepted
    if unknown:
        raise SystemExit(f"arm {text!r}: {method} takes no {sorted(unknown)}")
    params = {k: v for k, v in set_all.items() if k in accepted} | settings
    return {"label": text, "method": method, "params": params, "augment": augment}


def run_arm(arm: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Meta-train one arm and evaluate it on every setting; per-episode accuracies kept."""
    method = arm["method"]
    train = _samplers(None, args.cache, args.train_ways or TRAIN_WAYS.get(method, 20), 1, args.train_queries,
                      args.device, args.seed, train=True, augment=arm["augment"])
    learner = METHODS[method](device=args.device, seed=args.seed, **arm["params"])
    meta_batch = 1 if method == "protonet" else args.meta_batch
    steps = args.steps * args.meta_batch if method == "protonet" else args.steps  # same number of tasks
    learner.fit(train, steps, meta_batch=meta_batch, time_budget=args.time_budget, show_progress=not args.quiet)
    result = {**arm, "steps_done": learner.steps_done_, "train_seconds": learner.train_seconds_,
              "final_loss": learner.history_[-1]["loss"] if learner.history_ else None, "evaluations": []}
    for ways, shots in _settings(args.eval):
        test = _samplers(None, args.cache, ways, shots, 15, args.device, 1, train=False)
        ev = learner.evaluate(test, args.episodes, batch=args.batch, show_progress=not args.quiet, per_episode=True)
        result["evaluations"].append(ev)
    return result


def table(results: list[dict[str, Any]]) -> str:
    """Accuracy per arm and setting, and the paired difference from the first arm."""
    lines = ["| arm | meta-steps | train s | " + " | ".join(
        f"{e['ways']}w{e['shots']}s acc | vs first" for e in results[0]["evaluations"]) + " |"]
    lines.append("|---|---:|---:|" + "---:|---:|" * len(results[0]["evaluations"]))
    for res in results:
        cells = []
        for ev, ref in zip(res["evaluations"], results[0]["evaluations"], strict=True):
            acc, ci = mean_ci95(np.array(ev["per_episode"]))
            diff, dci = mean_ci95(np.array(ev["per_episode"]) - np.array(ref["per_episode"]))
            cells.append(f"{100 * acc:.1f} ± {100 * ci:.1f}")
            cells.append("–" if res is results[0] else f"{100 * diff:+.1f} ± {100 * dci:.1f}")
        lines.append(f"| `{res['label']}` | {res['steps_done']} | {res['train_seconds']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", required=True, help='e.g. "fomaml" "fomaml head_init=proto augment=0.5"')
    parser.add_argument("--set-all", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--steps", type=int, required=True, help="meta-steps per arm (ProtoNet: steps x meta-batch episodes)")
    parser.add_argument("--time-budget", type=float, default=None, help="seconds of meta-training per arm at most")
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--train-ways", type=int, default=None, help="ways of training tasks (20; ProtoNet 60)")
    parser.add_argument("--train-queries", type=int, default=5)
    parser.add_argument("--eval", default="5x1", help="held-out settings, e.g. 5x1,20x1")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20, help="episodes per evaluation batch")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--cache", default=".nasdata/omniglot28.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    arms = [parse_arm(text, _overrides(args.set_all)) for text in args.arms]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = []
    for arm in arms:
        results.append(run_arm(arm, args))
        summary = ", ".join(f"{e['ways']}w{e['shots']}s {100 * e['accuracy']:.1f}%" for e in results[-1]["evaluations"])
        print(f"{arm['label']}: {summary} ({results[-1]['train_seconds']:.0f} s)", flush=True)
        if args.json:  # after every arm, so a long run interrupted keeps what it finished
            payload = {"command": " ".join(sys.argv), "started": started, "device": device_name(args.device),
                       "torch": torch.__version__, "results": results}
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(payload, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
