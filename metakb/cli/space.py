"""``metakb space list`` and ``metakb space show NAME``: the registered search spaces."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, print_json, print_table
from metakb.spaces import SPACES, describe_space, get_search_space

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``space`` command group."""
    _, group = add_command_group(subparsers, "space", help="the search spaces: hyperparameters, "
                                 "ranges, conditions and defaults", dest="space_command")
    listing = group.add_parser("list", help="the registered search spaces")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)
    show = group.add_parser("show", help="a space's hyperparameters, ranges, conditions and defaults")
    show.add_argument("name", metavar="NAME", help="search space name, e.g. sklearn-cash")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)


def _list(args: argparse.Namespace) -> int:
    rows = [{"name": name, "version": spec.version, "hyperparameters": len(spec.build())}
            for name, spec in sorted(SPACES.items())]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "version", "hyperparameters"])
    return 0


def _show(args: argparse.Namespace) -> int:
    spec = get_search_space(args.name)
    rows = describe_space(spec.build())
    if args.json:
        print_json({"name": spec.name, "version": spec.version, "hyperparameters": rows})
        return 0
    print(f"space {spec.name} v{spec.version}: {len(rows)} hyperparameters "
          "(a configuration given to `metakb run` may leave any out: it takes the default)")
    print_table([{**r, "log": "log" if r["log"] else ""} for r in rows],
                ["name", "type", "domain", "log", "default", "active_if"])
    return 0
