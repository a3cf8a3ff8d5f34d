#!/usr/bin/env python
"""Warm-started BOHB with per-budget seeding, leave-one-dataset-out: evaluations to reach cold BOHB.

For every held-out dataset of a knowledge base with learning curves (evaluations at 1/9, 1/3
and all of the training rows, ``metakb build --budgets 1/9,1/3,1``), three BOHB runs with the
same number of evaluations and the same seeds:

* ``cold``: no warm start;
* ``warm-each``: the kNN warm start (``optimize --warm-start knn``), each budget's model seeded
  from the similar datasets' evaluations at that budget (``--budget-priors each``);
* ``warm-full``: the same warm start, every budget seeded from the full-budget evaluations
  only (``--budget-priors full``, the behaviour before learning curves).

The held-out dataset never teaches its own warm start: ``optimize`` drops it by content hash,
and its near-duplicates (the knowledge base's ``near_duplicates`` pairs, ``metakb kb dedupe``)
are excluded by name. Every run works on a fresh copy of the knowledge base, so no run learns
from another run's evaluations, and the original file is never written.

Reported per dataset and seed: the best full-budget score of each run and the evaluations each
run needs to reach cold BOHB's final (best full-budget) score; a run that never reaches it
counts as ``n_evaluations + 1`` (censored, and counted). Then the median table, the datasets
where warm-each needs fewer evaluations than cold, and paired two-sided Wilcoxon signed-rank
tests (per dataset, means over seeds): warm-each vs cold, warm-each vs warm-full, warm-full vs
cold.

Usage (from the repository root; real evaluations, about n_evaluations x 3 x seeds per dataset)::

    nice -n 10 .venv/bin/python benchmarks/warm_bohb_budgets.py --db KB.sqlite \\
        --pmlb ../shared/data/pmlb/datasets --n-evaluations 40 --seeds 0 1 2 --out /tmp/warm_bohb.json

References:
    Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at Scale.
    ICML 2018.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metakb.data import load_pmlb  # noqa: E402
from metakb.store import KnowledgeBase, snapshot_kb  # noqa: E402
from metakb.workflows.duplicates import near_duplicate_map  # noqa: E402
from metakb.workflows.optimize import optimize_table  # noqa: E402

ARMS = {"cold": ("none", "full"), "warm-each": ("knn", "each"), "warm-full": ("knn", "full")}
CURVE = (1 / 9, 1 / 3)  # the budgets a held-out dataset's sources need (besides the full one)


def _log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def with_curves(kb: KnowledgeBase, space: str) -> list[str]:
    """Datasets with evaluations at every budget of the learning curve."""
    names = set(kb.performance_matrix(space, budget=1.0).index)
    for budget in CURVE:
        names &= set(kb.performance_matrix(space, budget=budget).index)
    return sorted(names)


def reach(values: list[float | None], target: float) -> int | None:
    """1-based evaluation index where the best full-budget score so far reaches ``target``."""
    best = -math.inf
    for i, value in enumerate(values, start=1):
        if value is not None and value > best:
            best = value
        if best >= target - 1e-12:
            return i
    return None


def _run(args: argparse.Namespace, folder: Path, name: str, table: Any, excluded: set[str], arm: str,
         seed: int) -> list[float | None]:
    """One BOHB run on a fresh copy; the full-budget scores in evaluation order (None: a
    lower budget or a failed evaluation)."""
    warm_start, budget_priors = ARMS[arm]
    path = snapshot_kb(Path(args.db), folder / f"{name}-{arm}-{seed}.sqlite")
    try:
        with KnowledgeBase(path) as kb:
            report = optimize_table(table, kb, n_evaluations=args.n_evaluations, space=args.space,
                                    protocol=args.protocol, warm_start=warm_start, budget_priors=budget_priors,
                                    n_initial=args.n_initial, exclude_datasets=sorted(excluded), seed=seed,
                                    timeout=args.timeout)
            frame = kb.evaluations(run_id=report.run_id)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    full = (frame["budget"] - 1.0).abs() < 1e-9
    return [float(v) if f and s == "ok" else None for v, f, s in zip(frame["value"], full, frame["status"], strict=True)]


def run_dataset(args: argparse.Namespace, folder: Path, name: str, twins: set[str],
                outside: set[str] | None = None) -> list[dict[str, Any]]:
    """Every arm and seed on one held-out dataset; one row per seed. The warm starts learn
    from neither its near-duplicates (``twins``) nor the ``outside`` datasets (``--sources
    curves``: the datasets without learning curves)."""
    table = load_pmlb(Path(args.pmlb) / name)
    rows = []
    for seed in args.seeds:
        curves = {arm: _run(args, folder, name, table, twins | (outside or set()), arm, seed) for arm in ARMS}
        scores = [v for v in curves["cold"] if v is not None]
        if not scores:
            _log(f"{name} seed {seed}: cold BOHB has no full-budget score; left out")
            continue
        target = max(scores)
        row: dict[str, Any] = {"dataset": name, "seed": seed, "cold_final": target,
                               "near_duplicates_excluded": sorted(twins)}
        for arm, values in curves.items():
            hit = reach(values, target)
            ok = [v for v in values if v is not None]
            row[f"{arm}_best"] = max(ok) if ok else None
            row[f"{arm}_reached"] = hit is not None
            row[f"{arm}_evals"] = hit if hit is not None else args.n_evaluations + 1
        rows.append(row)
        _log(f"{name} seed {seed}: " + ", ".join(f"{a} {row[f'{a}_evals']}" for a in ARMS))
    return rows


def _first_full_budget_evaluation() -> int:
    """The length of cold BOHB's first bracket (optimize's budgets 1/9..1, eta 3): its first
    evaluation on all rows is the last one of that bracket."""
    from metakb.optimizers import bracket_sizes, hyperband_budgets

    s_max = len(hyperband_budgets(1 / 9, 1.0, 3)) - 1
    return int(sum(bracket_sizes(s_max, s_max, 3)))


def _wilcoxon(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    from scipy.stats import wilcoxon

    diff = (a - b).to_numpy()
    if len(diff) < 2 or not diff.any():
        return {"n": int(len(diff)), "statistic": None, "p": None}
    result = wilcoxon(a.to_numpy(), b.to_numpy())
    return {"n": int(len(diff)), "statistic": float(result.statistic), "p": float(result.pvalue)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median table, the win counts and the paired tests (per dataset, means over seeds)."""
    frame = pd.DataFrame(rows)
    per = frame.groupby("dataset")[[f"{a}_evals" for a in ARMS] + [f"{a}_best" for a in ARMS]].mean()
    table = pd.DataFrame({arm: {"median evals to reach cold's final": per[f"{arm}_evals"].median(),
                                "mean evals": per[f"{arm}_evals"].mean(),
                                "runs reaching it": int(frame[f"{arm}_reached"].sum()),
                                "median best score": per[f"{arm}_best"].median()} for arm in ARMS})
    each, full, cold = per["warm-each_evals"], per["warm-full_evals"], per["cold_evals"]
    return {"datasets": len(per), "runs": len(frame), "table": table.to_dict(),
            "fewer_than_cold": {"warm-each": int((each < cold).sum()), "warm-full": int((full < cold).sum())},
            "fewer_than_warm_full": int((each < full).sum()),
            "wilcoxon": {"warm-each vs cold": _wilcoxon(each, cold), "warm-each vs warm-full": _wilcoxon(each, full),
                         "warm-full vs cold": _wilcoxon(full, cold)},
            "per_dataset": per.reset_index().to_dict(orient="records"), "table_text": table.to_string()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="knowledge base with learning curves (never written)")
    parser.add_argument("--pmlb", help="PMLB datasets folder (the held-out tables)")
    parser.add_argument("--space", default="sklearn-cash")
    parser.add_argument("--protocol", default="holdout:0.33:max_rows=1500", help="BOHB's protocol (optimize's default)")
    parser.add_argument("--n-evaluations", type=int, default=40)
    parser.add_argument("--n-initial", type=int, default=5, help="kNN recommendations evaluated first (warm arms)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=None, help="only these held-out datasets")
    parser.add_argument("--max-datasets", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per evaluation")
    parser.add_argument("--sources", choices=("all", "curves"), default="all",
                        help="what the warm starts learn from: every dataset of the knowledge base (all) or only "
                             "those with learning curves (curves: a knowledge base whose curves are built for "
                             "part of its datasets is measured as if it held those datasets only)")
    parser.add_argument("--out", default=None, help="write every number as JSON here")
    parser.add_argument("--combine", nargs="+", default=None, metavar="JSON",
                        help="summarise the rows of earlier --out files together (runs split over processes "
                             "with --datasets) instead of running anything")
    args = parser.parse_args(argv)
    if args.combine:
        combined = [row for path in args.combine for row in json.loads(Path(path).read_text())["rows"]]
        return _report(args, combined, time.time())
    if not args.db or not args.pmlb:
        parser.error("--db and --pmlb are required (unless --combine)")
    first_full = _first_full_budget_evaluation()
    if args.n_evaluations < first_full:
        parser.error(f"--n-evaluations must be >= {first_full} (cold BOHB's first evaluation on all rows comes "
                     f"after its first bracket), got {args.n_evaluations}")
    started = time.time()
    with KnowledgeBase(args.db, readonly=True) as kb:
        curved = with_curves(kb, args.space)
        twins = near_duplicate_map(kb)
        outside = (set(kb.performance_matrix(args.space, budget=1.0).index) - set(curved)
                   if args.sources == "curves" else set())
    names = [n for n in curved if (Path(args.pmlb) / n).is_dir()]  # held out: those with a PMLB folder
    if args.datasets:
        names = [n for n in names if n in set(args.datasets)]
    names = names[:args.max_datasets] if args.max_datasets else names
    if not names:
        raise SystemExit("no held-out dataset: the knowledge base has no dataset with evaluations at 1/9, 1/3 "
                         "and 1 and a PMLB folder (build with --budgets 1/9,1/3,1)")
    _log(f"{len(names)} held-out datasets, {len(args.seeds)} seeds, {args.n_evaluations} evaluations per run; "
         f"warm starts learn from {len(curved) if args.sources == 'curves' else 'all'} datasets")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="metakb-warm-bohb-") as tmp:
        for name in names:
            rows += run_dataset(args, Path(tmp), name, twins.get(name, set()), outside)
            if args.out:  # the rows so far, after every dataset: a stopped run keeps them (--combine reads them)
                Path(args.out).write_text(json.dumps({"argv": sys.argv[1:], "partial": True, "rows": rows},
                                                     indent=1, default=str))
    return _report(args, rows, started)


def _report(args: argparse.Namespace, rows: list[dict[str, Any]], started: float) -> int:
    """Print the per-run rows, the median table and the paired tests; write them with --out."""
    if not rows:
        raise SystemExit("no run produced a full-budget score")
    summary = summarise(rows)
    print(pd.DataFrame(rows).drop(columns=["near_duplicates_excluded"]).to_string(index=False))
    print(f"\n=== {summary['datasets']} datasets, {summary['runs']} runs of {args.n_evaluations} evaluations ===")
    print(summary["table_text"])
    print(f"warm-each needs fewer evaluations than cold on {summary['fewer_than_cold']['warm-each']} datasets, "
          f"warm-full on {summary['fewer_than_cold']['warm-full']}; warm-each fewer than warm-full on "
          f"{summary['fewer_than_warm_full']}")
    for label, test in summary["wilcoxon"].items():
        print(f"Wilcoxon {label}: n={test['n']} p={test['p']}")
    if args.out:
        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "argv": sys.argv[1:],
                  "seconds": time.time() - started, "rows": rows,
                  **{k: v for k, v in summary.items() if k != "table_text"}}
        Path(args.out).write_text(json.dumps(result, indent=1, default=str))
        _log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
