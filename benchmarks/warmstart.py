#!/usr/bin/env python
"""Warm starting measured leave-one-dataset-out: every warm starter against the baselines.

Two parts, one run (each can be skipped):

1. ``kb``: the shipped knowledge base (``db/metakb-default.sqlite``, space ``sklearn-cash``,
   metric ``balanced_accuracy``), copied to a temporary folder first so the original is never
   touched. Every dataset is held out in turn (leave-one-dataset-out); kNN and the Siamese
   network are fitted on the other datasets only (the network is retrained for every held-out
   dataset). Reported: normalised regret of the best of k = 1, 3, 5, 10, 25 recommended
   configurations (mean ± 95% CI), the baselines random-k (exact expectation), default (the
   best default configuration on the training datasets) and single-best-k (best mean rank),
   paired two-sided Wilcoxon tests, and the fraction of the SBS-VBS gap closed at k = 1.
   With ``--analysis``: kNN on each meta-feature group alone, kNN with 1..25 neighbours,
   and the other distances/scalings, all at k = 5 -- to see where the signal is, not to pick a
   setting (the reported methods keep their defaults).
2. ``aslib``: the two ASlib scenarios of ``--data``/aslib imported into a temporary knowledge
   base (``metakb import aslib``) and evaluated the same way on the scenarios' own 10 cv folds,
   with PAR10 runtimes (instances no algorithm solves are dropped: they cost the same whatever
   is selected). The headline is the fraction of the SBS-VBS gap closed by the k = 1 choice.

Usage (from the repository root)::

    nice -n 15 .venv/bin/python benchmarks/warmstart.py --analysis --out /tmp/warmstart.json
    nice -n 15 .venv/bin/python benchmarks/warmstart.py --skip-kb          # ASlib only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metakb.data.aslib_import import import_aslib  # noqa: E402
from metakb.store import KnowledgeBase, snapshot_kb  # noqa: E402
from metakb.warmstart import KNNWarmStarter, knowledge_base_frames  # noqa: E402
from metakb.warmstart._report import format_evaluation, regret_table  # noqa: E402
from metakb.warmstart.evaluate import (  # noqa: E402
    WarmStartEvaluation,
    evaluate_warm_starting,
)
from metakb.workflows.warmstart import default_configurations, evaluate_knowledge_base  # noqa: E402


def _default_data() -> Path:
    env = os.environ.get("METAKB_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def _copy_kb(path: Path, folder: Path) -> Path:
    """A snapshot of the KB, so that reading never touches the original (it may be being built)."""
    if not path.is_file():
        raise SystemExit(f"knowledge base {path} does not exist (pass --db or --skip-kb)")
    return snapshot_kb(path, folder / path.name)


def _targets(evaluation: WarmStartEvaluation, ks: tuple[int, ...] = (1, 5)) -> list[dict[str, Any]]:
    """The issue's claims: every method vs the portfolio and single-best at k = 1 and 5 (lower
    and Wilcoxon p < 0.05), the probe arms vs the portfolio at k = 5, Siamese vs kNN."""
    summary = evaluation.summary().set_index(["method", "k"])["mean"]
    rows = []
    for k in ks:
        for method in evaluation.methods:
            others = ("portfolio", "single-best") + (("knn",) if method == "siamese" else ())
            for other in others:
                if (other, k) not in summary.index or (method, k) not in summary.index:
                    continue
                if method.startswith("cf-probe") and k == 1:
                    continue  # the first choice of a probe arm is the portfolio's first member
                test = evaluation.compare(method, other, k)
                holds = summary[(method, k)] < summary[(other, k)] and test["p_value"] < 0.05
                rows.append({"claim": f"{method}-{k} < {other}-{k}, Wilcoxon p < 0.05",
                             "method_mean": summary[(method, k)], "other_mean": summary[(other, k)],
                             "p_value": test["p_value"], "w/t/l": f"{test['wins']}/{test['ties']}/{test['losses']}",
                             "holds": bool(holds)})
    return rows


def _latency(kb: KnowledgeBase, space: str, metric: str | None, methods: list[str], seed: int,
             n_queries: int = 5) -> pd.DataFrame:
    """Training time on the whole matrix and in-process ``recommend`` latency (mean of a few
    queries, each a known dataset left out of the provenance) per method."""
    from metakb.warmstart.evaluate import method_factories

    meta_features, performance = knowledge_base_frames(kb, space, metric)
    rows = []
    for name in methods:
        factories, probes = method_factories([name], seed=seed)
        start = time.perf_counter()
        model = factories[name]().fit(meta_features, performance)
        fit = time.perf_counter() - start
        times = []
        for dataset in list(performance.index)[:n_queries]:
            extra: dict[str, Any] = {}
            if name in probes:
                extra["probes"] = {c: float(performance.at[dataset, c])
                                   for c in model.probe_configurations(probes[name])}  # type: ignore[attr-defined]
            start = time.perf_counter()
            model.recommend(meta_features.loc[dataset], n_configs=5, exclude_datasets=[dataset], **extra)
            times.append(time.perf_counter() - start)
        rows.append({"method": name, "fit_s": fit, "recommend_s": float(sum(times) / len(times)),
                     "recommend_max_s": max(times)})
        _log(f"latency {name}: fit {fit:.2f} s, recommend {rows[-1]['recommend_s']:.3f} s")
    return pd.DataFrame(rows)


def _feature_groups(kb: KnowledgeBase) -> dict[str, list[str]]:
    rows = kb.connection.execute("SELECT DISTINCT grp, name FROM meta_features").fetchall()
    groups: dict[str, list[str]] = {}
    for group, name in rows:
        groups.setdefault(group, []).append(name)
    return {g: sorted(n) for g, n in sorted(groups.items())}


def _analysis(kb: KnowledgeBase, space: str, metric: str, neighbors: int) -> pd.DataFrame:
    """kNN variants at k = 5 (one leave-one-dataset-out run each; cheap)."""
    meta_features, performance = knowledge_base_frames(kb, space, metric)
    defaults = default_configurations(kb, space)
    variants: dict[str, dict[str, Any]] = {}
    for group, names in _feature_groups(kb).items():
        present = [n for n in names if n in meta_features.columns]
        if present:
            variants[f"group={group} ({len(present)})"] = {"features": present}
    for n in (1, 3, 5, 10, 25):
        variants[f"n_neighbors={n}"] = {"n_neighbors": n}
    variants["metric=l2"] = {"metric": "l2"}
    variants["metric=cosine"] = {"metric": "cosine"}
    variants["scaler=standard"] = {"scaler": "standard"}
    variants["log_transform"] = {"log_transform": True}
    rows = []
    for label, params in variants.items():
        params = {"n_neighbors": neighbors, **params}
        try:
            ev = evaluate_warm_starting(meta_features, performance,
                                        {"knn": lambda p=params: KNNWarmStarter(**p)}, ks=(1, 5), defaults=defaults)
        except Exception as exc:  # noqa: BLE001 - one variant failing (e.g. constant group) is reported
            rows.append({"variant": label, "error": str(exc)})
            continue
        summary = ev.summary().set_index(["method", "k"])
        versus_sb = ev.compare("knn", "single-best", 5)
        rows.append({"variant": label, "knn_k1": summary.loc[("knn", 1), "mean"],
                     "knn_k5": summary.loc[("knn", 5), "mean"], "ci95_k5": summary.loc[("knn", 5), "ci95"],
                     "single_best_k5": summary.loc[("single-best", 5), "mean"],
                     "p_vs_single_best_k5": versus_sb["p_value"],
                     "p_vs_random_k5": ev.compare("knn", "random", 5)["p_value"]})
        _log(f"analysis {label}: knn-5 {rows[-1]['knn_k5']:.4f}")
    return pd.DataFrame(rows)


def _distance_quality(kb: KnowledgeBase, space: str, metric: str, epochs: int, seed: int,
                      n_folds: int = 10) -> pd.DataFrame:
    """How well each distance predicts 1 - Spearman of configuration scores on unseen datasets.

    For every fold of a seeded 10-fold split over datasets, the warm starters are fitted on the
    other folds; for each held-out dataset, the Spearman correlation between its distances to
    the training datasets and the true rank dissimilarities (computed from the full matrix, for
    this analysis only) is recorded. Higher = the distance orders neighbours better. A
    query-independent ordering (training datasets by their mean dissimilarity to the other
    training datasets) shows how much of that needs no query at all. ``dissimilarity_of_5_nearest``
    is the mean true ``1 - Spearman`` between a held-out dataset and the 5 datasets a distance
    puts nearest (what kNN recommends from; lower is better), next to the oracle's 5 truly
    nearest and the mean over all training datasets. For the
    Siamese network, the mean squared error of its distances on training pairs (its final training
    loss) and on held-out pairs shows how far it generalises.
    """
    import numpy as np
    from scipy.stats import spearmanr

    from metakb.warmstart import SiameseWarmStarter
    from metakb.warmstart._siamese import rank_dissimilarity
    from metakb.warmstart.evaluate import make_folds

    meta_features, performance = knowledge_base_frames(kb, space, metric)
    names = list(performance.index)
    target = pd.DataFrame(rank_dissimilarity(performance), index=names, columns=names)
    fold_of = make_folds(names, n_folds, seed)
    groups = {g: [n for n in f if n in meta_features.columns] for g, f in _feature_groups(kb).items()}
    variants: dict[str, Any] = {"knn l1 (all)": lambda: KNNWarmStarter(),
                                "knn cosine (all)": lambda: KNNWarmStarter(metric="cosine")}
    variants.update({f"knn l1 ({g})": (lambda f=f: KNNWarmStarter(features=f)) for g, f in groups.items() if f})
    variants["siamese"] = lambda: SiameseWarmStarter(epochs=epochs, seed=seed)
    correlations: dict[str, list[float]] = {name: [] for name in variants}
    # a query-independent ordering: training datasets by their mean dissimilarity to the other
    # training datasets ("central" datasets rank configurations like most others do)
    correlations["centrality only (no query)"] = []
    nearest: dict[str, list[float]] = {name: [] for name in correlations}
    nearest["oracle (true 5 nearest)"], nearest["all training datasets"] = [], []
    train_mse, test_mse = [], []
    for fold in sorted(set(fold_of.values())):
        train = [d for d in names if fold_of[d] != fold]
        test = [d for d in names if fold_of[d] == fold]
        for name, factory in variants.items():
            model = factory().fit(meta_features.loc[train], performance.loc[train])
            for d in test:
                distance = model._distances(meta_features.loc[d])
                truth = target.loc[d, model.datasets_].to_numpy(dtype=float)
                ok = np.isfinite(truth)
                correlations[name].append(float(spearmanr(distance[ok], truth[ok])[0]))
                nearest[name].append(float(np.mean(truth[ok][np.argsort(distance[ok], kind="stable")[:5]])))
                if name == "siamese":
                    test_mse.append(float(np.mean((distance[ok] - truth[ok]) ** 2)))
            if name == "siamese":
                train_mse.append(model.loss_history_[-1])
        centrality = target.loc[train, train].mean(axis=1).to_numpy(dtype=float)
        for d in test:
            truth = target.loc[d, train].to_numpy(dtype=float)
            ok = np.isfinite(truth) & np.isfinite(centrality)
            correlations["centrality only (no query)"].append(float(spearmanr(centrality[ok], truth[ok])[0]))
            nearest["centrality only (no query)"].append(float(np.mean(truth[ok][np.argsort(centrality[ok])[:5]])))
            nearest["oracle (true 5 nearest)"].append(float(np.mean(np.sort(truth[ok])[:5])))
            nearest["all training datasets"].append(float(np.mean(truth[ok])))
        _log(f"distance quality: fold {fold + 1}/{n_folds}")
    rows = [{"distance": name, "spearman_mean": float(np.nanmean(correlations[name])) if name in correlations else None,
             "spearman_sd": float(np.nanstd(correlations[name])) if name in correlations else None,
             "dissimilarity_of_5_nearest": float(np.mean(v))} for name, v in nearest.items()]
    rows.append({"distance": "siamese MSE train / held-out", "spearman_mean": float(np.mean(train_mse)),
                 "spearman_sd": float(np.mean(test_mse)), "dissimilarity_of_5_nearest": None})
    return pd.DataFrame(rows)


def _model_folds(args: argparse.Namespace, methods: list[str]) -> dict[str, Any]:
    """The trained models' own fold scheme on the knowledge base (see ``--model-folds``)."""
    if args.model_folds == args.folds:
        return {}
    return {m: args.model_folds for m in methods if m in ("rf-model", "pairwise-model", "rf-selector")}


def run_kb(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    path = _copy_kb(Path(args.db), folder)
    with KnowledgeBase(path) as kb:
        info = kb.info()
        _log(f"knowledge base {args.db}: {info['counts']['datasets']} datasets, "
             f"{info['counts']['evaluations']} evaluations")
        start = time.perf_counter()
        evaluation = evaluate_knowledge_base(kb, args.space, methods=args.methods, metric=args.metric,
                                             ks=args.ks, folds=args.folds, n_neighbors=args.neighbors,
                                             siamese_params={"epochs": args.epochs},
                                             siamese_folds=args.siamese_folds, seed=args.seed,
                                             method_folds=_model_folds(args, args.methods),
                                             progress=_log if args.verbose else None,
                                             regret_reference=args.regret_reference)
        seconds = time.perf_counter() - start
        print(f"\n=== knowledge base {args.db} ({time.strftime('%Y-%m-%d')}, {seconds:.0f} s) ===")
        print(format_evaluation(evaluation))
        targets = _targets(evaluation)
        print("\nissue targets at k = 1 and 5")
        print(pd.DataFrame(targets).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        result = {"kb": str(args.db), "counts": info["counts"], "seconds": seconds, **evaluation.to_dict(),
                  "regret_table": regret_table(evaluation).to_dict(), "targets": targets}
        if args.latency:
            latency = _latency(kb, args.space, evaluation.settings["metric"], args.methods, args.seed)
            print("\ntraining on the whole matrix and in-process recommend latency (top 5)")
            print(latency.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            result["latency"] = latency.to_dict("records")
        if args.analysis:
            analysis = _analysis(kb, args.space, evaluation.settings["metric"], args.neighbors)
            print("\nanalysis: kNN variants, leave-one-dataset-out, regret at k = 1 and 5")
            print(analysis.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            result["analysis"] = analysis.to_dict("records")
            quality = _distance_quality(kb, args.space, evaluation.settings["metric"], args.epochs, args.seed)
            print("\nanalysis: Spearman between a held-out dataset's distances to the training datasets and "
                  "the true 1 - Spearman of configuration scores (10 folds; mean and sd over held-out datasets), "
                  "and the mean true 1 - Spearman of the 5 datasets each distance puts nearest")
            print(quality.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            result["distance_quality"] = quality.to_dict("records")
    return result


def run_aslib(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    root = Path(args.data) / "aslib"
    if not root.is_dir():
        raise SystemExit(f"no ASlib scenarios in {root} (pass --data or --skip-aslib)")
    results = {}
    with KnowledgeBase(folder / "aslib.sqlite") as kb:
        for summary in import_aslib(kb, root):
            scenario = summary["scenario"]
            _log(f"imported {scenario}: {summary['instances']} instances, {summary['algorithms']} algorithms")
            start = time.perf_counter()
            evaluation = evaluate_knowledge_base(kb, scenario, methods=args.aslib_methods, ks=args.ks, folds="auto",
                                                 n_neighbors=args.neighbors, siamese_params={"epochs": args.epochs},
                                                 seed=args.seed, progress=_log if args.verbose else None)
            seconds = time.perf_counter() - start
            print(f"\n=== ASlib {scenario} ({seconds:.0f} s) ===")
            print(format_evaluation(evaluation))
            results[scenario] = {"seconds": seconds, **evaluation.to_dict(),
                                 "regret_table": regret_table(evaluation).to_dict()}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(REPO / "db" / "metakb-default.sqlite"), help="knowledge base")
    parser.add_argument("--space", default="sklearn-cash")
    parser.add_argument("--metric", default=None, help="default: balanced_accuracy")
    parser.add_argument("--data", default=str(_default_data()), help="shared data folder (holds aslib/)")
    parser.add_argument("--methods", nargs="+",
                        default=["knn", "knn-best", "cf", "cf-probe3", "rf-model", "pairwise-model", "siamese"])
    parser.add_argument("--aslib-methods", nargs="+",
                        default=["knn", "knn-best", "cf", "rf-model", "pairwise-model", "rf-selector", "siamese"])
    parser.add_argument("--model-folds", default="10",
                        help="folds of the trained models (rf-model, pairwise-model, rf-selector) on the knowledge "
                             "base: loo or K (default 10: ten models per method instead of one per dataset)")
    parser.add_argument("--latency", action="store_true", help="time training and recommend per method")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 3, 5, 10])
    parser.add_argument("--folds", default="loo", help="folds of the knowledge-base part: loo or K")
    parser.add_argument("--siamese-folds", default=None,
                        help="folds of the Siamese network on the knowledge base (loo or K; default: as --folds)")
    parser.add_argument("--neighbors", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300, help="Siamese epochs per fold")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--analysis", action="store_true", help="kNN variants on the knowledge base")
    parser.add_argument("--skip-kb", action="store_true")
    parser.add_argument("--skip-aslib", action="store_true")
    parser.add_argument("--regret-reference", choices=("all", "untuned"), default="all",
                        help="scale regrets by the whole row (all) or by the configurations that are not tuned "
                             "candidates (untuned: the yardstick of the knowledge base before its candidates)")
    parser.add_argument("--out", default=None, help="write every number as JSON here")
    parser.add_argument("--verbose", action="store_true", help="a line per fold")
    args = parser.parse_args(argv)
    args.folds = int(args.folds) if args.folds.isdigit() else args.folds
    args.model_folds = int(args.model_folds) if args.model_folds.isdigit() else args.model_folds
    if args.siamese_folds is not None and args.siamese_folds.isdigit():
        args.siamese_folds = int(args.siamese_folds)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "argv": sys.argv[1:]}
    with tempfile.TemporaryDirectory(prefix="metakb-warmstart-") as tmp:
        if not args.skip_kb:
            results["kb"] = run_kb(args, Path(tmp))
        if not args.skip_aslib:
            results["aslib"] = run_aslib(args, Path(tmp))
    if args.out:
        from metakb.store._util import to_builtin

        Path(args.out).write_text(json.dumps(to_builtin(results), indent=1, default=str))
        _log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
