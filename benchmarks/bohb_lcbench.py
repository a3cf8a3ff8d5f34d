"""BOHB on the YAHPO LCBench surrogate against its peers, in one run.

Methods (each run in the virtual environment that has it, one subprocess per method):

* ``bohb``        metakb BOHB, cold                                     (.venv)
* ``bohb_warm``   metakb BOHB warm-started leave-one-task-out: a greedy portfolio evaluated
                  first on the full budget and a KDE prior, both from the other 33 tasks (.venv)
* ``random``      metakb random search on the full budget               (.venv)
* ``hpbandster``  HpBandSter 0.7.4 BOHB (the reference)                 (.venv-peers)
* ``smac``        SMAC3 multi-fidelity facade (Hyperband intensifier)   (.venv-peers)
* ``dehb``        DEHB 0.1.2                                            (.venv-peers)
* ``optuna``      Optuna TPE + HyperbandPruner, reporting every epoch   (.venv-peers)

Every method gets the same budget, counted in epochs (an evaluation on ``e`` epochs costs ``e``;
an Optuna trial costs the last epoch it reported); budgets are epochs 1..52, fractional budgets
are rounded to the nearest epoch. The incumbent at any point is the best evaluation on the
largest epoch evaluated so far; its regret is measured with its true 52-epoch validation accuracy
and normalised per task as ``(best - acc) / (best - median)`` over 20,000 random configurations
at 52 epochs (clipped below at 0). Overhead per suggestion is the wall time of a run minus the
time spent inside the objective, divided by the number of evaluations.

``--proposals`` runs a narrower check instead: both BOHBs (ours and HpBandSter's config
generator) are given the same observations (``PROPOSAL_OBS`` random configurations with their
2-epoch loss, per task and seed) and draw ``PROPOSAL_DRAWS`` model-based proposals each
(``random_fraction=0``); the mean normalised 52-epoch regret of the proposals is compared,
paired over task x seed (equal implementations differ only by sampling noise).

Usage (from the repository root; peers: ``bash benchmarks/setup_peers_env.sh``)::

    nice -n 15 .venv/bin/python benchmarks/bohb_lcbench.py --tasks 10 --seeds 3 --budget 20
    nice -n 15 .venv/bin/python benchmarks/bohb_lcbench.py --methods bohb,hpbandster --proposals
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

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
METHODS = ("bohb", "bohb_warm", "random", "hpbandster", "smac", "dehb", "optuna")
PEER_METHODS = ("hpbandster", "smac", "dehb", "optuna")
MAX_EPOCH, MIN_EPOCH, ETA = 52, 1, 3
N_REFERENCE = 20_000
POOL_SIZE = 10_000
PORTFOLIO_SIZE = 2
PRIOR_PER_TASK = 40
CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)
PROPOSAL_OBS, PROPOSAL_DRAWS, PROPOSAL_EPOCH = 40, 400, 2


# ---------------------------------------------------------------------- common helpers
def default_data() -> Path:
    env = os.environ.get("METAKB_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def load_bench(data: Path):
    from metakb.surrogates import LCBench

    return LCBench(Path(data) / "yahpo" / "lcbench")


class Tracker:
    """Wraps the surrogate: counts epochs, records every evaluation and the time inside it."""

    def __init__(self, bench, task: str, budget_epochs: float) -> None:
        self.bench, self.task, self.budget = bench, task, budget_epochs
        self.used = 0.0
        self.inside = 0.0
        self.evals: list[list] = []  # [cost_so_far, epoch, val_accuracy, config]

    @property
    def exhausted(self) -> bool:
        return self.used >= self.budget - 1e-9

    def __call__(self, config: dict, budget: float) -> float:
        start = time.perf_counter()
        epoch = int(min(MAX_EPOCH, max(MIN_EPOCH, round(float(budget)))))
        config = {k: (int(v) if isinstance(v, (int, np.integer)) else float(v))
                  for k, v in dict(config).items()}
        acc = float(self.bench.evaluate([config], self.task, epoch)[0])
        self.record(config, epoch, acc, epoch)
        self.inside += time.perf_counter() - start
        return 1.0 - acc / 100.0

    def record(self, config: dict, epoch: int, acc: float, cost: float) -> None:
        self.used += cost
        self.evals.append([self.used, epoch, acc, config])


# ---------------------------------------------------------------------- methods
def run_bohb(bench, task, seed, budget, warm=None):
    from metakb.optimizers import BOHB

    tracker = Tracker(bench, task, budget)
    kwargs = {} if warm is None else {"initial_configs": warm["portfolio"],
                                       "prior_observations": warm["prior"]}
    opt = BOHB(bench.configspace(), MIN_EPOCH, MAX_EPOCH, eta=ETA, seed=seed, **kwargs)
    start = time.perf_counter()
    opt.optimize(tracker, total_budget=budget, progress=False)
    return tracker, time.perf_counter() - start


def run_random(bench, task, seed, budget):
    from metakb.optimizers import RandomSearch

    tracker = Tracker(bench, task, budget)
    opt = RandomSearch(bench.configspace(), MAX_EPOCH, seed=seed)
    start = time.perf_counter()
    opt.optimize(tracker, total_budget=budget, progress=False)
    return tracker, time.perf_counter() - start


def run_hpbandster(bench, task, seed, budget):
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB as HpBOHB

    np.random.seed(seed)  # HpBandSter samples with numpy's global generator
    tracker = Tracker(bench, task, budget)

    class LCWorker(Worker):
        def compute(self, config, budget, **kwargs):
            return {"loss": float(tracker(config, budget)), "info": {}}

    run_id = f"lc{task}s{seed}p{os.getpid()}"
    ns = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=None)
    host, port = ns.start()
    worker = LCWorker(nameserver=host, nameserver_port=port, run_id=run_id)
    worker.run(background=True)
    space = bench.configspace()
    space.seed(seed)
    opt = HpBOHB(configspace=space, run_id=run_id, nameserver=host, nameserver_port=port,
                 min_budget=MIN_EPOCH, max_budget=MAX_EPOCH, eta=ETA)
    n_iter = _hyperband_iterations_for(budget)
    start = time.perf_counter()
    opt.run(n_iterations=n_iter)
    wall = time.perf_counter() - start
    opt.shutdown(shutdown_workers=True)
    ns.shutdown()
    return tracker, wall


def _hyperband_iterations_for(budget: float) -> int:
    """HpBandSter iterations whose planned epochs (rounded budgets) first reach ``budget``."""
    from metakb.optimizers import bracket_sizes, hyperband_budgets

    budgets = hyperband_budgets(MIN_EPOCH, MAX_EPOCH, ETA)
    s_max = len(budgets) - 1
    total, it = 0.0, 0
    while total < budget:
        s = s_max - it % (s_max + 1)
        sizes = bracket_sizes(s, s_max, ETA)
        total += sum(n * round(b) for n, b in zip(sizes, budgets[-s - 1:], strict=True))
        it += 1
    return it


def run_smac(bench, task, seed, budget):
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    tracker = Tracker(bench, task, budget)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(bench.configspace(), deterministic=True, n_trials=100_000,
                            min_budget=MIN_EPOCH, max_budget=MAX_EPOCH, seed=seed,
                            output_directory=Path(tmp) / "smac")
        intensifier = MultiFidelityFacade.get_intensifier(scenario, eta=ETA)
        smac = MultiFidelityFacade(scenario, target_function=lambda config, seed, budget: 0.0,
                                   intensifier=intensifier, overwrite=True, logging_level=40)
        start = time.perf_counter()
        while not tracker.exhausted:
            info = smac.ask()
            loss = tracker(dict(info.config), info.budget)
            smac.tell(info, TrialValue(cost=loss))
        wall = time.perf_counter() - start
    return tracker, wall


def run_dehb(bench, task, seed, budget):
    from dehb import DEHB

    tracker = Tracker(bench, task, budget)
    with tempfile.TemporaryDirectory() as tmp:
        opt = DEHB(cs=bench.configspace(), dimensions=7, min_fidelity=MIN_EPOCH,
                   max_fidelity=MAX_EPOCH, eta=ETA, n_workers=1, seed=seed,
                   output_path=tmp, save_freq=None, log_level="ERROR")
        start = time.perf_counter()
        while not tracker.exhausted:
            job = opt.ask()
            loss = tracker(dict(job["config"]), job["fidelity"])
            opt.tell(job, {"fitness": loss, "cost": float(round(job["fidelity"]))})
        wall = time.perf_counter() - start
    return tracker, wall


def run_optuna(bench, task, seed, budget):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    tracker = Tracker(bench, task, budget)
    space = bench.configspace()
    epochs = np.arange(1, MAX_EPOCH + 1)

    def objective(trial):
        config = {}
        for name in space:
            hp = space[name]
            if type(hp).__name__.startswith("UniformInteger"):
                config[name] = trial.suggest_int(name, hp.lower, hp.upper, log=hp.log)
            else:
                config[name] = trial.suggest_float(name, hp.lower, hp.upper, log=hp.log)
        start = time.perf_counter()
        curve = bench.evaluate([config] * MAX_EPOCH, task, epochs)
        tracker.inside += time.perf_counter() - start
        for epoch, acc in zip(epochs, curve, strict=True):
            trial.report(1.0 - acc / 100.0, int(epoch))
            if trial.should_prune() or tracker.used + epoch >= budget:
                tracker.record(config, int(epoch), float(acc), float(epoch))
                if trial.should_prune():
                    raise optuna.TrialPruned()
                return 1.0 - acc / 100.0
        tracker.record(config, MAX_EPOCH, float(curve[-1]), float(MAX_EPOCH))
        return 1.0 - curve[-1] / 100.0

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.HyperbandPruner(min_resource=MIN_EPOCH, max_resource=MAX_EPOCH,
                                            reduction_factor=ETA)
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    start = time.perf_counter()
    study.optimize(objective, callbacks=[lambda s, t: s.stop() if tracker.exhausted else None])
    return tracker, time.perf_counter() - start


RUNNERS = {"bohb": run_bohb, "random": run_random, "hpbandster": run_hpbandster,
           "smac": run_smac, "dehb": run_dehb, "optuna": run_optuna}


# ---------------------------------------------------------------------- proposal check
def _plain(configs) -> list[dict]:
    return [{k: (int(v) if isinstance(v, (int, np.integer)) else float(v))
             for k, v in dict(c).items()} for c in configs]


def draw_proposals(bench, method: str, task: str, seed: int) -> list[dict]:
    """Model-based proposals of ``method`` after the same fixed observations (see module doc)."""
    from metakb.optimizers import BOHB, Result, hyperband_budgets, restore

    configs = _plain(bench.configspace(seed=10_000 + seed).sample_configuration(PROPOSAL_OBS))
    losses = 1.0 - bench.evaluate(configs, task, PROPOSAL_EPOCH) / 100.0
    budget = float(hyperband_budgets(MIN_EPOCH, MAX_EPOCH, ETA)[0])  # the smallest rung
    if method == "hpbandster":
        import logging
        from types import SimpleNamespace

        from hpbandster.optimizers.config_generators.bohb import BOHB as HpCG

        logging.getLogger("hpbandster").setLevel(logging.ERROR)
        np.random.seed(seed)  # HpBandSter samples with numpy's global generator
        space = bench.configspace(seed=seed)
        cg = HpCG(space, random_fraction=0.0)
        for config, loss in zip(configs, losses, strict=True):
            cg.new_result(SimpleNamespace(result={"loss": float(loss)}, exception=None,
                                          kwargs={"config": config, "budget": budget}))
        draws = [cg.get_config(budget) for _ in range(PROPOSAL_DRAWS)]
        assert all(info.get("model_based_pick") for _, info in draws)
        return _plain(c for c, _ in draws)
    # Ours: the same observations as a finished history, replayed into the model by restore().
    state = BOHB(bench.configspace(), MIN_EPOCH, MAX_EPOCH, eta=ETA, random_fraction=0.0,
                 seed=seed).state()
    state.history = [Result(i, c, budget, float(loss)).to_dict()
                     for i, (c, loss) in enumerate(zip(configs, losses, strict=True))]
    state.next_trial_id = len(configs)
    opt = restore(state)
    trials = [opt.suggest() for _ in range(PROPOSAL_DRAWS)]
    assert all(t.info.get("model_based_pick") for t in trials)
    return _plain(t.config for t in trials)


def proposals_main(args: argparse.Namespace) -> None:
    bench = load_bench(args.data)
    out_path = Path(args.out) / f"proposals_{args.method}.jsonl"
    for seed in range(args.seeds):
        for task in args.task_ids.split(","):
            configs = draw_proposals(bench, args.method, task, seed)
            acc = bench.evaluate(configs, task, MAX_EPOCH)
            layers = np.bincount([c["num_layers"] for c in configs], minlength=6)[1:]
            rec = {"method": args.method, "task": task, "seed": seed,
                   "acc": acc.tolist(), "num_layers": layers.tolist()}
            with out_path.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{args.method} task {task} seed {seed}: mean acc {acc.mean():.2f}", flush=True)


def compare_proposals(out: Path, methods: list[str], tasks: list[str], seeds: int,
                      refs: dict) -> dict:
    """Mean normalised regret of the proposals per method, paired over task x seed."""
    from scipy.stats import wilcoxon

    cells: dict[str, dict] = {}
    for m in methods:
        path = out / f"proposals_{m}.jsonl"
        for line in path.read_text().splitlines() if path.exists() else []:
            r = json.loads(line)
            if r["task"] in tasks and r["seed"] < seeds:
                ref = refs[r["task"]]
                regret = (ref["best"] - np.asarray(r["acc"])) / (ref["best"] - ref["median"])
                cells.setdefault(m, {})[(r["task"], r["seed"])] = (float(regret.mean()),
                                                                   r["num_layers"])
    summary: dict = {"draws": PROPOSAL_DRAWS, "observations": PROPOSAL_OBS, "methods": {}}
    for m, c in cells.items():
        layers = np.sum([v[1] for v in c.values()], axis=0)
        summary["methods"][m] = {"n_cells": len(c),
                                 "mean_regret": float(np.mean([v[0] for v in c.values()])),
                                 "num_layers_share": (layers / layers.sum()).round(3).tolist()}
    if len(cells) == 2:
        a, b = list(cells)
        common = sorted(set(cells[a]) & set(cells[b]))
        x = np.array([cells[a][k][0] for k in common])
        y = np.array([cells[b][k][0] for k in common])
        summary["paired"] = {"a": a, "b": b, "n": len(common),
                             "mean_diff": float((x - y).mean()),
                             "p_two_sided": float(wilcoxon(x, y).pvalue)}
    return summary


# ---------------------------------------------------------------------- warm start (LOTO)
def build_pool(bench, cache: Path) -> dict:
    """A fixed pool of random configurations with their 52-epoch accuracy on every task."""
    path = cache / "pool.json"
    if path.exists():
        return json.loads(path.read_text())
    space = bench.configspace(seed=12345)
    configs = [dict(c) for c in space.sample_configuration(POOL_SIZE)]
    configs = [{k: (int(v) if isinstance(v, (int, np.integer)) else float(v))
                for k, v in c.items()} for c in configs]
    acc = {t: bench.evaluate(configs, t, MAX_EPOCH).tolist() for t in bench.task_ids}
    pool = {"configs": configs, "acc": acc}
    path.write_text(json.dumps(pool))
    return pool


def warm_start_for(pool: dict, task: str, seed: int) -> dict:
    """Portfolio and KDE prior from every task but ``task`` (leave-one-task-out)."""
    others = [t for t in pool["acc"] if t != task]
    acc = np.array([pool["acc"][t] for t in others])  # (tasks, configs)
    # Per task, normalise to [0, 1]: 1 = best of the pool, 0 = median (clipped), for greedy.
    best, med = acc.max(axis=1, keepdims=True), np.median(acc, axis=1, keepdims=True)
    score = np.clip((acc - med) / np.maximum(best - med, 1e-12), 0, 1)
    portfolio, covered = [], np.zeros(len(others))
    for _ in range(PORTFOLIO_SIZE):  # greedy: maximise the mean of the best-so-far score
        gain = np.maximum(score, covered[:, None]).mean(axis=0)
        gain[portfolio] = -np.inf
        j = int(np.argmax(gain))
        portfolio.append(j)
        covered = np.maximum(covered, score[:, j])
    # Prior: per task a random subset of the pool, loss = rank quantile within that task.
    from metakb.optimizers.warmstart import prior_from_scores

    rng = np.random.default_rng(seed)
    frame = np.full_like(acc, np.nan)
    for i in range(len(others)):
        idx = rng.choice(acc.shape[1], size=PRIOR_PER_TASK, replace=False)
        frame[i, idx] = acc[i, idx]
    frame = pd.DataFrame(frame, index=others).dropna(axis=1, how="all")
    prior = prior_from_scores(frame, dict(enumerate(pool["configs"])), higher_is_better=True)
    return {"portfolio": [pool["configs"][j] for j in portfolio], "prior": prior}


# ---------------------------------------------------------------------- references
def build_references(bench, tasks: list[str], cache: Path) -> dict:
    """Best and median 52-epoch accuracy of 20,000 random configurations per task."""
    path = cache / "references.json"
    refs = json.loads(path.read_text()) if path.exists() else {}
    missing = [t for t in tasks if t not in refs]
    if missing:
        space = bench.configspace(seed=2026)
        configs = [dict(c) for c in space.sample_configuration(N_REFERENCE)]
        for t in missing:
            acc = bench.evaluate(configs, t, MAX_EPOCH)
            refs[t] = {"best": float(acc.max()), "median": float(np.median(acc))}
        path.write_text(json.dumps(refs, indent=1))
    return refs


# ---------------------------------------------------------------------- worker mode
def worker_main(args: argparse.Namespace) -> None:
    bench = load_bench(args.data)
    cache = Path(args.out)
    out_path = cache / f"runs_{args.method}.jsonl"
    done = set()
    if out_path.exists():
        for line in out_path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["task"], r["seed"], r["budget"]))
    pool = build_pool(bench, cache) if args.method == "bohb_warm" else None
    budget = args.budget * MAX_EPOCH
    for seed in range(args.seeds):  # seed-major: a partial run covers every task
        for task in args.task_ids.split(","):
            if (task, seed, args.budget) in done:
                continue
            if args.method == "bohb_warm":
                warm = warm_start_for(pool, task, seed)
                tracker, wall = run_bohb(bench, task, seed, budget, warm=warm)
            else:
                tracker, wall = RUNNERS[args.method](bench, task, seed, budget)
            # The true 52-epoch accuracy of every configuration seen (for the regret).
            configs = [e[3] for e in tracker.evals]
            full = bench.evaluate(configs, task, MAX_EPOCH).tolist() if configs else []
            rec = {"method": args.method, "task": task, "seed": seed, "budget": args.budget,
                   "wall": wall, "inside": tracker.inside, "n_evals": len(tracker.evals),
                   "evals": [e[:3] + [f] for e, f in zip(tracker.evals, full, strict=True)]}
            with out_path.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{args.method} task {task} seed {seed}: {len(tracker.evals)} evals, "
                  f"{wall:.1f} s", flush=True)


# ---------------------------------------------------------------------- aggregation
def incumbent_regret(evals: list, ref: dict, budget_epochs: float) -> float:
    """Normalised regret of the incumbent among evaluations finished within the budget."""
    within = [e for e in evals if e[0] <= budget_epochs + 1e-9]
    if not within:
        return 1.0  # nothing evaluated yet: no better than the median configuration
    top = max(e[1] for e in within)
    best = max((e for e in within if e[1] == top), key=lambda e: e[2])
    regret = (ref["best"] - best[3]) / (ref["best"] - ref["median"])
    return max(0.0, regret)


def aggregate(out: Path, methods: list[str], tasks: list[str], seeds: int, budget: float,
              refs: dict, seeds_for: dict[str, int] | None = None) -> dict:
    runs = {}
    for m in methods:
        n_seeds = (seeds_for or {}).get(m, seeds)
        path = out / f"runs_{m}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r["task"] in tasks and r["seed"] < n_seeds and r["budget"] == budget:
                runs[(m, r["task"], r["seed"])] = r
    checkpoints = [c for c in CHECKPOINTS if c <= budget] + ([budget] if budget not in
                                                            CHECKPOINTS else [])
    fine = np.unique(np.concatenate([np.geomspace(0.05, budget, 60), checkpoints]))
    summary = {"checkpoints": checkpoints, "fine": fine.tolist(), "methods": {}}
    for m in methods:
        n_seeds = (seeds_for or {}).get(m, seeds)
        keys = [(m, t, s) for t in tasks for s in range(n_seeds) if (m, t, s) in runs]
        if not keys:
            continue
        curves = np.array([[incumbent_regret(runs[k]["evals"], refs[k[1]], c * MAX_EPOCH)
                            for c in fine] for k in keys])
        overhead = [(runs[k]["wall"] - runs[k]["inside"]) / max(runs[k]["n_evals"], 1)
                    for k in keys]
        final = curves[:, -1]
        summary["methods"][m] = {
            "n_runs": len(keys), "keys": [list(k[1:]) for k in keys],
            "mean_curve": curves.mean(axis=0).tolist(),
            "at": {str(c): float(curves[:, list(fine).index(c)].mean()) for c in checkpoints},
            "final_mean": float(final.mean()), "final_median": float(np.median(final)),
            "final": final.tolist(),
            "overhead_ms_median": 1e3 * float(np.median(overhead)),
            "evals_mean": float(np.mean([runs[k]["n_evals"] for k in keys])),
        }
    return summary


def budget_to_reach(summary: dict, method: str, target: float) -> float | None:
    """The first fine checkpoint (in full-budget equivalents) where the mean regret <= target."""
    curve = summary["methods"][method]["mean_curve"]
    for c, v in zip(summary["fine"], curve, strict=True):
        if v <= target + 1e-12:
            return float(c)
    return None


def paired_test(summary: dict, a: str, b: str) -> dict:
    """Wilcoxon signed-rank test of final regrets, paired over (task, seed)."""
    from scipy.stats import wilcoxon

    ma, mb = summary["methods"].get(a), summary["methods"].get(b)
    if not ma or not mb:
        return {}
    fa = {tuple(k): v for k, v in zip(ma["keys"], ma["final"], strict=True)}
    fb = {tuple(k): v for k, v in zip(mb["keys"], mb["final"], strict=True)}
    common = sorted(set(fa) & set(fb))
    x, y = np.array([fa[k] for k in common]), np.array([fb[k] for k in common])
    if np.allclose(x, y):
        return {"n": len(common), "p_value": 1.0, "mean_diff": 0.0}
    stat = wilcoxon(x, y, alternative="greater")  # H1: a has larger regret than b
    return {"n": len(common), "p_value": float(stat.pvalue), "mean_diff": float((x - y).mean())}


def print_table(summary: dict) -> None:
    cps = summary["checkpoints"]
    head = f"{'method':<12}" + "".join(f"{'@' + str(c):>8}" for c in cps) + \
        f"{'median':>9}{'evals':>8}{'ms/sugg':>9}{'runs':>6}"
    print(head)
    for m, s in summary["methods"].items():
        print(f"{m:<12}" + "".join(f"{s['at'][str(c)]:>8.3f}" for c in cps) +
              f"{s['final_median']:>9.3f}{s['evals_mean']:>8.0f}"
              f"{s['overhead_ms_median']:>9.2f}{s['n_runs']:>6}")


def markdown_table(summary: dict) -> str:
    """The summary as a Markdown table (mean normalised regret at each checkpoint)."""
    cps = summary["checkpoints"]
    lines = ["| method | " + " | ".join(f"@{c:g}" for c in cps) +
             " | final median | evaluations | overhead ms/suggestion | runs |",
             "|---|" + "---:|" * (len(cps) + 4)]
    for m, s in summary["methods"].items():
        lines.append(f"| {m} | " + " | ".join(f"{s['at'][str(c)]:.3f}" for c in cps) +
                     f" | {s['final_median']:.3f} | {s['evals_mean']:.0f} | "
                     f"{s['overhead_ms_median']:.1f} | {s['n_runs']} |")
    return "\n".join(lines) + "\n"


def plot(summary: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, s in summary["methods"].items():
        ax.plot(summary["fine"], s["mean_curve"], label=m, lw=2 if m.startswith("bohb") else 1.2)
    ax.set_xscale("log")
    ax.set_xlabel("budget used (full-budget equivalents, 52 epochs each)")
    ax.set_ylabel("mean normalised regret")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


# ---------------------------------------------------------------------- main
def python_for(method: str) -> str:
    if method in PEER_METHODS:
        peers = REPO / ".venv-peers" / "bin" / "python"
        if not peers.exists():
            raise SystemExit(f"{peers} not found: run bash benchmarks/setup_peers_env.sh peers")
        return str(peers)
    return sys.executable


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bohb_lcbench")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--tasks", type=int, default=10, help="the first N LCBench tasks")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=20,
                        help="full-budget equivalents (52 epochs each) per run")
    parser.add_argument("--png", type=Path, default=REPO / "docs" / "img" / "bohb_lcbench.png")
    parser.add_argument("--aggregate-only", action="store_true")
    parser.add_argument("--seeds-for", default="", metavar="M=N,...",
                        help="aggregate fewer seeds for some methods (e.g. smac=3)")
    parser.add_argument("--proposals", action="store_true",
                        help="compare model-based proposals on fixed observations (see above)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--task-ids", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker and args.proposals:
        proposals_main(args)
        return
    if args.worker:
        worker_main(args)
        return
    bench = load_bench(args.data)
    tasks = bench.task_ids[: args.tasks]
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown methods {sorted(unknown)}; expected some of {METHODS}")
    refs = build_references(bench, tasks, args.out)
    if not args.aggregate_only:
        for m in methods:
            cmd = [python_for(m), __file__, "--worker", "--method", m, "--data", str(args.data),
                   "--out", str(args.out), "--seeds", str(args.seeds), "--budget",
                   str(args.budget), "--task-ids", ",".join(tasks)]
            cmd += ["--proposals"] if args.proposals else []
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            print(f"[{m}] {time.perf_counter() - start:.0f} s, exit {proc.returncode}",
                  flush=True)
            if proc.returncode:
                print(proc.stderr[-3000:], file=sys.stderr)
    if args.proposals:
        result = compare_proposals(args.out, methods, tasks, args.seeds, refs)
        (args.out / f"proposals_s{args.seeds}_t{len(tasks)}.json").write_text(
            json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
        return
    seeds_for = {k: int(v) for k, v in (item.split("=") for item in args.seeds_for.split(",")
                                         if item)}
    summary = aggregate(args.out, methods, tasks, args.seeds, args.budget, refs, seeds_for)
    summary["settings"] = {"tasks": tasks, "seeds": args.seeds, "seeds_for": seeds_for,
                           "budget": args.budget,
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if "hpbandster" in summary["methods"]:
        target = summary["methods"]["hpbandster"]["final_mean"]
        summary["reach_hpbandster_final"] = {
            m: budget_to_reach(summary, m, target) for m in summary["methods"]}
        summary["paired_vs_hpbandster"] = {
            m: paired_test(summary, m, "hpbandster") for m in summary["methods"]
            if m != "hpbandster"}
    (args.out / f"summary_b{args.budget:g}_s{args.seeds}_t{len(tasks)}.json").write_text(
        json.dumps(summary, indent=1))
    print_table(summary)
    (args.out / f"table_b{args.budget:g}_s{args.seeds}_t{len(tasks)}.md").write_text(
        markdown_table(summary))
    for key in ("reach_hpbandster_final", "paired_vs_hpbandster"):
        if key in summary:
            print(key, json.dumps(summary[key]))
    plot(summary, args.png, f"LCBench, {len(tasks)} tasks x {args.seeds} seeds, "
                            f"{args.budget:g} x 52 epochs")
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
