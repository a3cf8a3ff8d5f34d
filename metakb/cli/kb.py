"""``metakb kb dedupe``: find the near-duplicate datasets of a knowledge base."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json

__all__ = ["register"]

_DEDUPE_HELP = """\
Compute the near-duplicate signature of every dataset that has none yet (all of them with
--recompute) and store every pair of near-duplicate datasets: 'same-content' (the same table
after reordering rows and columns and relabelling categories and class labels) or
'same-statistics' (the same shape and per-column statistics within a relative 1e-6, a few columns
possibly shifted by a constant). New datasets get their signature when build, run or optimize
register them; this command is for knowledge bases built before (the shipped one included). It
needs the data: PMLB datasets under --pmlb DIR (default: the folder the builds recorded) and
files at the path they were read from; datasets whose data is not found are reported and
skipped. `metakb evaluate warmstart` leaves a held-out dataset's near-duplicates out of its
training side; `metakb db check` lists the pairs."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``kb dedupe``."""
    _, commands = add_command_group(subparsers, "kb", help="find near-duplicate datasets",
                                    dest="kb_command", metavar="ACTION")
    dedupe = commands.add_parser("dedupe", help="compute dataset signatures and near-duplicate pairs",
                                 description=_DEDUPE_HELP)
    add_db_argument(dedupe)
    dedupe.add_argument("--pmlb", metavar="DIR", help="PMLB folder holding the PMLB datasets (default: the "
                                                       "folders the knowledge base's builds recorded)")
    dedupe.add_argument("--recompute", action="store_true", help="recompute every signature, not only missing ones")
    dedupe.add_argument("--no-progress", action="store_true", help="no progress bar")
    dedupe.add_argument("--json", action="store_true", help="print the report as JSON")
    dedupe.set_defaults(handler=_dedupe)


def _dedupe(args: argparse.Namespace) -> int:
    from metakb.workflows.duplicates import dedupe_knowledge_base

    with open_from_args(args) as kb:
        report = dedupe_knowledge_base(kb, pmlb_dir=args.pmlb, recompute=args.recompute,
                                       progress=not args.no_progress)
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"signatures: {len(report.computed)} computed, {report.kept} already stored, "
          f"{len(report.skipped)} datasets skipped")
    for name, why in report.skipped.items():
        print(f"skipped {name}: {why}")
    print(f"near-duplicate pairs: {len(report.pairs)} ({report.added} new, {report.removed} removed)")
    for pair in report.pairs:
        print(f"  {pair['dataset']} ~ {pair['other']}  {pair['kind']}: {pair['detail']}")
    return 0
