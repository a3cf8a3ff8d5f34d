"""``metakb db info|check|upgrade``: what a knowledge base holds, whether it is sound, and
bringing an older file to the current schema (compacted on request)."""

from __future__ import annotations

import argparse
from pathlib import Path

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json
from metakb.store import latest_version

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``db info``, ``db check`` and ``db upgrade``."""
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
    upgrade = commands.add_parser("upgrade", help="apply the migrations the file lacks (also those that wait for "
                                  "its first write); --vacuum also rewrites it without free pages")
    add_db_argument(upgrade)
    upgrade.add_argument("--vacuum", action="store_true",
                         help="rewrite the file compactly as one self-contained file (no -wal beside it)")
    upgrade.set_defaults(handler=_upgrade)


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
        print(f"lacks the deferrable migrations {', '.join(info['pending_migrations'])} (applied at the "
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


def _upgrade(args: argparse.Namespace) -> int:
    with open_from_args(args) as kb:
        before, size = kb.schema_version, _on_disk(kb.path)
        if args.vacuum:
            kb.vacuum()
        else:
            kb.upgrade()
        after = kb.schema_version
    print(f"schema version {before} -> {after}" if after != before else f"schema version {after} (current)")
    if args.vacuum:
        print(f"file size {size / 1e6:.1f} MB -> {_on_disk(kb.path) / 1e6:.1f} MB")
    return 0 if after == latest_version() else 1


def _on_disk(path: str) -> int:
    """Bytes of a knowledge base file and its WAL."""
    return sum(p.stat().st_size for p in (Path(path), Path(path + "-wal")) if p.is_file())
