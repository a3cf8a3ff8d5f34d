"""``metakb fit DATA --target COL --time-budget 5m --out MODEL``: search, refit, save a safe model.

The task type picks the estimator: a class column gets an :class:`~metakb.automl.AutoMLClassifier`,
a quantity an :class:`~metakb.automl.AutoMLRegressor` (detected by ``metakb.workflows.task``'s
rule; ``--task`` overrides it, ``--space`` must be of that task).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from metakb.cli._common import add_db_argument, add_task_arguments, open_from_args, print_json
from metakb.errors import ConfigError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit`` command."""
    p = subparsers.add_parser(
        "fit", help="fit a model: warm-started search, ensemble, refit; save it safely",
        description="Run the warm-started search on a dataset (every evaluation stored in the "
                    "knowledge base), build a greedy ensemble of the best pipelines, refit on "
                    "every row and save the model as a skops file of trusted types. A class "
                    "column is classified, a numeric quantity regressed (--task overrides the "
                    "detection).")
    p.add_argument("data", metavar="DATA", nargs="?", help="CSV/TSV/ARFF/Parquet file")
    p.add_argument("--target", metavar="COL", help="the target column (class labels or a quantity)")
    add_task_arguments(p)
    p.add_argument("--time-budget", default="5m", metavar="T",
                   help="wall time of the whole fit, e.g. 90s, 5m, 1h (default: 5m)")
    p.add_argument("--n-evaluations", type=int, default=None, metavar="N",
                   help="stop the search after N evaluations as well (0: zero-shot, no search)")
    p.add_argument("--warm-start", default="auto", choices=["auto", "none", "knn", "portfolio"],
                   help="warm start of the search (default: auto = knn)")
    p.add_argument("--ensemble-size", type=int, default=10, metavar="N",
                   help="rounds of greedy ensemble selection; 1 refits the single best (default: 10)")
    p.add_argument("--exclude-dataset", action="append", default=[], metavar="NAME",
                   help="knowledge-base dataset not to warm-start from (repeatable); the data "
                        "itself is always excluded by content")
    p.add_argument("--protocol", default="auto",
                   help="selection protocol, e.g. cv:5 (default: auto, by row count)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="evaluations at once, on a Dask LocalCluster when N > 1 (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--out", metavar="MODEL", help="the model file to write")
    add_db_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from metakb.automl import AutoMLClassifier, AutoMLRegressor, save_model
    from metakb.cli.optimize import parse_duration
    from metakb.data import load_table
    from metakb.workflows.task import resolve_task

    if not args.data:
        raise ConfigError("DATA is required (the dataset file to fit on)")
    if not args.target:
        raise ConfigError("--target COL is required")
    if not args.out:
        raise ConfigError("--out MODEL is required (the model file to write)")
    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise ConfigError(f"--out {out}: expected a file name in an existing folder")
    budget = parse_duration(args.time_budget)
    if args.n_evaluations is not None and args.n_evaluations < 0:
        raise ConfigError(f"--n-evaluations must be >= 0; got {args.n_evaluations}")
    if args.ensemble_size < 1:
        raise ConfigError(f"--ensemble-size must be >= 1; got {args.ensemble_size}")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {args.workers}")
    setup = resolve_task(load_table(args.data, args.target), task=args.task, space=args.space)
    table = setup.table
    estimator_class = AutoMLRegressor if setup.task == "regression" else AutoMLClassifier
    with open_from_args(args) as kb:
        estimator = estimator_class(
            time_budget=budget, n_evaluations=args.n_evaluations, warm_start=args.warm_start,
            n_jobs=args.workers, seed=args.seed, kb=kb, ensemble_size=args.ensemble_size,
            exclude_datasets=list(args.exclude_dataset), protocol=args.protocol,
            space=setup.space, progress=not args.json)
        estimator.fit_table(table)
    save_model(estimator, out)
    summary = {"model": str(out), "dataset": table.name, "task": setup.task, "space": setup.space,
               "run_id": estimator.run_id_,
               "protocol": estimator.protocol_, "n_evaluations": len(estimator.leaderboard_),
               "best_score": estimator.best_score_, "ensemble_score": estimator.ensemble_score_,
               "fit_seconds": round(estimator.fit_seconds_, 2),
               "ensemble": [{"weight": w, "config": c} for w, c in estimator.ensemble_]}
    if args.json:
        print_json(summary)
        return 0
    best = "n/a" if estimator.best_score_ is None else f"{estimator.best_score_:.4f}"
    print(f"model {out}: {len(estimator.ensemble_)} pipeline(s) refitted on {table.n_rows} rows "
          f"after {summary['n_evaluations']} evaluations ({summary['fit_seconds']} s)")
    metric = "R²" if setup.task == "regression" else "balanced accuracy"
    print(f"internal {metric} ({estimator.protocol_}): best {best}"
          + (f", ensemble {estimator.ensemble_score_:.4f}" if estimator.ensemble_score_ is not None else ""))
    for weight, config in estimator.ensemble_:
        print(f"  {weight:.2f}  {config.get(estimator_class._model_key)}")
    return 0
