"""``metakb build``: evaluate the full configuration × dataset matrix of a PMLB folder or of a
user's own tables (``--data``)."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_db_argument, open_from_args, print_json
from metakb.errors import ConfigError

__all__ = ["register"]

DEFAULT_PROTOCOL = "cv:3:max_rows=1500"  # the shipped knowledge base's protocol (docs/kb.md)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build`` command."""
    p = subparsers.add_parser("build", help="evaluate every configuration on every PMLB dataset or data file "
                              "(resumable)",
                              description="Evaluate the full matrix of configurations x datasets, over a PMLB "
                              "folder (--pmlb) or your own tables (--data FILES_OR_DIRS --target COL: CSV, TSV, "
                              "ARFF or Parquet, optionally gzipped; a directory contributes its data files). "
                              "Resumable and idempotent: rerun the same command to finish an interrupted build. "
                              "Every --data file is read and its task checked before anything is written.")
    add_db_argument(p)
    p.add_argument("--pmlb", metavar="DIR", help="PMLB folder (with index.csv and datasets/)")
    p.add_argument("--data", nargs="+", metavar="PATH",
                   help="your own data files, or directories of them (instead of --pmlb)")
    p.add_argument("--target", metavar="COL", help="the target column of every --data file")
    p.add_argument("--task", choices=["classification", "regression"], default=None,
                   help="the task type of every --data file (default: declared or detected per file)")
    p.add_argument("--space", default=None,
                   help="search space name; with --pmlb its task picks the PMLB datasets: sklearn-cash "
                        "(classification, balanced accuracy; the default) or sklearn-cash-regression "
                        "(regression, R2); with --data it defaults to the files' task's space, and a file "
                        "of the other task type is refused")
    p.add_argument("--configs", type=int, default=64, metavar="N",
                   help="configurations: the per-model defaults plus draws (default: 64)")
    p.add_argument("--jobs", type=int, default=1, metavar="J", help="worker processes (default: 1)")
    p.add_argument("--protocol", default=DEFAULT_PROTOCOL,
                   help=f"evaluation protocol, holdout:FRACTION or cv:FOLDS, with :max_rows=N (default: {DEFAULT_PROTOCOL})")
    p.add_argument("--seed", type=int, default=0, help="seed of draws, splits and models (default: 0)")
    p.add_argument("--eval-seed", type=int, default=None, metavar="SEED",
                   help="seed of splits and models only (default: --seed); another value re-evaluates "
                        "the same configurations on new splits (the matrix averages the seeds)")
    p.add_argument("--datasets", nargs="+", metavar="NAME",
                   help="only these datasets (PMLB names, or --data file names without suffixes)")
    p.add_argument("--exclude", nargs="+", default=[], metavar="NAME", help="leave these datasets out")
    p.add_argument("--max-datasets", type=int, metavar="M", help="at most M datasets (in name order)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds per evaluation (default: 60)")
    p.add_argument("--memory-mb", type=int, default=4096, metavar="MB", help="memory cap per worker (default: 4096)")
    p.add_argument("--budgets", default="1", metavar="LIST",
                   help="fractions of the training rows every cell is evaluated at, comma-separated "
                        "(default: 1); 1/9,1/3,1 stores learning curves at the budgets optimize uses, "
                        "which BOHB's warm start seeds its per-budget models from")
    p.add_argument("--candidates", default="none", choices=["none", "bohb"],
                   help="bohb: first run BOHB on every dataset (the build's protocol) and add its "
                        "incumbents to the configurations, with the dataset that found them; the "
                        "matrix then covers them too (default: none)")
    p.add_argument("--per-dataset-evaluations", type=int, default=None, metavar="N",
                   help="evaluations of each dataset's BOHB search with --candidates bohb (default: 64)")
    p.add_argument("--incumbents", type=int, default=None, metavar="K",
                   help="best distinct configurations kept from each search with --candidates bohb "
                        "(default: 1)")
    p.add_argument("--meta-features-only", action="store_true",
                   help="only store datasets and (re)compute their meta-features")
    p.add_argument("--executor", default="local", choices=["local", "dask"],
                   help="local worker processes (timeout and memory cap per evaluation) or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDR", help="address of an existing Dask scheduler (implies --executor dask)")
    p.add_argument("--no-meta-features", action="store_true",
                   help="store no meta-features (compute them later with --meta-features-only)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=_run)


def _check_source(args: argparse.Namespace) -> None:
    """Exactly one of --pmlb and --data; --target and --task only with --data (one line each)."""
    if args.pmlb and args.data:
        raise ConfigError("--pmlb and --data are mutually exclusive: build over a PMLB folder or over your "
                          "own data files, not both")
    if not args.pmlb and not args.data:
        raise ConfigError("build needs --pmlb DIR (a PMLB folder) or --data PATH... --target COL (your own files)")
    if args.data and not args.target:
        raise ConfigError("--data needs --target COL: the target column of the data files")
    if args.pmlb and (args.target or args.task):
        flag = "--target" if args.target else "--task"
        raise ConfigError(f"{flag} applies to --data files only; PMLB datasets name their own target and task")


def _plan(args: argparse.Namespace) -> dict[str, object]:
    """``--budgets`` and the candidate options, checked (one line each) before the file is opened."""
    from metakb.workflows.build import CandidateSearch, parse_budgets

    budgets = parse_budgets(args.budgets)
    if args.candidates != "bohb":
        for flag in ("per_dataset_evaluations", "incumbents"):
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag.replace('_', '-')} applies with --candidates bohb only")
        return {"budgets": budgets, "candidates": "none"}
    options = {"n_evaluations": args.per_dataset_evaluations, "incumbents": args.incumbents}
    search = CandidateSearch(seed=args.seed, **{k: v for k, v in options.items() if v is not None})
    return {"budgets": budgets, "candidates": "bohb", "search": search}


def _run(args: argparse.Namespace) -> int:
    from metakb.workflows.build import (  # lazy: keeps `metakb --help` fast
        build_from_files,
        build_from_pmlb,
    )

    _check_source(args)  # before the knowledge base is opened: a refused build creates no file
    plan = _plan(args)
    common = dict(n_configs=args.configs, jobs=args.jobs, protocol=args.protocol, seed=args.seed,
                  eval_seed=args.eval_seed, datasets=args.datasets, exclude=args.exclude,
                  max_datasets=args.max_datasets, timeout=args.timeout, memory_mb=args.memory_mb,
                  meta_features_only=args.meta_features_only, with_meta_features=not args.no_meta_features,
                  executor=args.executor, scheduler=args.scheduler, progress=not args.no_progress, **plan)
    with open_from_args(args) as kb:
        if args.data:
            report = build_from_files(kb, args.data, args.target, space=args.space, task=args.task, **common)
        else:
            report = build_from_pmlb(kb, args.pmlb, space=args.space or "sklearn-cash", **common)
    if args.json:
        print_json(report.__dict__)
        return 0
    print(f"build {report.run_id}: {report.datasets} datasets x {report.configurations} configurations; "
          f"{report.evaluated} new evaluations, {report.skipped_existing} already stored; "
          f"{report.seconds:.0f} s")
    if report.candidates or report.searches:
        print(f"tuned candidates: {report.candidates} in the pool; {report.searches} searches now "
              f"({report.search_evaluations} evaluations, {report.search_seconds:.0f} s), "
              f"{report.searches_reused} stored before")
    if report.budgets != [1.0]:
        print("budgets: " + ", ".join(f"{b:.4g}" for b in report.budgets))
    if report.status_counts:
        print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(report.status_counts.items())))
    for name, reason in report.failed_datasets.items():
        print(f"skipped dataset {name}: {reason}")
    return 0
