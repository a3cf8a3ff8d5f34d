#!/usr/bin/env python
"""The race: metakb's AutoMLClassifier against FLAML and HGB defaults, from data to a fitted model.

Arms (one subprocess per dataset x seed x arm, one core each, run one after the other):

* ``metakb_warm@B``  ``AutoMLClassifier(time_budget=B, warm_start="auto")``   (kNN warm start)
* ``metakb_cold@B``  ``AutoMLClassifier(time_budget=B, warm_start="none")``
* ``metakb_zs``      metakb zero-shot: the top-1 kNN recommendation refitted (``n_evaluations=0``)
* ``flaml@B``        FLAML 2.7 ``AutoML(time_budget=B)``, balanced-accuracy metric, ``n_jobs=1``
* ``flaml_zs``       FLAML zero-shot ``flaml.default.LGBMClassifier`` (data-dependent defaults)
* ``hgb``            ``HistGradientBoostingClassifier()`` with scikit-learn defaults

Protocol: PMLB classification datasets of ``../shared/data/pmlb`` chosen by a fixed rule
(:func:`choose_datasets`: 100..10000 rows, <= 100 features, every k-th by name; nothing here was
tuned on them). Each is split 70/30, stratified, with the seed; every method sees only the 70 %;
the score is balanced accuracy on the 30 %. metakb runs on a fresh copy of the shipped knowledge
base with the dataset and its near-duplicates (:data:`NEAR_DUPLICATES`) excluded by name
(``exclude_datasets``) and the training part excluded by content hash, so no arm warm-starts from
its own test set. Peers get the numeric matrix (PMLB
features are already numeric-encoded); metakb gets the table with its categorical columns.

Results are appended to a JSON-lines file, one line per finished arm; a rerun skips the done
ones (resumable). ``--report`` writes the table (per dataset, mean rank, paired Wilcoxon tests,
the budget each method needs to reach HGB-default's test score) and a PNG of mean rank against
time.

Usage (peers: ``pip install --target /work/venv-peers/site -r benchmarks/requirements-peers.txt``)::

    nice -n 10 .venv/bin/python benchmarks/automl.py --datasets 6 --seeds 1 --budgets 60
    .venv/bin/python benchmarks/automl.py --names A,B --seeds 1 --budgets 300 --arms metakb_warm,flaml
    .venv/bin/python benchmarks/automl.py --report --out docs/automl_race.md --plot docs/img/automl_race.png
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/meta_features.py would shadow the meta_features package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
DATA = Path(os.environ.get("METAKB_SHARED_DATA", ROOT.parent / "shared" / "data")) / "pmlb"
PEERS_SITE = os.environ.get("METAKB_PEERS_SITE", "/work/venv-peers/site")
RESULTS = ROOT / "benchmarks" / "results" / "automl_race.jsonl"


#: Near-duplicate pairs among PMLB's datasets (``metakb kb dedupe``, docs/kb.md): a test dataset's
#: copies are excluded from the knowledge base with it, or the warm start would learn from the
#: test set under another name (contraceptive is cmc, german is credit_g, horse_colic is colic).
NEAR_DUPLICATES: dict[str, list[str]] = {
    "cleve": ["heart_c"], "heart_c": ["cleve"], "credit_a": ["crx"], "crx": ["credit_a"],
    "glass": ["prnn_fglass"], "prnn_fglass": ["glass"], "heart_h": ["hungarian"], "hungarian": ["heart_h"],
    "molecular_biology_promoters": ["promoters"], "promoters": ["molecular_biology_promoters"],
    "cmc": ["contraceptive"], "contraceptive": ["cmc"], "colic": ["horse_colic"], "horse_colic": ["colic"],
    "credit_g": ["german"], "german": ["credit_g"],
}


def choose_datasets(n: int) -> list[str]:
    """``n`` PMLB classification datasets: 100..10000 rows, <= 100 features, evenly by name."""
    import csv

    with (DATA / "index.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["task"] == "classification"
                and 100 <= int(r["n_instances"]) <= 10000 and int(r["n_features"]) <= 100]
    names = sorted(r["name"] for r in rows)
    if n >= len(names):
        return names
    step = len(names) / n
    return [names[int(i * step)] for i in range(n)]


def split(table: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 70/30 train/test rows, stratified when every class has two rows."""
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    _, counts = np.unique(table.y, return_counts=True)
    cls = StratifiedShuffleSplit if counts.min() >= 2 else ShuffleSplit
    train, test = next(cls(n_splits=1, test_size=0.3, random_state=seed).split(table.X, table.y))
    return np.sort(train), np.sort(test)


def run_arm(dataset: str, seed: int, arm: str) -> dict[str, Any]:
    """One arm on one dataset and seed (runs in its own subprocess)."""
    from sklearn.metrics import balanced_accuracy_score

    from metakb.data import Table
    from metakb.data._tables import load_pmlb

    table = load_pmlb(DATA / "datasets" / dataset)
    train, test = split(table, seed)
    name, _, budget_text = arm.partition("@")
    budget = float(budget_text) if budget_text else None
    out: dict[str, Any] = {"dataset": dataset, "seed": seed, "arm": arm, "n_rows": table.n_rows,
                           "n_train": len(train)}
    start = time.perf_counter()
    if name.startswith("metakb"):
        from metakb.automl import AutoMLClassifier
        from metakb.store import shipped_kb_path

        train_table = Table(name=f"{dataset}-race-train", X=table.X.iloc[train].reset_index(drop=True),
                            y=table.y[train], categorical=table.categorical, target=table.target,
                            source="race")
        with tempfile.TemporaryDirectory() as tmp:
            kb_path = Path(tmp) / "kb.sqlite"
            shutil.copy(shipped_kb_path(), kb_path)
            start = time.perf_counter()
            params: dict[str, Any] = {"kb": str(kb_path), "seed": seed,
                                      "exclude_datasets": [dataset, *NEAR_DUPLICATES.get(dataset, [])]}
            if name == "metakb_zs":
                params.update(n_evaluations=0, time_budget=None)
            else:
                params.update(time_budget=budget,
                              warm_start="auto" if name == "metakb_warm" else "none")
            model = AutoMLClassifier(**params).fit_table(train_table)
            out["fit_seconds"] = time.perf_counter() - start
            predicted = model.predict(table.X.iloc[test].reset_index(drop=True))
        out.update(internal=model.ensemble_score_ if model.ensemble_score_ is not None else model.best_score_,
                   n_evaluations=len(model.leaderboard_), protocol=model.protocol_,
                   members=[c.get("classifier") for _, c in model.ensemble_])
    else:
        X = table.numeric_matrix()
        X_train, X_test, y_train = X[train], X[test], table.y[train]
        if name == "hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier

            model = HistGradientBoostingClassifier(random_state=seed).fit(X_train, y_train)
        elif name == "flaml":
            from flaml import AutoML

            def balanced(X_val, y_val, estimator, labels, X_tr, y_tr, *args: Any) -> tuple[float, dict]:
                score = balanced_accuracy_score(y_val, estimator.predict(X_val))
                return 1.0 - score, {"balanced_accuracy": score}

            model = AutoML()
            model.fit(X_train, y_train, task="classification", time_budget=budget, metric=balanced,
                      n_jobs=1, seed=seed, verbose=0)
            out.update(internal=1.0 - float(model.best_loss), flaml_estimator=model.best_estimator)
        elif name == "flaml_zs":
            from flaml.default import LGBMClassifier

            model = LGBMClassifier(n_jobs=1, random_state=seed).fit(X_train, y_train)
        else:
            raise SystemExit(f"unknown arm {arm!r}")
        out["fit_seconds"] = time.perf_counter() - start
        predicted = model.predict(X_test)
    out["test"] = float(balanced_accuracy_score(table.y[test], np.asarray(predicted).astype(str)))
    return out


def _load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def race(args: argparse.Namespace) -> None:
    """Run every missing (dataset, seed, arm) and append its result."""
    datasets = args.names.split(",") if args.names else choose_datasets(args.datasets)
    arms = ["hgb", "flaml_zs", "metakb_zs"]
    for b in args.budgets.split(","):
        arms += [f"metakb_warm@{b}", f"metakb_cold@{b}", f"flaml@{b}"]
    if args.arms:
        wanted = set(args.arms.split(","))
        arms = [a for a in arms if a.partition("@")[0] in wanted]
    done = {(r["dataset"], r["seed"], r["arm"]) for r in _load(args.results)}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), PEERS_SITE]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for seed in range(args.seeds):
        for dataset in datasets:
            for arm in arms:
                if (dataset, seed, arm) in done:
                    continue
                budget = float(arm.partition("@")[2] or 60)
                command = [sys.executable, __file__, "--worker", dataset, str(seed), arm]
                try:
                    proc = subprocess.run(command, env=env, capture_output=True, text=True,
                                          timeout=3 * budget + 300)
                    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
                    row = json.loads(lines[-1]) if proc.returncode == 0 and lines else {
                        "dataset": dataset, "seed": seed, "arm": arm, "test": None,
                        "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
                except subprocess.TimeoutExpired:
                    row = {"dataset": dataset, "seed": seed, "arm": arm, "test": None, "error": "timeout"}
                with args.results.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                print(json.dumps({k: row.get(k) for k in ("dataset", "seed", "arm", "test", "internal",
                                                          "fit_seconds", "error")}), flush=True)


def report(args: argparse.Namespace) -> str:
    """The race's tables (markdown) and the mean-rank-against-time plot.

    Two sections, each over the (dataset, seed) pairs where every one of its arms finished:
    the 60 s race (the zero-shot arms, HGB and every arm at the smallest budget) and, where
    longer budgets were run, all budgets together (the pairs that have them). The plot uses
    the second section, since a mean rank against time needs the same pairs at every budget.
    """
    import pandas as pd

    rows = [r for r in _load(args.results) if r.get("test") is not None]
    frame = pd.DataFrame(rows)
    wide = frame.pivot_table(index=["dataset", "seed"], columns="arm", values="test")
    internal = frame.pivot_table(index=["dataset", "seed"], columns="arm", values="internal")
    seconds = frame.pivot_table(index=["dataset", "seed"], columns="arm", values="fit_seconds")
    budgets = sorted({a.partition("@")[2] for a in wide.columns if "@" in a}, key=float)
    base = [a for a in wide.columns if "@" not in a]
    lines: list[str] = []
    first = base + [a for a in wide.columns if budgets and a.endswith(f"@{budgets[0]}")]
    lines += _section(f"Budget {budgets[0] if budgets else '-'} s", wide[first].dropna(), internal,
                      seconds, budgets[:1])
    if len(budgets) > 1:
        every = wide.dropna()
        lines += ["", *_section("Every budget (" + ", ".join(f"{b} s" for b in budgets) + ")", every,
                                internal, seconds, budgets)]
        if args.plot:
            _plot(every.rank(axis=1, ascending=False), seconds.reindex(every.index), args.plot)
    elif args.plot:
        sub = wide[first].dropna()
        _plot(sub.rank(axis=1, ascending=False), seconds.reindex(sub.index), args.plot)
    return "\n".join(lines) + "\n"


def _section(title: str, wide: Any, internal: Any, seconds: Any, budgets: list[str]) -> list[str]:
    """One section of the report: mean ranks, paired tests, time to HGB, per-dataset scores."""
    from scipy.stats import wilcoxon

    arms = list(wide.columns)
    ranks = wide.rank(axis=1, ascending=False)
    lines = [f"### {title}", "", f"Pairs (dataset x seed) with every arm finished: {len(wide)} "
             f"({wide.index.get_level_values(0).nunique()} datasets, "
             f"{wide.index.get_level_values(1).nunique()} seeds)", "",
             "| arm | mean rank | mean test bal. acc. | mean internal score | mean fit s |",
             "|---|---|---|---|---|"]
    for arm in sorted(arms, key=lambda a: ranks[a].mean()):
        inner = internal[arm].reindex(wide.index).mean() if arm in internal else float("nan")
        lines.append(f"| {arm} | {ranks[arm].mean():.2f} | {wide[arm].mean():.4f} | "
                     f"{inner:.4f} | {seconds[arm].reindex(wide.index).mean():.1f} |")
    lines += ["", "Paired Wilcoxon signed-rank tests over dataset x seed (two-sided):", "",
              "| A | B | A wins | B wins | ties | p |", "|---|---|---|---|---|---|"]
    pairs = [("metakb_zs", "flaml_zs"), ("metakb_zs", "hgb")]
    for b in budgets:
        pairs += [(f"metakb_warm@{b}", f"flaml@{b}"), (f"metakb_warm@{b}", "hgb"),
                  (f"metakb_warm@{b}", f"metakb_cold@{b}"), (f"metakb_cold@{b}", f"flaml@{b}"),
                  (f"flaml@{b}", "hgb")]
    for a, b in pairs:
        if a not in wide or b not in wide:
            continue
        diff = wide[a] - wide[b]
        p = wilcoxon(wide[a], wide[b]).pvalue if (diff != 0).any() else 1.0
        lines.append(f"| {a} | {b} | {(diff > 0).sum()} | {(diff < 0).sum()} | {(diff == 0).sum()} | {p:.3g} |")
    # time to reach HGB-default's test score: the cheapest step (zero-shot, then each budget)
    lines += ["", "Share of pairs where the method reaches HGB-default's test score, and the median "
              "fit seconds of the cheapest step (zero-shot, then each budget) that does:", "",
              "| method | reached | median s |", "|---|---|---|"]
    for method, zs in (("metakb_warm", "metakb_zs"), ("metakb_cold", None), ("flaml", "flaml_zs")):
        steps = [s for s in ([zs] if zs else []) + [f"{method}@{b}" for b in budgets] if s in wide]
        reached, times = 0, []
        for key in wide.index:
            for step in steps:
                if wide.loc[key, step] >= wide.loc[key, "hgb"]:
                    reached += 1
                    times.append(seconds.loc[key, step])
                    break
        median = f"{np.median(times):.1f}" if times else "-"
        lines.append(f"| {method} | {reached}/{len(wide)} | {median} |")
    lines += ["", "Per dataset (test balanced accuracy, mean over seeds):", "",
              "| dataset | " + " | ".join(arms) + " |", "|---" * (len(arms) + 1) + "|"]
    for name, row in wide.groupby(level=0).mean().iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{row[a]:.3f}" for a in arms) + " |")
    return lines


def _plot(ranks: Any, seconds: Any, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    families = {"metakb_warm": ["metakb_zs"], "metakb_cold": [], "flaml": ["flaml_zs"], "hgb": []}
    for family, starts in families.items():
        arms = starts + sorted([a for a in ranks.columns if a.startswith(family + "@")],
                               key=lambda a: float(a.partition("@")[2]))
        if family == "hgb":
            arms = ["hgb"]
        arms = [a for a in arms if a in ranks]
        if not arms:
            continue
        ax.plot([seconds[a].mean() for a in arms], [ranks[a].mean() for a in arms], marker="o",
                label=family)
    ax.set_xscale("log")
    ax.set_xlabel("mean fit seconds (log)")
    ax.set_ylabel("mean rank (lower is better)")
    ax.set_title("AutoML race: mean rank over datasets x seeds against time")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    """Parse the command line: race (default), --report, or --worker (internal)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=24, help="how many datasets (default: 24)")
    parser.add_argument("--names", default=None, help="comma-separated dataset names instead")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 (default: 2)")
    parser.add_argument("--budgets", default="60", help="comma-separated seconds (default: 60)")
    parser.add_argument("--arms", default=None,
                        help="comma-separated arm names to run (e.g. metakb_warm,flaml; default: all)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON-lines results file")
    parser.add_argument("--report", action="store_true", help="print/write the table instead")
    parser.add_argument("--out", default=None, help="markdown file for --report")
    parser.add_argument("--plot", default=None, help="PNG for --report")
    parser.add_argument("--worker", nargs=3, metavar=("DATASET", "SEED", "ARM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        dataset, seed, arm = args.worker
        print(json.dumps(run_arm(dataset, int(seed), arm)), flush=True)
        return
    if not DATA.is_dir():
        raise SystemExit(f"PMLB data not found at {DATA}; set METAKB_SHARED_DATA")
    if args.report:
        text = report(args)
        if args.out:
            Path(args.out).write_text(text)
        print(text)
        return
    race(args)


if __name__ == "__main__":
    main()
