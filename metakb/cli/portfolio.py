"""``metakb portfolio build|show|export|list``: portfolios of configurations from the knowledge base.

``build`` runs :func:`metakb.workflows.portfolio.build_portfolio`: it reads
``KnowledgeBase.performance_matrix``, builds the portfolio with the ``portfolios`` package and
stores it with ``KnowledgeBase.save_portfolio`` (its training and
validation datasets, and the training objective after each member). ``export`` writes the
members for Optuna (``enqueue_trial``), SMAC (an initial design ConfigSpace loads) or as plain
JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from metakb.cli._common import (
    add_command_group,
    add_db_argument,
    open_from_args,
    print_json,
    print_table,
)
from metakb.errors import ConfigError
from metakb.workflows.importance import chosen_space_note, resolve_space
from metakb.workflows.portfolio import METHODS, build_portfolio

__all__ = ["register", "build_portfolio", "METHODS"]




def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb portfolio`` and its sub-commands."""
    _, commands = add_command_group(subparsers, "portfolio", help="build, show and export portfolios of configurations",
                                    dest="portfolio_command")

    build = commands.add_parser("build", help="build a portfolio from the stored evaluations")
    build.add_argument("--space", default=None,
                       help="search space name (default: the knowledge base's only space, else sklearn-cash)")
    build.add_argument("--size", type=int, default=32, help="number of configurations N (default 32)")
    build.add_argument("--datasets", nargs="+", metavar="NAME", default=None,
                       help="training datasets (default: every dataset with evaluations)")
    build.add_argument("--name", default=None, help="portfolio name (default SPACE-METHOD-SIZE)")
    build.add_argument("--metric", default=None, help="metric (default: the space's, balanced_accuracy or r2)")
    build.add_argument("--method", choices=METHODS, default="greedy", help="construction (default greedy)")
    build.add_argument("--missing", choices=("worst", "skip", "refuse"), default="worst",
                       help="missing cells: impute the worst value, drop incomplete configurations, "
                            "or refuse (default worst)")
    build.add_argument("--no-normalize", action="store_true", help="do not normalise losses per dataset")
    build.add_argument("--validation", type=float, default=None, metavar="FRACTION",
                       help="hold out this fraction of the datasets as validation")
    build.add_argument("--select-size", action="store_true",
                       help="keep the prefix best on the validation datasets (greedy only)")
    build.add_argument("--budget", type=float, default=1.0, help="evaluation budget (default 1.0)")
    build.add_argument("--protocol", default=None, help="only evaluations of this protocol")
    build.add_argument("--seed", type=int, default=0, help="seed (validation split, random)")
    build.add_argument("--replace", action="store_true", help="replace a portfolio of the same name")
    build.add_argument("--json", action="store_true", help="print JSON")
    add_db_argument(build)
    build.set_defaults(handler=_build)

    show = commands.add_parser("show", help="show a stored portfolio")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_db_argument(show)
    show.set_defaults(handler=_show)

    export = commands.add_parser("export", help="export a portfolio for Optuna, SMAC or as JSON")
    export.add_argument("name")
    export.add_argument("--format", choices=("json", "optuna", "smac"), default="json")
    export.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")
    add_db_argument(export)
    export.set_defaults(handler=_export)

    listing = commands.add_parser("list", help="list stored portfolios")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_db_argument(listing)
    listing.set_defaults(handler=_list)


def _build(args: argparse.Namespace) -> int:
    with open_from_args(args) as kb:
        args.space, chosen = resolve_space(kb, args.space)
        if chosen and not args.json:
            print(chosen_space_note(kb, args.space))
        stored = build_portfolio(
            kb, space=args.space, size=args.size, name=args.name, datasets=args.datasets,
            metric=args.metric, method=args.method, missing=args.missing,
            normalize=not args.no_normalize, validation=args.validation,
            select_size=args.select_size, budget=args.budget, protocol=args.protocol,
            seed=args.seed, replace=args.replace)
    _print_portfolio(stored, as_json=args.json)
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_from_args(args, readonly=True) as kb:
        stored = kb.get_portfolio(args.name)
        labels = kb.configurations(int(stored["space_id"]))["label"]
    for member in stored["members"]:
        label = labels.get(member["configuration_id"])
        member["label"] = label if isinstance(label, str) else None
    _print_portfolio(stored, as_json=args.json)
    return 0


def _print_portfolio(stored: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(stored)
        return
    settings = stored["settings"]
    train = [d["name"] for d in stored["datasets"] if d["role"] == "train"]
    print(f"portfolio {stored['name']}: {len(stored['members'])} configurations, method "
          f"{settings.get('method')}, metric {settings.get('metric')}, {len(train)} training datasets")
    print_table([{"position": m["position"], "configuration_id": m["configuration_id"],
                  "label": m.get("label"), "objective": m["objective"],
                  "config": json.dumps(m["config"], sort_keys=True)}
                 for m in stored["members"]])


def _export(args: argparse.Namespace) -> int:
    from portfolios import export_portfolio

    with open_from_args(args, readonly=True) as kb:
        stored = kb.get_portfolio(args.name)
        space_json = kb.get_space(int(stored["space_id"]))["configspace"]
    out = export_portfolio([m["config"] for m in stored["members"]], args.format,
                           name=stored["name"], configspace_json=space_json)
    text = json.dumps(out, indent=2) + "\n"
    if args.output:
        _write_output(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def _write_output(path: Path, text: str) -> None:
    """Write ``--output``; like ``--db``, a missing folder is refused (one line), not created."""
    if path.is_dir():
        raise ConfigError(f"--output {path} is a directory, expected a file path")
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write --output {path}: folder {path.parent} does not exist")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write --output {path}: {exc.strerror or exc}") from exc


def _list(args: argparse.Namespace) -> int:
    with open_from_args(args, readonly=True) as kb:
        frame = kb.portfolios()
    rows = frame.to_dict(orient="records") if not frame.empty else []
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "space", "size", "created_at"])
    return 0
