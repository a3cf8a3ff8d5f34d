#!/usr/bin/env python
"""fANOVA and tunability on the LCBench surrogate, side by side with the reference fANOVA.

Two parts, one run:

1. ``compare``: on configurations sampled uniformly from the LCBench space (evaluated at the
   full budget, 52 epochs, by the YAHPO surrogate), metakb's fANOVA and the reference
   (automl/fanova 2.0.19 on pyrfr, run in ``.venv-fanova`` through a subprocess with JSON in
   and out) fit forests with matched settings on the same unit-cube data. It prints, per task,
   the Spearman correlation of the main-effect importances, whether the top-3 agree, and the
   times of main effects (forest fit included) and of all 21 pairwise importances (the
   reference's ``get_most_important_pairwise_marginals`` computes all of them to return its top
   5).
2. ``report``: metakb's fANOVA and tunability over all 34 tasks (one performance table:
   the same configurations on every task), aggregated over tasks, with plots in ``docs/img``.

Usage:
    bash benchmarks/setup_fanova_env.sh       # once: the reference's environment
    nice -n 15 .venv/bin/python benchmarks/importance.py --points 500 --tasks 34 --pair-tasks 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------- reference worker
def reference_worker(path_in: str, path_out: str) -> None:
    """Runs inside .venv-fanova: the reference fANOVA on each job of ``path_in``."""
    import numpy as np

    np.float = float  # fanova 2.0.19 still calls np.float (removed in numpy 1.24)
    import logging

    import ConfigSpace as CS
    import pandas as pd
    from fanova import fANOVA

    logging.disable(logging.WARNING)
    jobs = json.loads(Path(path_in).read_text())
    results = []
    for job in jobs:
        names = job["names"]
        cs = CS.ConfigurationSpace()
        for name in names:  # unit cube, like metakb's encoding
            cs.add_hyperparameter(CS.UniformFloatHyperparameter(name, 0.0, 1.0))
        x = pd.DataFrame(np.asarray(job["x"], dtype=float), columns=names)
        y = np.asarray(job["y"], dtype=float)
        start, cpu = time.perf_counter(), time.process_time()
        f = fANOVA(x, y, config_space=cs, n_trees=job["n_trees"], seed=job["seed"],
                   bootstrapping=job["bootstrap"], max_features=job["max_features"],
                   min_samples_split=job["min_samples_split"], min_samples_leaf=job["min_samples_leaf"],
                   max_depth=job["max_depth"])
        main = {}
        for name in names:
            main[name] = f.quantify_importance((name,))[(name,)]["individual importance"]
        main_s, main_cpu = time.perf_counter() - start, time.process_time() - cpu
        pairs, pairs_s, pairs_cpu = {}, None, None
        if job["pairs"]:
            start, cpu = time.perf_counter(), time.process_time()
            f.get_most_important_pairwise_marginals(n=5)
            pairs_s, pairs_cpu = time.perf_counter() - start, time.process_time() - cpu
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    pairs[f"{a} × {b}"] = f.quantify_importance((a, b))[(a, b)]["individual importance"]
        results.append({"main": main, "pairs": pairs, "main_s": main_s, "pairs_s": pairs_s,
                        "main_cpu": main_cpu, "pairs_cpu": pairs_cpu})
    Path(path_out).write_text(json.dumps(results))


def run_reference(jobs: list[dict], python: Path) -> list[dict]:
    """Send ``jobs`` to the reference worker in its own environment; return its results."""
    with tempfile.TemporaryDirectory() as tmp:
        path_in, path_out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        path_in.write_text(json.dumps(jobs))
        subprocess.run([str(python), __file__, "--reference-worker", str(path_in), str(path_out)],
                       check=True, cwd=ROOT)
        return json.loads(path_out.read_text())


# ---------------------------------------------------------------------- data
def lcbench_table(points: int, tasks: int, seed: int, data: Path):
    """Uniformly sampled LCBench configurations, scored on ``tasks`` tasks at 52 epochs."""
    import pandas as pd

    from metakb.surrogates import LCBench

    bench = LCBench(data / "yahpo" / "lcbench")
    space = bench.configspace(seed=seed)
    configs = [dict(c) for c in space.sample_configuration(points)]
    frame = pd.DataFrame(configs)
    rows = {t: bench.evaluate(configs, t, 52, output="val_balanced_accuracy") for t in bench.task_ids[:tasks]}
    performance = pd.DataFrame.from_dict(rows, orient="index", columns=frame.index)
    performance.attrs["higher_is_better"] = True
    return frame, performance, space


# ---------------------------------------------------------------------- part 1
def compare(args: argparse.Namespace) -> list[dict]:
    import numpy as np
    from scipy.stats import spearmanr

    from metakb.importance import FANOVA
    from metakb.importance._encoding import encode, params_of_space

    frame, performance, space = lcbench_table(args.points, args.tasks, args.seed, args.data)
    params = params_of_space(space)
    names = [p.name for p in params]
    x = encode(frame, params)
    settings = dict(n_trees=args.trees, bootstrap=True, max_features=0.7, min_samples_split=2,
                    min_samples_leaf=1, max_depth=64)
    seeds = [args.seed + k for k in range(args.seeds)]
    jobs = [{"names": names, "x": x.tolist(), "y": performance.loc[t].tolist(), "seed": seed,
             "max_features": int(len(names) * 7 // 10), "pairs": i < args.pair_tasks and seed == seeds[0],
             **{k: v for k, v in settings.items() if k != "max_features"}}
            for i, t in enumerate(performance.index) for seed in seeds]
    reference = iter(run_reference(jobs, args.reference_python))
    rows = []
    for _i, task in enumerate(performance.index):
        y = performance.loc[task].to_numpy()
        ours, refs, decs, times, cpus = [], [], [], [], []
        for seed in seeds:
            start, cpu = time.perf_counter(), time.process_time()
            dec = FANOVA(**settings, seed=seed, pairs_of_top=0).decompose(x, y, params)
            ours.append(dec.main_fractions().mean(axis=0))
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            decs.append(dec)
            refs.append(next(reference))
        ours_main, ref_main = np.mean(ours, axis=0), np.mean([[r["main"][n] for n in names] for r in refs], axis=0)
        ref0 = np.array([refs[0]["main"][n] for n in names])
        row = {"task": task, **_agreement(ours_main, ref_main),
               "single_" + "spearman": _agreement(ours[0], ref0)["spearman"],
               "ours_main_s": times[0], "ref_main_s": refs[0]["main_s"],
               "ours_main_cpu": cpus[0], "ref_main_cpu": refs[0]["main_cpu"],
               "ours_top": names[int(np.argmax(ours_main))], "ref_top": names[int(np.argmax(ref_main))],
               "ours_main": dict(zip(names, ours_main.round(4).tolist(), strict=False)),
               "ref_main": dict(zip(names, ref_main.round(4).tolist(), strict=False))}
        if len(seeds) > 1:  # the noise floor: the reference against itself with another seed
            ref1 = np.array([refs[1]["main"][n] for n in names])
            floor = _agreement(ref0, ref1)
            row.update(ref_vs_ref_spearman=floor["spearman"], ref_vs_ref_top3=floor["top3_same"])
        if refs[0]["pairs_s"] is not None:
            pairs = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names))]
            start, cpu = time.perf_counter(), time.process_time()
            ours_pairs = decs[0].pair_fractions(pairs).mean(axis=0)
            row["ours_pairs_s"] = time.perf_counter() - start
            row["ours_pairs_cpu"] = time.process_time() - cpu
            row["ref_pairs_s"], row["ref_pairs_cpu"] = refs[0]["pairs_s"], refs[0]["pairs_cpu"]
            ref_pairs = np.array([refs[0]["pairs"][f"{names[a]} × {names[b]}"] for a, b in pairs])
            row["pairs_spearman"] = float(spearmanr(ours_pairs, ref_pairs)[0])
            row["top5_pairs_overlap"] = len(set(np.argsort(-ours_pairs)[:5]) & set(np.argsort(-ref_pairs)[:5]))
        rows.append(row)
    return rows


def _agreement(a, b) -> dict:
    import numpy as np
    from scipy.stats import spearmanr

    return {"spearman": float(spearmanr(a, b)[0]),
            "top3_same": set(np.argsort(-a)[:3].tolist()) == set(np.argsort(-b)[:3].tolist()),
            "top3_same_order": np.argsort(-a)[:3].tolist() == np.argsort(-b)[:3].tolist()}


def print_compare(rows: list[dict], args: argparse.Namespace) -> None:
    import numpy as np

    print(f"\n## fANOVA main effects: metakb vs reference (LCBench, {args.points} points, "
          f"{args.trees} trees x {args.seeds} seeds, {len(rows)} tasks)\n")
    print("| task | Spearman | same top-3 (set / order) | top (metakb / ref) | Spearman, 1 forest each "
          "| ref vs ref: Spearman, top-3 | main s (metakb / ref) | pairs s (metakb / ref) | pairs Spearman "
          "| top-5 pairs shared |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        pairs = (f"{r['ours_pairs_s']:.3f} / {r['ref_pairs_s']:.1f}" if "ours_pairs_s" in r else "")
        floor = (f"{r['ref_vs_ref_spearman']:.3f}, {r['ref_vs_ref_top3']}" if "ref_vs_ref_spearman" in r else "")
        pair_rho = f"{r['pairs_spearman']:.3f}" if "pairs_spearman" in r else ""
        print(f"| {r['task']} | {r['spearman']:.3f} | {r['top3_same']} / {r['top3_same_order']} | "
              f"{r['ours_top']} / {r['ref_top']} | {r['single_spearman']:.3f} | {floor} | "
              f"{r['ours_main_s']:.3f} / {r['ref_main_s']:.3f} | {pairs} | {pair_rho} | "
              f"{r.get('top5_pairs_overlap', '')} |")
    sp = np.array([r["spearman"] for r in rows])
    print(f"\nSpearman (averaged forests) min {sp.min():.3f}, median {np.median(sp):.3f}; same top-3 set on "
          f"{sum(r['top3_same'] for r in rows)}/{len(rows)} tasks, same order on "
          f"{sum(r['top3_same_order'] for r in rows)}/{len(rows)}")
    single = np.array([r["single_spearman"] for r in rows])
    print(f"one forest each: Spearman min {single.min():.3f}, median {np.median(single):.3f}")
    if "ref_vs_ref_spearman" in rows[0]:
        floor = np.array([r["ref_vs_ref_spearman"] for r in rows])
        print(f"reference vs itself (two seeds): Spearman min {floor.min():.3f}, median {np.median(floor):.3f}; "
              f"same top-3 set on {sum(r['ref_vs_ref_top3'] for r in rows)}/{len(rows)}")
    for unit, suffix in (("wall", "_s"), ("CPU", "_cpu")):
        if f"ours_main{suffix}" not in rows[0]:
            continue
        ours, ref = (np.median([r[f"{side}_main{suffix}"] for r in rows]) for side in ("ours", "ref"))
        print(f"main effects, fit included, one forest ({unit} s): median metakb {ours:.3f}, reference "
              f"{ref:.3f} ({ref / ours:.1f}x)")
        paired = [r for r in rows if f"ours_pairs{suffix}" in r]
        if paired:
            ours, ref = (np.median([r[f"{side}_pairs{suffix}"] for r in paired]) for side in ("ours", "ref"))
            print(f"all 21 pairs ({unit} s): median metakb {ours:.3f}, reference {ref:.1f} ({ref / ours:.0f}x) "
                  f"over {len(paired)} tasks")


def time_large(args: argparse.Namespace) -> None:
    """metakb alone at a size where the reference takes minutes: CPU seconds per task."""
    import itertools

    import numpy as np

    from metakb.importance import FANOVA
    from metakb.importance._encoding import encode, params_of_space

    frame, performance, space = lcbench_table(args.time_points, args.time_tasks, args.seed, args.data)
    params = params_of_space(space)
    x = encode(frame, params)
    pairs = list(itertools.combinations(range(len(params)), 2))
    main, pair = [], []
    for task in performance.index:
        cpu = time.process_time()
        dec = FANOVA(n_trees=args.trees, seed=args.seed).decompose(x, performance.loc[task].to_numpy(), params)
        dec.main_fractions()
        main.append(time.process_time() - cpu)
        cpu = time.process_time()
        dec.pair_fractions(pairs)
        pair.append(time.process_time() - cpu)
    print(f"\nmetakb at {args.time_points} points, {len(main)} tasks: main effects (fit included) median "
          f"{np.median(main):.3f} CPU s, all {len(pairs)} pairs median {np.median(pair):.3f} CPU s")


# ---------------------------------------------------------------------- part 2
def report(args: argparse.Namespace) -> None:
    from metakb.importance import FANOVA, Tunability
    from metakb.importance.plots import plot_importances, plot_marginals

    frame, performance, space = lcbench_table(args.report_points, 34, args.seed, args.data)
    start = time.perf_counter()
    fanova = FANOVA(n_trees=args.trees, seed=args.seed, pairs_of_top=None).evaluate(frame, performance, space)
    fanova_s = time.perf_counter() - start
    start = time.perf_counter()
    tun = Tunability(seed=args.seed, pairs=True).evaluate(frame, performance, space)
    tun_s = time.perf_counter() - start
    print(f"\n## LCBench, 34 tasks, {args.report_points} configurations at 52 epochs "
          f"(fANOVA {fanova_s:.1f} s, tunability {tun_s:.1f} s)\n")
    summary = fanova.summary().join(tun.summary().add_suffix("_tun"))
    summary = summary.join(tun.relative().median(axis=0).rename("relative_tun"))
    print("| hyperparameter | fANOVA median [q25, q75] | tunability median [q25, q75] | relative tunability (median) |")
    print("|---|---|---|---|")
    for name, r in summary.iterrows():
        print(f"| {name} | {r['median']:.3f} [{r['q25']:.3f}, {r['q75']:.3f}] | "
              f"{r['median_tun']:.4f} [{r['q25_tun']:.4f}, {r['q75_tun']:.4f}] | {r['relative_tun']:.2f} |")
    print("\nfANOVA pairs (median [q25, q75]):")
    for name, r in fanova.pair_summary().head(5).iterrows():
        print(f"  {name}: {r['median']:.3f} [{r['q25']:.3f}, {r['q75']:.3f}]")
    alg = tun.algorithm
    print(f"\noptimal default: {tun.default}\nalgorithm tunability (balanced accuracy): median "
          f"{alg.median():.4f} [{alg.quantile(0.25):.4f}, {alg.quantile(0.75):.4f}]")
    if args.plots:
        img = ROOT / "docs" / "img"
        img.mkdir(parents=True, exist_ok=True)
        plot_importances(fanova, img / "importance_lcbench_fanova.png", pairs=5,
                         title="fANOVA on LCBench (34 tasks; median, quartiles)")
        plot_importances(tun, img / "importance_lcbench_tunability.png",
                         title="Tunability on LCBench (34 tasks; median, quartiles)")
        best = str(fanova.per_dataset.index[0])
        plot_marginals(fanova, img / "importance_lcbench_marginals.png", dataset=best,
                       score_label="balanced accuracy")
        print(f"plots written to {img}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(os.environ.get("METAKB_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default_data, help="the shared data folder")
    parser.add_argument("--points", type=int, default=500, help="configurations per task (comparison)")
    parser.add_argument("--tasks", type=int, default=34, help="LCBench tasks compared with the reference")
    parser.add_argument("--pair-tasks", type=int, default=3, help="tasks on which pairs are timed (slow for the reference)")
    parser.add_argument("--trees", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=4,
                        help="forests per side and task; importances are averaged over them (noise floor from 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference-python", type=Path, default=ROOT / ".venv-fanova" / "bin" / "python")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--report-points", type=int, default=2000, help="configurations per task (report)")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--time-points", type=int, default=0,
                        help="also time metakb alone at this many points (0: skip)")
    parser.add_argument("--time-tasks", type=int, default=3)
    parser.add_argument("--plots", action="store_true", help="write docs/img/importance_lcbench_*.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the comparison rows here")
    parser.add_argument("--reference-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_worker:
        reference_worker(*args.reference_worker)
        return 0
    print(f"# benchmarks/importance.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if not args.skip_compare:
        if not args.reference_python.exists():
            print(f"reference environment missing ({args.reference_python}); run "
                  "benchmarks/setup_fanova_env.sh", file=sys.stderr)
            return 2
        rows = compare(args)
        print_compare(rows, args)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, default=str))
    if args.time_points:
        time_large(args)
    if not args.skip_report:
        report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
