"""``metakb db info|check``: what a knowledge base holds, and whether it is sound."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``db info`` and ``db check``."""
    _, commands = add_command_group(subparsers, "db", help="knowledge base information and integrity checks",
                                    dest="db_command", metavar="ACTION")
    info = commands.add_parser("info", help="counts of every table and the schema version")
    add_db_argument(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_info)
    check = commands.add_parser("check", help="integrity checks (exit 1 when a problem is found); lists the "
                                "near-duplicate datasets as information")
    add_db_argument(check)
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=_check)


def _info(args: argparse.Namespace) -> int:
    with open_from_args(args, readonly=True) as kb:
        info = kb.info()
    if args.json:
        print_json(info)
        return 0
    print(f"knowledge base  {info['path']}")
    print(f"schema version  {info['schema_version']} (this metakb writes {info['latest_schema_version']})")
    print(f"file size       {info['size_bytes'] / 1e6:.1f} MB")
    for table, count in info["counts"].items():
        print(f"{table:15s} {count}")  # one space at least: dataset_signatures and configuration_sources are longer
    if info["evaluation_status"]:
        print("evaluations by status: " + ", ".join(f"{k} {v}" for k, v in sorted(info["evaluation_status"].items())))
    if len(info["budgets"]) > 1:  # learning curves (`metakb build --budgets`)
        print("evaluations by budget: " + ", ".join(f"{r['budget']:.4g} {r['n']}" for r in info["budgets"]))
    for task, counts in sorted(info["tasks"].items()):
        print(f"task {task}: {counts['datasets']} datasets, {counts['evaluations']} evaluations")
    for space in info["spaces"]:
        print(f"space {space['name']} v{space['version']}: {space['configurations']} configurations")
    for proto in info["protocols"]:
        print(f"protocol {proto['protocol']} ({proto['metric']}): {proto['n']} evaluations")
    unsigned = info["counts"]["datasets"] - info["datasets_with_signature"]
    print(f"near-duplicate dataset pairs: {info['near_duplicate_pairs']}"
          + (f" ({unsigned} datasets have no signature yet: `metakb kb dedupe` computes them)" if unsigned else ""))
    if info["pending_migrations"]:
        print(f"read-only: lacks the additive migrations {', '.join(info['pending_migrations'])} (applied at the "
              "first write)")
    return 0


def _check(args: argparse.Namespace) -> int:
    with open_from_args(args, readonly=True) as kb:
        problems = kb.check()
        pairs = [{k: p[k] for k in ("dataset", "other", "kind", "detail")} for p in kb.near_duplicates()]
    if args.json:
        print_json({"ok": not problems, "problems": problems, "near_duplicates": pairs})
        return 1 if problems else 0
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print("ok: no problems found")
    for pair in pairs:  # information, not a problem: the evaluation harness keeps them apart
        print(f"note: near-duplicate datasets {pair['dataset']} ~ {pair['other']} ({pair['kind']}: {pair['detail']})")
    return 1 if problems else 0
