"""``metakb import SOURCE ...``: bring external evaluations into the knowledge base.

Each source registers its own sub-command from a private module (``_import_<source>.py``).
"""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, import_command_module

__all__ = ["register", "IMPORT_SOURCES"]

IMPORT_SOURCES = ["aslib", "openml"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb import`` and the sub-commands of every installed source."""
    _, sources = add_command_group(subparsers, "import", help="import ASlib scenarios or OpenML runs",
                                   dest="source", metavar="SOURCE")
    for name in IMPORT_SOURCES:
        module = import_command_module(f"_import_{name}")
        if module is not None:
            module.register(sources)
