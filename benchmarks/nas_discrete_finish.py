"""Does meta-training the discretised cells close MetaNAS's discretisation gap? (CPU diagnostic)

Takes a MetaNAS checkpoint trained with first-order MAML (soft supernet), measures its
held-out 5-way 1-shot accuracy, both of the discretised network (what MetaNAS answers) and of
the task-adapted supernet, then runs ``steps`` more meta-steps in MetaNAS's ``discrete_finish``
phase (0/1 operation weights from the meta-learned architecture, architecture frozen, 20-way
1-shot training tasks as in the original run) and measures again on the same episodes, so the
gain is paired episode by episode.

It drives the learner's meta-step and evaluation batch directly (the schedule position is
fixed at 0.95, inside the finishing phase), which is what ``MetaNAS(discrete_finish=...)`` does
in the last share of a full run; this script only measures whether that phase helps, on a
machine without a GPU.

Usage:
    nice -n 5 .venv/bin/python benchmarks/nas_discrete_finish.py 40 2 60 \
        --checkpoint .nasdata/metanas_fomaml_h100 --cache .nasdata/omniglot28.npz
    (positional: meta-steps, tasks per meta-step, evaluation episodes)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nas_meta.learners import FewShotLearner, MetaNAS, load_learner, mean_ci95  # noqa: E402
from nas_meta.train import _samplers  # noqa: E402


def per_episode(learner: FewShotLearner, cache: str, episodes: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Discretised and supernet accuracy of each held-out 5-way 1-shot episode (same episodes per seed)."""
    sampler = _samplers(None, cache, 5, 1, 15, "cpu", seed, train=False)
    acc, soft = [], []
    for _ in range(episodes // 10):
        result = learner._eval_batch(sampler.sample(10))
        acc.append(result["accuracy"].numpy())
        soft.append(result["supernet_accuracy"].numpy())
    return np.concatenate(acc), np.concatenate(soft)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", type=int, help="meta-steps of the discrete phase")
    parser.add_argument("meta_batch", type=int, help="training tasks per meta-step")
    parser.add_argument("episodes", type=int, help="held-out 5-way 1-shot episodes (a multiple of 10)")
    parser.add_argument("--checkpoint", default=".nasdata/metanas_fomaml_h100")
    parser.add_argument("--cache", default=".nasdata/omniglot28.npz")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result: dict = {"checkpoint": args.checkpoint}

    base = load_learner(args.checkpoint, device="cpu")
    if not isinstance(base, MetaNAS):
        raise SystemExit(f"--checkpoint must hold a MetaNAS learner; got {base.method}")
    base.cuda_graphs = False
    start = time.time()
    before, before_soft = per_episode(base, args.cache, args.episodes)
    result["before"] = {"discrete": mean_ci95(before), "supernet": mean_ci95(before_soft),
                        "seconds": time.time() - start}
    print("before", result["before"], flush=True)

    learner = load_learner(args.checkpoint, device="cpu")
    assert isinstance(learner, MetaNAS)
    # the phase as the third session ran it (the cells of the meta-learned alpha): reproducible numbers
    learner.cuda_graphs, learner.discrete_finish, learner.finish_adapt_arch = False, 0.2, False
    train = _samplers(None, args.cache, 20, 1, 5, "cpu", 7, train=True)
    losses, start = [], time.time()
    for step in range(args.steps):
        losses.append(float(learner._meta_step(train.sample(args.meta_batch), 0.95)))
        if step % 5 == 0:
            print("step", step, losses[-1], round(time.time() - start), flush=True)
    # evaluate at the checkpoint's temperature, as "before" is (the phase's steps set the schedule's at 0.95)
    learner.model_.temperature = base.model_.temperature
    result["temperature"] = float(base.model_.temperature)
    result["train"] = {"steps": args.steps, "meta_batch": args.meta_batch, "seconds": time.time() - start,
                       "loss_first5": float(np.mean(losses[:5])), "loss_last5": float(np.mean(losses[-5:]))}
    start = time.time()
    after, after_soft = per_episode(learner, args.cache, args.episodes)
    result["after"] = {"discrete": mean_ci95(after), "supernet": mean_ci95(after_soft),
                       "seconds": time.time() - start}
    result["paired_discrete_gain"] = mean_ci95(after - before)
    result["genotype_unchanged"] = learner.genotype().to_dict() == base.genotype().to_dict()
    result["per_episode"] = {"before": before.tolist(), "after": after.tolist()}
    print(json.dumps({k: v for k, v in result.items() if k != "per_episode"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
