"""Where a MetaNAS meta-step spends its GPU time: variants of the same step, side by side.

Every variant computes one Reptile meta-step of MetaNAS (a meta-batch of tasks, ``inner_steps``
SGD steps of weights and architecture each) captured as a CUDA graph, so the numbers are GPU
time without launch gaps: tasks batched with ``vmap`` or looped, depthwise convolutions run as
dense diagonal ones or as cuDNN depthwise kernels. A ``torch.profiler`` table of the eager step
gives the kernels that dominate. Needs torch and numpy only::

    python3 benchmarks/nas_profile.py --cache .nasdata/omniglot28.npz --json OUT/nas_profile.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.func import vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas_meta._functional import AdaptConfig, adapt, task_loss  # noqa: E402
from nas_meta.episodes import EpisodeSampler  # noqa: E402
from nas_meta.graphs import GraphedFunction  # noqa: E402
from nas_meta.omniglot import load_omniglot, split_by_alphabet  # noqa: E402
from nas_meta.ops import DepthwiseConv2d  # noqa: E402
from nas_meta.supernet import SearchNetwork  # noqa: E402


def step_fn(model, cfg: AdaptConfig, ways: int, batched: bool):  # type: ignore[no-untyped-def]
    params = {k: v.detach() for k, v in model.named_parameters()}

    def one(x, y, t):  # type: ignore[no-untyped-def]
        p, h = adapt(model, params, x, y, ways, cfg, temperature=t)
        return p, task_loss(model, p, h, x, y, AdaptConfig(), t)

    def run(x, y, t):  # type: ignore[no-untyped-def]
        if batched:
            adapted, loss = vmap(one, in_dims=(0, 0, None))(x, y, t)
            return {k: v.mean(0) for k, v in adapted.items()}, loss.mean()
        outs = [one(x[i], y[i], t) for i in range(x.shape[0])]
        return ({k: torch.stack([o[0][k] for o in outs]).mean(0) for k in outs[0][0]},
                torch.stack([o[1] for o in outs]).mean())

    return run


def timed(fn, args, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn(*args)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", required=True)
    p.add_argument("--meta-batch", type=int, default=8)
    p.add_argument("--train-ways", type=int, default=20)
    p.add_argument("--queries", type=int, default=5)
    p.add_argument("--channels", type=int, default=12)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.backends.cudnn.benchmark = True
    train, _ = split_by_alphabet(load_omniglot(None, args.cache))
    ep = EpisodeSampler(train.images, args.train_ways, 1, args.queries, device="cuda", seed=0).sample(args.meta_batch)
    x = torch.cat([ep.support_x, ep.query_x], 1)
    y = torch.cat([ep.support_y, ep.query_y], 1)
    t = torch.tensor(1.0, device="cuda")
    model = SearchNetwork(args.channels, args.layers, 3).cuda()
    cfg = AdaptConfig(steps=5, lr=0.1, lr_arch=0.5, arch_reg=0.1)
    rows = []
    for dense in (True, False):
        DepthwiseConv2d.dense_on_cuda = dense
        for batched in (True, False):
            fn = step_fn(model, cfg, args.train_ways, batched)
            eager = timed(fn, (x, y, t), 1)
            graphed = GraphedFunction(fn, warmup=1)
            graphed(x, y, t)
            replay = timed(graphed, (x, y, t), args.repeat)
            row = {"dense_depthwise": dense, "vmap": batched, "eager_ms": eager, "graph_ms": replay}
            rows.append(row)
            print(json.dumps(row), flush=True)
    best = min(rows, key=lambda r: r["graph_ms"])
    DepthwiseConv2d.dense_on_cuda = best["dense_depthwise"]
    fn = step_fn(model, cfg, args.train_ways, best["vmap"])
    fn(x, y, t)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fn(x, y, t)
        torch.cuda.synchronize()
    table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=20, max_name_column_width=70)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                                               "settings": vars(args), "rows": rows, "profile": table}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
