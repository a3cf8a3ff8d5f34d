"""``metakb import aslib DIR``: ASlib algorithm-selection scenarios into the knowledge base."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_db_argument, open_from_args, print_json, print_table

__all__ = ["register"]


def register(sources: argparse._SubParsersAction) -> None:
    """Add ``metakb import aslib``."""
    parser = sources.add_parser(
        "aslib", help="import ASlib scenarios (instances, features, algorithms, runs)",
        description="Import an ASlib scenario folder, or every scenario folder inside DIR: instances "
                    "become datasets, features meta-features (group aslib), algorithms configurations "
                    "of a space named after the scenario, runs evaluations. One transaction per "
                    "scenario; importing again adds nothing.")
    parser.add_argument("dir", metavar="DIR", help="a scenario folder (with description.txt) or a folder of them")
    add_db_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from metakb.data.aslib_import import import_aslib

    with open_from_args(args) as kb:
        summaries = import_aslib(kb, args.dir)
    if args.json:
        print_json(summaries)
        return 0
    print_table(summaries, ["scenario", "instances", "algorithms", "features", "runs", "evaluations_added",
                            "measure", "cutoff_time"])
    return 0
