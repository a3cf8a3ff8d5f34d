"""``metakb optimize DATA --target COL --time-budget 10m``: BOHB, warm-started from the KB."""

from __future__ import annotations

import argparse
import json
import re

from metakb.cli._common import (
    add_db_argument,
    add_task_arguments,
    open_from_args,
    print_json,
    print_table,
)
from metakb.errors import ConfigError

__all__ = ["register", "parse_duration"]

#: The time limit of a new run given neither --time-budget nor --n-evaluations.
DEFAULT_TIME_BUDGET = "10m"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds of ``90``, ``90s``, ``10m`` or ``1.5h``."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"--time-budget must look like 90s, 10m or 1h (> 0); got {text!r}")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``optimize`` command."""
    p = subparsers.add_parser(
        "optimize", help="tune a dataset with BOHB, warm-started from the knowledge base",
        description="Run BOHB (budget = fraction of training rows) on a dataset, store every "
                    "evaluation in the knowledge base as it arrives, and print the best "
                    "configuration, its score and the trajectory.")
    p.add_argument("data", metavar="DATA", nargs="?", help="CSV/TSV/ARFF/Parquet file")
    p.add_argument("--target", metavar="COL", help="the target column (classes or a quantity)")
    p.add_argument("--time-budget", default=None, metavar="T",
                   help="wall time of the whole run, e.g. 90s, 10m, 1h (default: 10m unless "
                        "--n-evaluations is given; a resumed run keeps its own limits)")
    p.add_argument("--n-evaluations", type=int, default=None, metavar="N",
                   help="stop after N evaluations in all (a total, also with --resume)")
    p.add_argument("--warm-start", default="none", choices=["none", "knn", "portfolio"],
                   help="evaluate kNN recommendations or a portfolio first and seed the model "
                        "with similar datasets' evaluations (default: none)")
    p.add_argument("--budget-priors", default="each", choices=["each", "full"],
                   help="with a warm start, seed each BOHB budget's model from similar datasets' "
                        "evaluations at that budget where the knowledge base has them (each; "
                        "`metakb build --budgets`), or every budget from the full-budget ones (full) "
                        "(default: each)")
    p.add_argument("--n-initial", type=int, default=5, metavar="K",
                   help="warm-start configurations evaluated first (default: 5)")
    p.add_argument("--portfolio", default=None, metavar="NAME",
                   help="portfolio for --warm-start portfolio (default: the first of the space)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="evaluations at once, on a Dask LocalCluster when N > 1 (default: 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="use an existing Dask cluster (tcp://host:8786)")
    p.add_argument("--resume", default=None, metavar="RUN",
                   help="continue an interrupted run to its limits (DATA and --target are "
                        "optional: the run remembers its file)")
    p.add_argument("--exclude-dataset", action="append", default=[], metavar="NAME",
                   help="knowledge-base dataset not to warm-start from (repeatable)")
    add_task_arguments(p)
    p.add_argument("--protocol", default="holdout:0.33:max_rows=1500",
                   help="evaluation protocol (default: holdout:0.33:max_rows=1500)")
    p.add_argument("--min-budget", type=float, default=1 / 9,
                   help="smallest fraction of training rows (default: 1/9)")
    p.add_argument("--eta", type=float, default=3, help="halving rate (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="seconds per evaluation (default: 300)")
    p.add_argument("--plot", default=None, metavar="PNG", help="write the anytime curve")
    add_db_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from metakb.data import load_table
    from metakb.workflows.optimize import optimize_table

    if not args.resume and not args.data:
        raise ConfigError("DATA is required (the dataset file to tune on)")
    if args.data and not args.target:
        raise ConfigError("--target COL is required")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {args.workers}")
    time_budget = parse_duration(args.time_budget) if args.time_budget is not None else None
    if time_budget is None and args.n_evaluations is None and not args.resume:
        time_budget = parse_duration(DEFAULT_TIME_BUDGET)
    table = load_table(args.data, args.target) if args.data else None
    with open_from_args(args) as kb:
        report = optimize_table(
            table, kb, time_budget=time_budget,
            n_evaluations=args.n_evaluations, space=args.space, protocol=args.protocol,
            min_budget=args.min_budget, eta=args.eta, warm_start=args.warm_start,
            n_initial=args.n_initial, portfolio=args.portfolio, n_workers=args.workers,
            scheduler=args.scheduler, resume=args.resume, seed=args.seed, timeout=args.timeout,
            progress=not args.json, exclude_datasets=args.exclude_dataset, task=args.task,
            budget_priors=args.budget_priors)
    if args.plot:
        _plot(report, args.plot)
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"run {report.run_id}: {report.n_evaluations} evaluations on {report.dataset!r} "
          f"(warm start: {report.warm_start})")
    if report.best_config is None:
        print("no evaluation finished")
        return 1
    print(f"best {report.metric}: {report.best_score:.4f} (budget {report.best_budget:g})")
    print(f"best configuration: {json.dumps(report.best_config, sort_keys=True)}")
    improvements, last = [], None
    for row in report.trajectory:
        if row["best_score"] is not None and row["best_score"] != last:
            improvements.append(row)
            last = row["best_score"]
    print_table(improvements, ["seconds", "evaluations", "best_score"])
    return 0


def _plot(report, path: str) -> None:
    """Write the trajectory plot of ``report`` to ``path``."""
    import matplotlib.pyplot as plt

    fig = _trajectory_figure(report)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _trajectory_figure(report):  # -> matplotlib Figure
    """The best score over time, one colour per budget of the incumbent.

    The incumbent is the best configuration *at the highest budget evaluated so far*, so when a
    higher budget is first reached the plotted score can fall: each budget is drawn as its own
    segment and labelled, and the y axis says what is plotted.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report.trajectory if r["best_score"] is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    segments: list[list[dict]] = []
    for row in rows:  # consecutive rows with the same incumbent budget
        if segments and segments[-1][-1].get("best_budget") == row.get("best_budget"):
            segments[-1].append(row)
        else:
            segments.append([row])
    colors = plt.get_cmap("viridis")
    budgets = sorted({r.get("best_budget") for r in rows if r.get("best_budget") is not None})
    for k, segment in enumerate(segments):
        budget = segment[0].get("best_budget")
        following = segments[k + 1][0]["seconds"] if k + 1 < len(segments) else segment[-1]["seconds"]
        xs = [r["seconds"] for r in segment] + [following]
        ys = [r["best_score"] for r in segment] + [segment[-1]["best_score"]]
        shade = colors(0.15 + 0.7 * budgets.index(budget) / max(len(budgets) - 1, 1)) if budget in budgets else "C0"
        label = f"incumbent at budget {budget:.3g}" if budget is not None else "incumbent"
        seen = {h.get_label() for h in ax.get_lines()}
        ax.step(xs, ys, where="post", color=shade, lw=1.8, label=None if label in seen else label)
        if k > 0:
            ax.axvline(segment[0]["seconds"], color="0.7", ls=":", lw=1)
    ax.set_xlabel("seconds")
    ax.set_ylabel(f"best {report.metric}\nat the highest budget reached so far")
    ax.set_title(f"BOHB on {report.dataset} ({report.warm_start} warm start)", fontsize=11)
    if len(budgets) > 1:
        ax.legend(fontsize=8, title="dotted: a higher budget is reached", title_fontsize=8)
    ax.grid(alpha=0.3)
    return fig
