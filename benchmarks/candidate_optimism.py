#!/usr/bin/env python
"""Why tuned candidates did not help the neighbour warm starters (#24): two measured causes.

A tuned candidate (``metakb build --candidates bohb``) is the incumbent of a BOHB search on its
source dataset, and its matrix cell on that dataset is the search's own evaluation: the same
row subsample, folds and model seed (evaluation seed 0) it was selected on. A warm starter that
copies "the best configuration of a similar dataset" (``knn-best``) trusts exactly that cell.
This script measures, on the shipped knowledge base:

1. **Selection optimism.** Every source dataset's cell of three configurations is evaluated
   again with fresh evaluation seeds (``--seeds``: another row subsample where the dataset has
   more rows than the protocol's cap, other folds, other model seeds):

   * ``tuned``: the dataset's own tuned candidate (selected from its search's evaluations);
   * ``old-best``: the best of the 128 sampled configurations on the dataset (selected from 128);
   * ``best``: the best of all its configurations, tuned candidates included (selected from 260:
     what ``knn-best`` copies from a neighbour);
   * ``control``: one sampled configuration drawn at random (seeded; not selected on the data),
     which checks that a fresh seed alone does not move scores.

   Optimism = stored score - fresh score (mean over the fresh seeds), in units of the dataset's
   range of the sampled configurations (best - worst: the benchmarks' normalised regret unit).
   One-sided Wilcoxon tests: optimism > 0 per role, and tuned's > old-best's (paired).
2. **Transfer.** No new evaluations (2 and 3): the normalised regret of each source's ``tuned``
   configuration and of its ``old-best`` on every *other* dataset (the source's near-duplicates
   left out), in the same unit; mean per source, paired over the sources (two-sided Wilcoxon).
   A specialist is better at home and worse elsewhere.
3. **Neighbour transfer.** The same comparison where ``knn-best`` makes it: on each held-out
   dataset, the regret of its 5 nearest datasets' tuned candidates and of their old bests
   (neighbours by ``KNNWarmStarter``'s defaults, fitted without the held-out dataset and its
   near-duplicates), paired over the held-out datasets; and how often a neighbour's stored best
   (what ``knn-best`` copies) is its own tuned candidate.

Usage (from the repository root, about 30 CPU-minutes with two seeds)::

    nice -n 5 .venv/bin/python benchmarks/candidate_optimism.py --db db/metakb-default.sqlite \\
        --pmlb ../shared/data/pmlb/datasets --seeds 1 2 --jobs 2 --out /tmp/optimism.json

References:
    Cawley, Talbot. On Over-fitting in Model Selection and Subsequent Selection Bias in
    Performance Evaluation. JMLR 2010 (the optimism of a selected model's own estimate).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metakb.evaluation import EvaluationTask, Protocol, WorkerPool, evaluate_tasks  # noqa: E402
from metakb.evaluation._pool import data_ref_for_pmlb  # noqa: E402
from metakb.store import KnowledgeBase  # noqa: E402
from metakb.warmstart import KNNWarmStarter  # noqa: E402
from metakb.workflows.candidates import candidate_origins  # noqa: E402
from metakb.workflows.duplicates import near_duplicate_map  # noqa: E402
from metakb.workflows.warmstart import default_configurations, knowledge_base_frames  # noqa: E402

ROLES = ("tuned", "old-best", "best", "control")


def _log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def load(args: argparse.Namespace) -> dict[str, Any]:
    """Everything both scripts read from the knowledge base, read once: the meta-features and
    the matrix at budget 1, the configurations, the tuned candidate of each source dataset and
    every candidate's origins, the default configurations and the twins map."""
    with KnowledgeBase(args.db, readonly=True) as kb:
        meta_features, matrix = knowledge_base_frames(kb, args.space, args.metric)
        configs = kb.configurations(args.space)
        sources = kb.configuration_sources(args.space, kind="bohb-incumbent")
        origins = candidate_origins(kb, args.space)
        defaults = default_configurations(kb, args.space)
        twins = near_duplicate_map(kb)
    sources = sources[sources["rank"] == 1]
    tuned_of = {str(d): int(c) for d, c in zip(sources["dataset"], sources["configuration_id"], strict=True)
                if str(d) in matrix.index}
    sampled = [int(c) for c in matrix.columns if int(c) not in origins]
    return {"matrix": matrix, "configs": configs, "tuned_of": tuned_of, "sampled": sampled, "twins": twins,
            "meta_features": meta_features, "origins": origins, "defaults": defaults}


def role_configurations(data: dict[str, Any], seed: int) -> pd.DataFrame:
    """One row per (dataset, role): the configuration and its stored score."""
    matrix, sampled = data["matrix"], data["sampled"]
    rng = np.random.default_rng(seed)
    rows = []
    for name, tuned in sorted(data["tuned_of"].items()):
        row = matrix.loc[name]
        old = row[sampled].dropna()
        if old.empty or not np.isfinite(row.get(tuned, np.nan)):
            continue
        picks = {"tuned": tuned, "old-best": int(old.idxmax()), "best": int(row.idxmax()),
                 "control": int(rng.choice(old.index.to_numpy()))}
        scale = float(old.max() - old.min())
        for role, config in picks.items():
            rows.append({"dataset": name, "role": role, "configuration_id": config,
                         "stored": float(row[config]), "scale": scale})
    return pd.DataFrame(rows)


def fresh_scores(frame: pd.DataFrame, data: dict[str, Any], args: argparse.Namespace,
                 known: dict[tuple[str, int], float] | None = None) -> pd.DataFrame:
    """Evaluate every (dataset, configuration) of ``frame`` again at each fresh seed; adds
    ``fresh`` (mean over the seeds) and ``optimism``. Pairs in ``known`` (fresh means of an
    earlier run at the same seeds) are not evaluated again."""
    known = dict(known or {})
    protocol = Protocol.parse(data["matrix"].attrs["protocol"], metric=args.metric)
    configs = data["configs"]["config"]
    pairs = sorted({(str(d), int(c)) for d, c in zip(frame["dataset"], frame["configuration_id"], strict=True)}
                   - set(known))
    tasks = [EvaluationTask(key=(pair, seed), data=data_ref_for_pmlb(Path(args.pmlb) / pair[0]),
                            config=dict(configs[pair[1]]), protocol=protocol, seed=seed)
             for pair in pairs for seed in args.seeds]  # by dataset: a worker keeps the one it loaded last
    _log(f"{len(tasks)} evaluations ({len(known)} pairs reused)")
    values: dict[tuple[str, int], list[float]] = {}
    start = time.time()
    with WorkerPool(args.jobs, timeout=args.timeout) as pool:
        for done, (task, result) in enumerate(evaluate_tasks(pool, tasks), 1):
            if result.status == "ok" and result.value is not None:
                values.setdefault(task.key[0], []).append(float(result.value))
            if done % 25 == 0 or done == len(tasks):
                _log(f"{done}/{len(tasks)} evaluations, {time.time() - start:.0f} s")
    known.update({pair: float(np.mean(v)) for pair, v in values.items()})
    out = frame.copy()
    out["fresh"] = [known.get((str(d), int(c)), np.nan)
                    for d, c in zip(out["dataset"], out["configuration_id"], strict=True)]
    out["optimism"] = (out["stored"] - out["fresh"]) / out["scale"]
    return out


def reused_scores(path: str, seeds: list[int]) -> dict[tuple[str, int], float]:
    """The fresh means of an earlier ``--out`` file (which must have used the same seeds)."""
    earlier = json.loads(Path(path).read_text())
    if sorted(earlier["settings"]["seeds"]) != sorted(seeds):
        raise SystemExit(f"--reuse: {path} used seeds {earlier['settings']['seeds']}, not {seeds}")
    return {(str(r["dataset"]), int(r["configuration_id"])): float(r["fresh"])
            for r in earlier["optimism_rows"] if r["fresh"] is not None and np.isfinite(r["fresh"])}


def _regret(matrix: pd.DataFrame, sampled: list[int]) -> pd.DataFrame:
    """Normalised regret of every cell, scaled by its row's sampled configurations (a failed
    cell counts as the row's worst)."""
    old = matrix[sampled]
    best, worst = old.max(axis=1), old.min(axis=1)
    values = matrix.to_numpy(dtype=float)
    values = np.where(np.isnan(values), worst.to_numpy()[:, None], values)
    regret = (best.to_numpy()[:, None] - values) / (best - worst).replace(0, np.nan).to_numpy()[:, None]
    return pd.DataFrame(regret, index=matrix.index, columns=matrix.columns)


def transfer(data: dict[str, Any]) -> pd.DataFrame:
    """Per source: mean normalised regret of its tuned candidate and of its old best elsewhere."""
    matrix, sampled, twins = data["matrix"], data["sampled"], data["twins"]
    old = matrix[sampled]
    regret = _regret(matrix, sampled)
    rows = []
    for name, tuned in sorted(data["tuned_of"].items()):
        others = [d for d in matrix.index if d != name and d not in twins.get(name, set())]
        old_best = int(old.loc[name].idxmax())
        rows.append({"dataset": name, "tuned_elsewhere": float(regret.loc[others, tuned].mean()),
                     "old_best_elsewhere": float(regret.loc[others, old_best].mean())})
    return pd.DataFrame(rows)


def neighbour_transfer(data: dict[str, Any], n_neighbors: int = 5) -> pd.DataFrame:
    """Per held-out dataset: the regret there of its ``n_neighbors`` nearest datasets' tuned
    candidates and of their old bests (``knn-best``'s neighbours, fitted without the held-out
    dataset and its near-duplicates, as the leave-one-dataset-out harness does), and how many of
    those neighbours' stored bests are their own tuned candidates (what ``knn-best`` copies)."""
    matrix, sampled, twins, tuned_of = data["matrix"], data["sampled"], data["twins"], data["tuned_of"]
    features = data["meta_features"]
    regret = _regret(matrix, sampled)
    rows = []
    for name in matrix.index:
        if name not in features.index:
            continue
        train = [d for d in features.index if d != name and d not in twins.get(name, set()) and d in tuned_of]
        knn = KNNWarmStarter(n_neighbors=n_neighbors).fit(features.loc[train], matrix.loc[train])
        near = [n for n, _ in knn.neighbours(features.loc[name])[:n_neighbors]]
        tuned = [regret.loc[name, tuned_of[n]] for n in near]
        old = [regret.loc[name, int(matrix.loc[n, sampled].idxmax())] for n in near]
        copied = sum(int(matrix.loc[n].idxmax()) == tuned_of[n] for n in near)
        rows.append({"dataset": name, "neighbours_tuned": float(np.mean(tuned)),
                     "neighbours_old_best": float(np.mean(old)), "bests_that_are_tuned": copied})
    return pd.DataFrame(rows)


def _p(x: Any, alternative: str) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x) & (x != 0)]
    return float(wilcoxon(x, alternative=alternative).pvalue) if len(x) >= 5 else float("nan")


def _paired_regrets(frame: pd.DataFrame, tuned: str, old: str) -> dict[str, Any]:
    """Mean and median of two regret columns (printed), how often ``tuned`` is worse, and the
    paired two-sided Wilcoxon p."""
    out: dict[str, Any] = {}
    for key in (tuned, old):
        out[key] = {"mean": float(frame[key].mean()), "median": float(frame[key].median())}
        print(f"{key:<20} mean {frame[key].mean():.4f}  median {frame[key].median():.4f}")
    diff = frame[tuned] - frame[old]
    out["tuned_worse_on"] = [int((diff > 0).sum()), len(diff)]
    out["p_two_sided"] = _p(diff, "two-sided")
    return out


def report(fresh: pd.DataFrame, moved: pd.DataFrame, near: pd.DataFrame | None = None) -> dict[str, Any]:
    """The summary table (printed) and its values (for ``--out``)."""
    summary: dict[str, Any] = {"optimism": {}, "transfer": {}, "neighbours": {}}
    print("\n1. selection optimism: stored - fresh score, in units of the dataset's sampled range")
    print(f"{'role':<10} {'n':>4} {'mean':>8} {'median':>8} {'> 0':>5} {'p (> 0)':>9}")
    wide = fresh.pivot_table(index="dataset", columns="role", values="optimism")
    for role in ROLES:
        col = wide[role].dropna()
        summary["optimism"][role] = {"n": len(col), "mean": float(col.mean()), "median": float(col.median()),
                                     "positive": int((col > 0).sum()), "p_positive": _p(col, "greater")}
        s = summary["optimism"][role]
        print(f"{role:<10} {s['n']:>4} {s['mean']:>8.4f} {s['median']:>8.4f} {s['positive']:>5} {s['p_positive']:>9.2g}")
    ids = fresh.pivot_table(index="dataset", columns="role", values="configuration_id")
    differs = ids["best"] != ids["old-best"]
    summary["optimism"]["best_is_tuned"] = [int(differs.sum()), len(differs)]
    print(f"the best of all is a tuned candidate on {int(differs.sum())} of {len(differs)} datasets")
    for role, where in (("tuned", slice(None)), ("best", differs)):
        paired = (wide[role] - wide["old-best"])[where].dropna()
        summary["optimism"][f"{role}_minus_old_best"] = {"n": len(paired), "mean": float(paired.mean()),
                                                         "p_greater": _p(paired, "greater")}
        print(f"{role}'s optimism - old-best's ({len(paired)} datasets{'' if role == 'tuned' else ' where they differ'}): "
              f"mean {paired.mean():.4f}, one-sided p = {_p(paired, 'greater'):.2g}")
    scores = fresh.pivot_table(index="dataset", columns="role", values="fresh")
    stored = fresh.pivot_table(index="dataset", columns="role", values="stored")
    for label, table in (("stored", stored), ("fresh", scores)):
        both = table[["tuned", "old-best"]].dropna()
        wins = int((both["tuned"] > both["old-best"]).sum())
        summary["optimism"][f"tuned_beats_old_best_{label}"] = [wins, len(both)]
        print(f"tuned better than old-best at home, {label} scores: {wins} of {len(both)}")
    print("\n2. transfer: mean normalised regret on the other datasets (0 = their best sampled configuration)")
    summary["transfer"] = _paired_regrets(moved, "tuned_elsewhere", "old_best_elsewhere")
    worse, n = summary["transfer"]["tuned_worse_on"]
    print(f"tuned worse elsewhere than old-best for {worse} of {n} sources, "
          f"two-sided p = {summary['transfer']['p_two_sided']:.2g}")
    if near is not None and not near.empty:
        print("\n3. the 5 nearest datasets (knn-best's neighbours): mean regret on the held-out dataset")
        summary["neighbours"] = _paired_regrets(near, "neighbours_tuned", "neighbours_old_best")
        share = float(near["bests_that_are_tuned"].sum() / (5 * len(near)))
        summary["neighbours"]["share_of_bests_tuned"] = share
        worse, n = summary["neighbours"]["tuned_worse_on"]
        print(f"tuned worse than old-best for {worse} of {n} held-out datasets, "
              f"two-sided p = {summary['neighbours']['p_two_sided']:.2g}; {share:.0%} of the neighbours' stored bests "
              "are their own tuned candidates")
    return summary


def add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    """The knowledge base, the data and the fresh evaluations (shared with confirmed_top.py)."""
    parser.add_argument("--db", default=str(REPO / "db" / "metakb-default.sqlite"))
    parser.add_argument("--pmlb", required=True, help="PMLB datasets folder")
    parser.add_argument("--space", default="sklearn-cash")
    parser.add_argument("--metric", default="balanced_accuracy")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2],
                        help="fresh evaluation seeds (the matrix's own is 0)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per evaluation (the build's)")


def check_seeds(parser: argparse.ArgumentParser, seeds: list[int]) -> None:
    """Fresh seeds must not repeat the matrix's own evaluation seed."""
    if 0 in seeds:
        parser.error("--seeds: fresh seeds must differ from the matrix's evaluation seed 0; got 0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_evaluation_arguments(parser)
    parser.add_argument("--control-seed", type=int, default=0, help="seeds the control configuration's draw")
    parser.add_argument("--limit", type=int, default=0, help="only the first N source datasets (0: all)")
    parser.add_argument("--out", help="write the per-dataset rows and the summary as JSON")
    parser.add_argument("--reuse", help="an earlier --out file at the same --seeds: its fresh evaluations "
                                        "are reused, only the missing pairs are evaluated")
    args = parser.parse_args(argv)
    check_seeds(parser, args.seeds)
    data = load(args)
    frame = role_configurations(data, args.control_seed)
    if args.limit:
        frame = frame[frame["dataset"].isin(sorted(frame["dataset"].unique())[:args.limit])].reset_index(drop=True)
    _log(f"{frame['dataset'].nunique()} source datasets")
    fresh = fresh_scores(frame, data, args, reused_scores(args.reuse, args.seeds) if args.reuse else None)
    moved = transfer(data)
    near = neighbour_transfer(data)
    summary = report(fresh, moved, near)
    if args.out:
        Path(args.out).write_text(json.dumps({"settings": {k: v for k, v in vars(args).items()},
                                              "summary": summary, "optimism_rows": fresh.to_dict("records"),
                                              "transfer_rows": moved.to_dict("records"),
                                              "neighbour_rows": near.to_dict("records")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
