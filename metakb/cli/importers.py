"""``metakb import SOURCE ...``: bring external evaluations into the knowledge base.

Each source registers its own sub-command from a private module (``_import_<source>.py``).
"""

from __future__ import annotations

import argparse
import importlib

__all__ = ["register", "IMPORT_SOURCES"]

IMPORT_SOURCES = ["aslib", "openml"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb import`` and the sub-commands of every installed source."""
    parser = subparsers.add_parser("import", help="import ASlib scenarios or OpenML runs")
    sources = parser.add_subparsers(dest="source", metavar="SOURCE")
    for name in IMPORT_SOURCES:
        try:
            module = importlib.import_module(f"metakb.cli._import_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"metakb.cli._import_{name}":
                continue
            raise
        module.register(sources)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])
