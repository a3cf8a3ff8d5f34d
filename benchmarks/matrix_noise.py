"""How noisy is the knowledge base's performance matrix, and does it decide the portfolio test?

Every cell of the shipped matrix is one 3-fold cross-validation (seed 0). This script
re-evaluates the same configurations on a sample of datasets with another seed (new folds, new
subsample, new model seeds; ``metakb build --eval-seed``) in a copy of the knowledge base, then
reports, on the re-evaluated datasets:

* test-retest agreement: Spearman correlation of each dataset's two rows, and the noise of one
  cell, ``sd(seed 0 - seed 1) / sqrt(2)``, raw and in normalised units (divided by the
  dataset's span, as the portfolio regret is);
* the noise floor of the regret: the normalised regret, measured on the seed-1 row, of the
  seed-0 incumbent (the matrix oracle itself); a portfolio difference below it is a
  difference in noise;
* the leave-one-dataset-out portfolio comparison of ``benchmarks/portfolio.py`` (portfolios
  built on the seed-0 rows of all other datasets) scored on each re-evaluated held-out dataset:
  on its seed-0 row (the benchmark's protocol), on its independent seed-1 row, and as a user
  meets it: the member best on the seed-0 row is kept and scored on the seed-1 row.

Usage:
    nice -n 15 .venv/bin/python benchmarks/matrix_noise.py --db db/metakb-default.sqlite \
        --work /tmp/noise/kb.sqlite --pmlb ../shared/data/pmlb --sample 30 --jobs 2
    (rerun the same command to resume an interrupted evaluation; --analyse-only skips it)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from portfolio import METHODS, build, paired_p  # noqa: E402

from portfolios import to_loss_matrix  # noqa: E402

SPACE, METRIC, PROTOCOL = "sklearn-cash", "balanced_accuracy", "cv:3:max_rows=1500"


def pick_datasets(kb_path: Path, sample: int, seed: int, max_cost: float) -> list[str]:
    """A seeded sample of datasets whose seed-0 row cost at most ``max_cost`` fit seconds,
    cheapest first, so that an interrupted evaluation has as many complete rows as possible."""
    from metakb.store import KnowledgeBase

    with KnowledgeBase(kb_path, readonly=True) as kb:
        frame = kb.evaluations()
    cost = frame[frame["seed"] == 0].groupby("dataset")["fit_seconds"].sum()
    eligible = sorted(cost[cost <= max_cost].index)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(eligible, size=min(sample, len(eligible)), replace=False).tolist()
    return sorted(chosen, key=lambda d: (cost[d], d))


def evaluate(work: Path, pmlb: Path, datasets: list[str], eval_seed: int, n_configs: int, jobs: int,
             timeout: float) -> None:
    """Re-evaluate the configurations of the seed-0 build on ``datasets`` with ``eval_seed``."""
    from metakb.build import build_from_pmlb
    from metakb.store import KnowledgeBase

    with KnowledgeBase(work) as kb:
        report = build_from_pmlb(kb, pmlb, space=SPACE, n_configs=n_configs, jobs=jobs,
                                 protocol=PROTOCOL, seed=0, eval_seed=eval_seed, datasets=datasets,
                                 timeout=timeout, with_meta_features=False)
    print(f"evaluated {report.evaluated} cells ({report.skipped_existing} already stored) in "
          f"{report.seconds:.0f} s: {report.status_counts}")


def seed_matrices(work: Path, eval_seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The seed-0 matrix (every dataset) and the ``eval_seed`` matrix (re-evaluated ones)."""
    from metakb.store import KnowledgeBase

    with KnowledgeBase(work, readonly=True) as kb:
        m0, m1 = (kb.performance_matrix(SPACE, metric=METRIC, protocol=PROTOCOL, seed=seed)
                  for seed in (0, eval_seed))
    return m0, m1.reindex(columns=m0.columns)


def analyse(m0: pd.DataFrame, m1: pd.DataFrame, max_size: int, checkpoints: tuple[int, ...]) -> dict:
    """Test-retest statistics and the portfolio comparison scored on both rows."""
    retested = [d for d in m1.index if m1.loc[d].notna().sum() >= 0.95 * m1.shape[1]]
    loss0 = to_loss_matrix(m0, missing="worst").loss
    rows0 = {d: i for i, d in enumerate(m0.index)}
    m1 = m1.reindex(index=retested, columns=m0.columns)
    loss1 = to_loss_matrix(m1, missing="worst").loss
    spear, noise_raw, noise_norm, floor, same = [], [], [], [], []
    for j, d in enumerate(retested):
        a, b = m0.loc[d].to_numpy(float), m1.loc[d].to_numpy(float)
        both = ~np.isnan(a) & ~np.isnan(b)
        spear.append(spearmanr(a[both], b[both]).statistic)
        diff = (a - b)[both]
        noise_raw.append(diff.std(ddof=1) / np.sqrt(2))
        noise_norm.append(noise_raw[-1] / (np.nanmax(a) - np.nanmin(a)))
        incumbent = int(np.argmin(loss0[rows0[d]]))
        floor.append(loss1[j, incumbent])
        same.append(incumbent == int(np.argmin(loss1[j])))
    size = min(max_size, m0.shape[1])
    scored: dict[str, dict[str, np.ndarray]] = {"seed 0 row": {}, "seed 1 row": {},
                                                 "chosen on seed 0, scored on seed 1": {}}
    for method in METHODS:
        r0, r1, r01 = (np.zeros((len(retested), size)) for _ in range(3))
        for j, d in enumerate(retested):
            train = m0.drop(index=d)
            seeds = range(10) if method == "random" else [0]
            picks = [build(method, train, size, s) for s in seeds]
            r0[j] = np.mean([np.minimum.accumulate(loss0[rows0[d], p]) for p in picks], axis=0)
            r1[j] = np.mean([np.minimum.accumulate(loss1[j, p]) for p in picks], axis=0)
            r01[j] = np.mean([_chosen_then_scored(loss0[rows0[d], p], loss1[j, p]) for p in picks], axis=0)
        scored["seed 0 row"][method], scored["seed 1 row"][method] = r0, r1
        scored["chosen on seed 0, scored on seed 1"][method] = r01
    comparison = {}
    for row, regrets in scored.items():
        comparison[row] = {
            n: {"mean": {m: float(regrets[m][:, n - 1].mean()) for m in METHODS},
                "p_greedy_less": {m: paired_p(regrets["greedy"][:, n - 1], regrets[m][:, n - 1])
                                  for m in METHODS if m != "greedy"}}
            for n in checkpoints if n <= size}
    return {"datasets": retested, "spearman_median": float(np.median(spear)),
            "spearman_quartiles": np.quantile(spear, [0.25, 0.75]).tolist(),
            "cell_noise_raw_median": float(np.median(noise_raw)),
            "cell_noise_normalised_median": float(np.median(noise_norm)),
            "oracle_retest_regret_mean": float(np.mean(floor)),
            "oracle_retest_regret_median": float(np.median(floor)),
            "incumbent_unchanged": float(np.mean(same)), "comparison": comparison}


def _chosen_then_scored(validation: np.ndarray, test: np.ndarray) -> np.ndarray:
    """For each prefix: the test loss of the member best on the validation losses.

    The protocol of a user who runs a portfolio on a new dataset: evaluate every member,
    keep the best by its (noisy) validation score, and live with its test score.
    """
    best = np.zeros(len(validation))
    for k in range(len(validation)):
        best[k] = test[int(np.argmin(validation[:k + 1]))]
    return best


def markdown(result: dict) -> str:
    lines = [f"Re-evaluated datasets: {len(result['datasets'])} (all 128 configurations, seed 1)", "",
             "| statistic | value |", "|---|---:|",
             f"| Spearman of the two rows, median (quartiles) | {result['spearman_median']:.3f} "
             f"({result['spearman_quartiles'][0]:.3f}–{result['spearman_quartiles'][1]:.3f}) |",
             f"| noise of one cell, balanced accuracy (median over datasets) | {result['cell_noise_raw_median']:.4f} |",
             f"| the same in normalised units (÷ the dataset's span) | {result['cell_noise_normalised_median']:.4f} |",
             f"| seed-1 regret of the seed-0 incumbent (mean / median) | {result['oracle_retest_regret_mean']:.4f} / "
             f"{result['oracle_retest_regret_median']:.4f} |",
             f"| datasets whose incumbent is the same under both seeds | {result['incumbent_unchanged']:.0%} |",
             "", "Leave-one-dataset-out portfolios (built on the seed-0 matrix of the other datasets), "
             "scored on the held-out dataset's seed-0 row, its seed-1 row, and by the member best on "
             "seed 0 scored on seed 1:", "",
             "| row | N | " + " | ".join(METHODS) + " | p greedy < per-dataset-best |",
             "|---|---|" + "---:|" * len(METHODS) + "---:|"]
    for row, by_n in result["comparison"].items():
        for n, stats in by_n.items():
            cells = " | ".join(f"{stats['mean'][m]:.4f}" for m in METHODS)
            lines.append(f"| {row} | {n} | {cells} | {stats['p_greedy_less']['per-dataset-best']:.2g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "db" / "metakb-default.sqlite")
    parser.add_argument("--work", type=Path, required=True,
                        help="the copy to add the re-evaluations to (created from --db if absent)")
    parser.add_argument("--pmlb", type=Path, default=REPO.parent / "shared" / "data" / "pmlb")
    parser.add_argument("--sample", type=int, default=30, help="datasets to re-evaluate")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--max-cost", type=float, default=200.0,
                        help="only datasets whose seed-0 row took at most this many fit seconds")
    parser.add_argument("--eval-seed", type=int, default=1)
    parser.add_argument("--configs", type=int, default=128)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--analyse-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    start = time.time()
    if not args.work.exists():
        args.work.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(args.db, args.work)
    datasets = pick_datasets(args.work, args.sample, args.sample_seed, args.max_cost)
    print(f"datasets ({len(datasets)}): {' '.join(datasets)}")
    if not args.analyse_only:
        evaluate(args.work, args.pmlb, datasets, args.eval_seed, args.configs, args.jobs, args.timeout)
    m0, m1 = seed_matrices(args.work, args.eval_seed)
    result = analyse(m0, m1.reindex(index=[d for d in datasets if d in m1.index]), 32,
                     tuple(args.checkpoints))
    print(markdown(result))
    print(f"\n({time.time() - start:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
