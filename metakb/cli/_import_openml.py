"""``metakb import openml``: the runs of an OpenML flow on tasks (or a suite) into the knowledge base."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_db_argument, open_from_args, print_json, print_table

__all__ = ["register"]


def register(sources: argparse._SubParsersAction) -> None:
    """Add ``metakb import openml``."""
    from metakb.data.openml_import import OPENML_MEASURES

    parser = sources.add_parser(
        "openml", help="import the runs of an OpenML flow on tasks or a benchmark suite",
        description="Import the runs of one OpenML flow (configurations from their setups, "
                    "evaluations, and the tasks' datasets with OpenML qualities as meta-features). "
                    "Server answers are cached in openml-python's cache directory; running the "
                    "same command again resumes after the tasks already imported.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tasks", type=int, nargs="+", metavar="ID", help="OpenML task ids")
    which.add_argument("--suite", metavar="ID", help="an OpenML benchmark suite id or alias")
    parser.add_argument("--flow", type=int, required=True, metavar="ID", help="OpenML flow id")
    parser.add_argument("--metric", default="predictive_accuracy", choices=sorted(OPENML_MEASURES),
                        help="OpenML evaluation measure (default predictive_accuracy)")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="openml-python's root cache directory (default: openml's setting)")
    parser.add_argument("--server", default=None, metavar="URL",
                        help="OpenML API server (default: openml's setting)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds one server call may take (default 30)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_db_argument(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from metakb.data.openml_import import OpenMLClient, import_openml

    client = OpenMLClient(cache_dir=args.cache_dir, server=args.server, timeout=args.timeout)
    with open_from_args(args) as kb:
        report = import_openml(kb, flow=args.flow, tasks=args.tasks, suite=args.suite,
                               measure=args.metric, client=client)
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"imported {len(report.imported_tasks)} tasks ({report.evaluations_added} new evaluations, "
          f"{report.configurations} configurations) into space {report.space} "
          f"version {report.space_version}; run {report.run_id}")
    if report.skipped_tasks:
        print(f"already imported (skipped): {report.skipped_tasks}")
    if report.tasks_without_runs:
        print(f"no runs of the flow with this measure on tasks: {report.tasks_without_runs}")
    print_table([{"dataset": d} for d in report.datasets])
    return 0
