"""``metakb kb merge|dedupe``: combine knowledge bases, and find their near-duplicate datasets."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json

__all__ = ["register"]

_MERGE_HELP = """\
Merge another knowledge base file into the target (--db). Search spaces are matched by name and
version and must have the same ConfigSpace JSON (else the merge is refused, naming the space);
datasets are matched by content hash, configurations by space and canonical JSON, evaluations by
(dataset, configuration, budget, protocol, seed, metric): nothing is stored twice. New datasets
bring their meta-features and near-duplicate signatures; portfolios and embeddings are copied
only when their name is free in the target (else skipped and reported); run ids are kept (one
taken by another run gets a ~suffix). Copied rows keep their creation time, and their origin
reads 'merged from OTHER: <original origin>'. One transaction: a refused or failed merge leaves
the target unchanged; merging the same file again adds nothing. OTHER is only read."""

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
    """Add ``kb merge`` and ``kb dedupe``."""
    _, commands = add_command_group(subparsers, "kb", help="merge knowledge bases; find near-duplicate datasets",
                                    dest="kb_command", metavar="ACTION")
    merge = commands.add_parser("merge", help="merge another knowledge base file into this one",
                                description=_MERGE_HELP)
    merge.add_argument("other", metavar="OTHER.sqlite", help="the knowledge base file to merge in (read only)")
    add_db_argument(merge)
    merge.add_argument("--json", action="store_true", help="print the report as JSON")
    merge.set_defaults(handler=_merge)
    dedupe = commands.add_parser("dedupe", help="compute dataset signatures and near-duplicate pairs",
                                 description=_DEDUPE_HELP)
    add_db_argument(dedupe)
    dedupe.add_argument("--pmlb", metavar="DIR", help="PMLB folder holding the PMLB datasets (default: the "
                                                       "folders the knowledge base's builds recorded)")
    dedupe.add_argument("--recompute", action="store_true", help="recompute every signature, not only missing ones")
    dedupe.add_argument("--no-progress", action="store_true", help="no progress bar")
    dedupe.add_argument("--json", action="store_true", help="print the report as JSON")
    dedupe.set_defaults(handler=_dedupe)


def _merge(args: argparse.Namespace) -> int:
    from metakb.workflows.merge import merge_knowledge_base

    with open_from_args(args) as kb:
        report = merge_knowledge_base(kb, args.other)
    if args.json:
        print_json(report.to_dict())
        return 0
    r = report
    print(f"merged {r.source}")
    print(f"datasets        {r.datasets_added} new, {r.datasets_matched} already stored"
          + (f" ({r.meta_features_added} meta-feature values copied)" if r.meta_features_added else ""))
    print(f"configurations  {r.configurations_added} new, {r.configurations_matched} already stored")
    print(f"evaluations     {r.evaluations_added} new, {r.evaluations_skipped} skipped (already stored)")
    print(f"runs            {r.runs_added} new, {r.runs_matched} already stored")
    print(f"spaces          {r.spaces_added} new, {r.spaces_matched} already stored")
    for old, new in r.datasets_renamed.items():
        print(f"dataset {old} is stored as {new} (the name holds other content here)")
    for old, new in r.runs_renamed.items():
        print(f"run {old} is stored as {new} (the id holds another run here)")
    for kind, added, skipped in (("portfolio", r.portfolios_added, r.portfolios_skipped),
                                 ("embedding", r.embeddings_added, r.embeddings_skipped)):
        for name in added:
            print(f"{kind} {name} copied")
        for name, why in skipped.items():
            print(f"{kind} {name} skipped: {why}")
    if r.architectures_added or r.fewshot_results_added:
        print(f"architectures   {r.architectures_added} new; few-shot results {r.fewshot_results_added} new")
    print(f"near-duplicate pairs: {r.near_duplicates_added} new, {r.near_duplicates_removed} removed"
          + (f"; {r.datasets_without_signature} datasets have no signature (run `metakb kb dedupe`)"
             if r.datasets_without_signature else ""))
    return 0


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
