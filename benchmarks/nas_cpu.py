"""CPU seconds and peak resident memory of small MetaNAS runs on the CPU (issue 25).

Three measurements, each in a fresh process so that peak memory is the run's own:

* ``runs``: ``metakb nas meta-train --method metanas ... --device cpu --no-store`` for a few
  supernet settings, timed by the kernel (user + system CPU seconds and peak RSS of the child,
  from ``os.wait4``), as a markdown table for docs/nas_meta.md ("Memory and time on the CPU");
* ``phases``: the same run in this process, CPU seconds per meta-step and per evaluation batch;
* ``step``: a ``torch.profiler`` table of one supernet adaptation step of one task.

On a shared machine measure CPU seconds, not wall time, and run it under ``nice``::

    nice -n 10 python benchmarks/nas_cpu.py runs --cache /tmp/cache/omniglot28.npz
    nice -n 10 python benchmarks/nas_cpu.py phases --cache /tmp/cache/omniglot28.npz
    nice -n 10 python benchmarks/nas_cpu.py step --cache /tmp/cache/omniglot28.npz --images 30

The Omniglot cache is built from ``--data`` (the folder with the two zips) when it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (channels, layers, nodes, ways, shots, meta-steps): the command is the second
SETTINGS = [(4, 3, 2, 5, 1, 3), (8, 3, 3, 5, 1, 3), (8, 3, 3, 20, 1, 1)]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ensure_cache(cache: str, data: str | None) -> None:
    if not Path(cache).is_file():
        from nas_meta.omniglot import build_cache

        if data is None:
            raise SystemExit(f"no Omniglot cache at {cache}; give --data to build it")
        build_cache(data, cache)


# The computation as written, without the CPU shortcuts of issue 25 (for the comparison rows).
_REFERENCE = ("import nas_meta._functional as F, nas_meta.supernet as S; "
              "S.SearchNetwork.cpu_channels_last = S.SearchNetwork.cpu_skip_zero_ops = False; "
              "F._eager_cpu = lambda *a: False; ")


def measure_run(channels: int, layers: int, nodes: int, ways: int, shots: int, steps: int, episodes: int,
                cache: str, out: str, lean: bool = True) -> dict[str, float]:
    """CPU seconds, wall seconds and peak RSS of one ``metakb nas meta-train`` in a child
    (``lean=False``: with the CPU shortcuts switched off)."""
    argv = ["nas", "meta-train", "--method", "metanas", "--steps", str(steps),
            "--set", f"channels={channels}", f"layers={layers}", f"nodes={nodes}", "--ways", str(ways),
            "--shots", str(shots), "--episodes", str(episodes), "--device", "cpu", "--no-store", "--json",
            "--cache", cache, "--out", out]
    prelude = "" if lean else _REFERENCE
    cmd = [sys.executable, "-c", f"{prelude}import sys; from metakb.cli import main; sys.exit(main({argv!r}))"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = os.times().elapsed
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    stdout = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {status}")
    summary = json.loads(stdout)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": os.times().elapsed - start,
            "peak_rss_mb": usage.ru_maxrss / 1024, "accuracy": summary["evaluations"][0]["accuracy"]}


def runs(args: argparse.Namespace) -> None:
    rows = []
    plan = [(setting, True) for setting in SETTINGS] + [(SETTINGS[1], False)]  # the run once more, as written
    with tempfile.TemporaryDirectory() as tmp:
        for i, ((c, layers, nodes, ways, shots, steps), lean) in enumerate(plan):
            result = measure_run(c, layers, nodes, ways, shots, steps, args.episodes, args.cache, f"{tmp}/run{i}",
                                 lean=lean)
            label = f"{c}/{layers}/{nodes}, {ways}x{shots}" + ("" if lean else ", no CPU shortcuts")
            rows.append({"setting": label, "steps": steps, **result})
            print(json.dumps(rows[-1]), flush=True)
    print("\n| setting (channels/layers/nodes, ways×shots) | meta-steps | peak RSS | CPU (user+sys) | wall | accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setting']} | {r['steps']} | {r['peak_rss_mb']:.0f} MB | {r['cpu_s']:.0f} s | {r['wall_s']:.0f} s "
              f"| {r['accuracy']:.3f} |")


def phases(args: argparse.Namespace) -> None:
    from nas_meta import learners, train

    spent = {"meta_step": 0.0, "eval_batch": 0.0}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            before = _cpu_seconds()
            out = fn(*a, **k)
            spent[name] += _cpu_seconds() - before
            return out

        return wrapper

    learners.MetaNAS._meta_step = timed("meta_step", learners.MetaNAS._meta_step)  # type: ignore[method-assign]
    learners.MetaNAS._eval_batch = timed("eval_batch", learners.MetaNAS._eval_batch)  # type: ignore[method-assign]
    start = _cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        summary = train.meta_train("metanas", ways=5, shots=1, steps=3, out=tmp, device="cpu", eval_episodes=5,
                                   cache=args.cache, params={"channels": 8, "layers": 3, "nodes": 3},
                                   show_progress=False)
    print(json.dumps({**{k: round(v, 1) for k, v in spent.items()}, "total_cpu_s": round(_cpu_seconds() - start, 1),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "accuracy": summary["evaluations"][0]["accuracy"]}))


def step(args: argparse.Namespace) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from nas_meta._functional import AdaptConfig, adapt
    from nas_meta.episodes import EpisodeSampler
    from nas_meta.omniglot import load_omniglot, split_by_alphabet
    from nas_meta.supernet import SearchNetwork

    torch.set_num_threads(1)
    train_arr, _ = split_by_alphabet(load_omniglot(None, args.cache))
    ep = EpisodeSampler(train_arr.images, 5, 1, 5, seed=0).sample(1)
    x = torch.cat([ep.support_x, ep.query_x], 1)[0][:args.images]
    y = torch.cat([ep.support_y, ep.query_y], 1)[0][:args.images]
    model = SearchNetwork(8, 3, 3)
    params = {k: v.detach() for k, v in model.named_parameters()}
    cfg = AdaptConfig(steps=1, lr=0.1, lr_arch=0.5, arch_reg=0.1, hard=args.hard)
    adapt(model, params, x, y, 5, cfg)  # warm-up: oneDNN builds its kernels
    before = _cpu_seconds()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        adapt(model, params, x, y, 5, cfg)
    print(f"one step of {args.images} images: {_cpu_seconds() - before:.2f} CPU s (with the profiler)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["runs", "phases", "step"])
    p.add_argument("--cache", required=True, help="the Omniglot .npz cache")
    p.add_argument("--data", default=None, help="folder with the Omniglot zips (to build a missing cache)")
    p.add_argument("--episodes", type=int, default=5, help="test episodes of each run")
    p.add_argument("--images", type=int, default=30, help="images of the profiled step (30: 5-way, 1 shot + 5 queries)")
    p.add_argument("--hard", action="store_true", help="profile a step of the discretised cells")
    args = p.parse_args()
    _ensure_cache(args.cache, args.data)
    {"runs": runs, "phases": phases, "step": step}[args.what](args)


if __name__ == "__main__":
    main()
