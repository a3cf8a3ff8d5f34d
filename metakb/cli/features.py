"""``metakb features``: extract a dataset's meta-features, or list the registered ones."""

from __future__ import annotations

import argparse
import math

from metakb.cli._common import add_task_arguments, print_json, print_table
from metakb.errors import ConfigError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb features DATA --target COL [--groups ...] [--json]`` and ``--list``."""
    import meta_features

    parser = subparsers.add_parser(
        "features", help="extract the meta-features of a dataset (or --list them)",
        description="Extract meta-features of a classification or regression dataset (CSV/TSV/ARFF/Parquet), "
                    "or list every registered meta-feature with --list.")
    parser.add_argument("data", nargs="?", metavar="DATA", help="the data file")
    parser.add_argument("--target", metavar="COL", help="the target column (classes or a quantity)")
    add_task_arguments(parser, space=False)
    parser.add_argument("--groups", nargs="+", choices=meta_features.GROUPS, default=None,
                        metavar="GROUP", help=f"groups to extract (default: all of {', '.join(meta_features.GROUPS)})")
    parser.add_argument("--summary", nargs="+", choices=list(meta_features.SUMMARIES), default=None,
                        metavar="NAME", help="summaries of multi-valued features (default: "
                        f"{' '.join(meta_features.DEFAULT_SUMMARY)})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                        help="skip the groups not started within this many seconds")
    parser.add_argument("--list", action="store_true", help="list the registered meta-features")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import meta_features

    if args.list:
        features = meta_features.list_features()
        if args.groups:
            features = {k: v for k, v in features.items() if v["group"] in args.groups}
        if args.json:
            print_json(features)
        else:
            print_table([{"name": k, **v} for k, v in features.items()],
                        ["name", "group", "cost", "summarised", "description"])
        return 0
    if not args.data or not args.target:
        raise ConfigError("metakb features needs DATA and --target COL (or --list)")
    from metakb.data import load_table
    from metakb.workflows.task import resolve_task

    setup = resolve_task(load_table(args.data, target=args.target), task=args.task)
    table = setup.table
    result = meta_features.extract(table.X, table.y, groups=args.groups,
                                   categorical=table.categorical, summary=args.summary,
                                   time_budget=args.time_budget, seed=args.seed, task=setup.task)
    if args.json:
        print_json({
            "dataset": table.name,
            "task": setup.task,
            "extractor_version": meta_features.EXTRACTOR_VERSION,
            "features": {k: (None if math.isnan(v) else v) for k, v in result.items()},
            "groups": result.groups,
            "notes": result.notes,
        })
        return 0
    print_table([{"name": k, "group": result.groups[k], "value": v,
                  "note": result.notes["nan_reasons"].get(k, "")} for k, v in result.items()],
                ["name", "group", "value", "note"], floatfmt=".6g")
    if result.notes["subsampled_rows"]:
        print(f"(costly groups used a stratified subsample of {result.notes['subsampled_rows']} "
              f"of {result.notes['n_rows']} rows)")
    return 0
