#!/usr/bin/env python
"""Confirming the top of each row (#24): do the neighbour warm starters gain from tuned
candidates once the cells they copy are measured on more than one seed?

``benchmarks/candidate_optimism.py`` found that the best stored cell of a dataset is optimistic
(selected from many noisy single-seed estimates) and more so with the tuned candidates in the
pool (the best of 260 instead of 128). ``knn-best`` copies exactly those cells from the
neighbours. Racing-style intensification (SMAC, irace) answers this by re-evaluating the
apparent best ones: here every dataset's ``--top`` best configurations, of the 128 sampled
ones and of all 260, are evaluated again at ``--seeds`` (fresh subsample, folds and model
seed), and their training-side cells become the mean over seed 0 and those seeds.

The yardstick does not move: every held-out regret is measured on the stored seed-0 matrix and
scaled by the sampled configurations (``regret_reference="untuned"``), as in
``benchmarks/tuned_candidates.py``. Four arms in one run, leave-one-dataset-out with
near-duplicates dropped and a held-out dataset's own candidates hidden:

* ``old``: the 128 sampled configurations, cells as stored;
* ``old-confirmed``: the same, top cells confirmed;
* ``new``: all 260 (tuned candidates included), as stored;
* ``new-confirmed``: all 260, top cells confirmed.

The settings (``--top 10``, ``--seeds 1 2``, the methods and their parameters) were fixed
before the first run and are not tuned on its result.

Usage (from the repository root; about 20 minutes of evaluations on 2 cores)::

    nice -n 5 .venv/bin/python benchmarks/confirmed_top.py --pmlb ../shared/data/pmlb/datasets \\
        --reuse /tmp/optimism.json --out /tmp/confirmed.json

References:
    Hutter, Hoos, Leyton-Brown. Sequential Model-Based Optimization for General Algorithm
    Configuration. LION 2011 (intensification: re-evaluate incumbents before trusting them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: the sibling script below, never shadowing a package

import candidate_optimism  # noqa: E402
from candidate_optimism import _log  # noqa: E402

from metakb.warmstart.evaluate import evaluate_warm_starting, method_factories  # noqa: E402

METHODS = ("knn-best", "knn")
ARMS = ("old", "old-confirmed", "new", "new-confirmed")


def top_pairs(matrix: pd.DataFrame, sampled: list[int], top: int) -> pd.DataFrame:
    """Each dataset's ``top`` best configurations among the sampled ones and among all, as
    ``(dataset, configuration_id, stored)`` rows (each pair once)."""
    rows = {}
    for name, row in matrix.iterrows():
        for pool in (row[sampled], row):
            for config, value in pool.dropna().nlargest(top).items():
                rows[(str(name), int(config))] = float(value)
    return pd.DataFrame([{"dataset": d, "configuration_id": c, "stored": v, "scale": 1.0, "role": "top"}
                         for (d, c), v in sorted(rows.items())])


def confirmed(matrix: pd.DataFrame, fresh: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
    """The matrix with each confirmed cell replaced by its mean over seed 0 and ``n_seeds``
    fresh seeds (a cell whose fresh evaluations all failed keeps its stored value)."""
    out = matrix.copy()
    for row in fresh.itertuples():
        if np.isfinite(row.fresh):
            out.loc[row.dataset, row.configuration_id] = (row.stored + n_seeds * row.fresh) / (1 + n_seeds)
    out.attrs.update(matrix.attrs)
    return out


def run_arms(data: dict[str, Any], confirmed_matrix: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """dataset × (method, k) regrets of every arm, all measured on the stored matrix
    (``data``: :func:`candidate_optimism.load`'s)."""
    meta_features, performance, sampled = data["meta_features"], data["matrix"], data["sampled"]
    factories, _ = method_factories(list(METHODS), n_neighbors=5, seed=seed)
    out = {}
    for arm in ARMS:
        columns = sampled if arm.startswith("old") else list(performance.columns)
        train = (confirmed_matrix if arm.endswith("confirmed") else performance)[columns]
        train.attrs.update(performance.attrs)
        evaluation = evaluate_warm_starting(meta_features, train, factories, ks=(1, 3, 5, 10), folds="loo",
                                            defaults=data["defaults"], seed=seed, near_duplicates=data["twins"],
                                            found_on=data["origins"], reference=sampled, truth=performance[columns])
        out[arm] = evaluation.regrets.pivot_table(index="dataset", columns=["method", "k"], values="regret")
        _log(f"{arm}: done")
    return out


def summarise(regrets: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Mean regrets per arm, method and k; paired two-sided Wilcoxon tests of the arms that matter."""
    table: dict[str, Any] = {}
    for arm, frame in regrets.items():
        for (method, k), col in frame.items():
            table.setdefault(f"{method}@{k}", {})[arm] = float(col.mean())
    tests = {}
    for a, b in (("old", "new"), ("old", "new-confirmed"), ("old-confirmed", "new-confirmed"),
                 ("new", "new-confirmed"), ("old", "old-confirmed")):
        for method in ("knn-best", "knn", "portfolio"):
            x, y = regrets[a][(method, 5)], regrets[b][(method, 5)]
            d = (y - x).dropna()
            d = d[d != 0]
            tests[f"{method}@5 {a} vs {b}"] = {"p": float(wilcoxon(d).pvalue) if len(d) >= 5 else None,
                                               "better": int((d < 0).sum()), "worse": int((d > 0).sum()),
                                               "ties": int(len(x) - len(d))}
    return {"mean_regret": table, "tests": tests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    candidate_optimism.add_evaluation_arguments(parser)
    parser.add_argument("--top", type=int, default=10, help="configurations confirmed per dataset and pool")
    parser.add_argument("--seed", type=int, default=0, help="seeds the warm starters' evaluation")
    parser.add_argument("--reuse", help="an earlier --out of this script or of candidate_optimism.py (same seeds)")
    parser.add_argument("--evaluate-only", action="store_true", help="collect the fresh evaluations and stop")
    parser.add_argument("--out", help="JSON with the fresh evaluations, the regrets and the summary")
    args = parser.parse_args(argv)
    candidate_optimism.check_seeds(parser, args.seeds)
    if args.top < 1:
        parser.error(f"--top must be at least 1, got {args.top}")
    data = candidate_optimism.load(args)
    pairs = top_pairs(data["matrix"], data["sampled"], args.top)
    _log(f"{len(pairs)} (dataset, configuration) pairs to confirm")
    known = candidate_optimism.reused_scores(args.reuse, args.seeds) if args.reuse else None
    fresh = candidate_optimism.fresh_scores(pairs, data, args, known)
    result: dict[str, Any] = {"settings": dict(vars(args)), "optimism_rows": fresh.to_dict("records")}
    if not args.evaluate_only:
        regrets = run_arms(data, confirmed(data["matrix"], fresh, len(args.seeds)), args.seed)
        result["summary"] = summarise(regrets)
        result["regrets"] = {arm: {f"{m}@{k}": col.to_dict() for (m, k), col in frame.items()}
                             for arm, frame in regrets.items()}
        print(json.dumps(result["summary"], indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
