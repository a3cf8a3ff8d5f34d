"""The ``metakb`` command line: argument parsing and printing over the Python API.

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` (a function ``(args) -> int``). Errors of metakb are printed as
one line on stderr with exit status 2; nothing else is caught.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from metakb.cli._common import attach_dash_values, import_command_module
from metakb.errors import MetaKBError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

# Modules under metakb.cli that register commands, in the order of `metakb --help`.
COMMAND_MODULES = [
    "db",
    "kb",
    "build",
    "recommend",
    "run",
    "space",
    "features",
    "evaluate",
    "portfolio",
    "importance",
    "optimize",
    "fit", "predict",
    "importers",
    "warmstart",
    "nas",
]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command group that is installed."""
    parser = argparse.ArgumentParser(
        prog="metakb",
        description="Remember how ML configurations performed on past datasets; start new searches warm.",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = import_command_module(name)
        if module is not None:  # a command group not part of this installation is left out
            module.register(subparsers)
    return parser


def _version() -> str:
    from metakb import __version__

    return f"metakb {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``metakb`` console script."""
    parser = build_parser()
    args = parser.parse_args(attach_dash_values(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except MetaKBError as exc:
        print(f"metakb: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metakb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `metakb recommend ... | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
