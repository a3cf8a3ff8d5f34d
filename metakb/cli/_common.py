"""Helpers shared by the command modules: the --db option, JSON output, tables."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from metakb._convert import to_builtin
from metakb.errors import MetaKBError
from metakb.store import KnowledgeBase, resolve_kb_path

__all__ = ["add_db_argument", "add_task_arguments", "add_command_group", "import_command_module", "open_from_args", "print_json",
           "print_table", "attach_dash_values"]

# argparse takes '-5' and '-.5' for values (they look like negative numbers) but '-5s' or
# '-1e3' for an unknown option, and then prints its usage. No metakb option starts with a digit.
_DASH_VALUE = re.compile(r"^-\d")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse's own test


def attach_dash_values(argv: list[str]) -> list[str]:
    """``--opt -5s`` as ``--opt=-5s``: a value that starts with '-' and a digit is a value.

    argparse reads such a token as an option and fails with its usage instead of passing the
    value on to the option's own check (which then names the option and what it accepts).
    Tokens argparse already takes for negative numbers are left alone.
    """
    out: list[str] = []
    for token in argv:
        previous = out[-1] if out else ""
        if (_DASH_VALUE.match(token) and not _NEGATIVE_NUMBER.match(token) and previous.startswith("--")
                and previous != "--" and "=" not in previous and "--" not in out[:-1]):
            out[-1] = f"{previous}={token}"
        else:
            out.append(token)
    return out


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``: the knowledge base (default: $METAKB_DB, else the user's own file)."""
    parser.add_argument("--db", metavar="PATH", default=None,
                        help="knowledge base file (default: $METAKB_DB, else ~/.metakb/metakb.sqlite "
                             "seeded from the shipped one)")


def add_task_arguments(parser: argparse.ArgumentParser, *, space: bool = True) -> None:
    """``--task`` (and ``--space``): the dataset's task type and the space, both defaulting by rule.

    The task is detected from the target unless given; the space defaults to that task's CASH
    space (``sklearn-cash`` or ``sklearn-cash-regression``): see ``metakb.workflows.task``.
    """
    parser.add_argument("--task", default=None, choices=["classification", "regression"],
                        help="the dataset's task type (default: detected from the target; an integer "
                             "column with at most 30 values is a class column)")
    if space:
        parser.add_argument("--space", default=None,
                            help="search space (default: the task's, sklearn-cash or sklearn-cash-regression)")


def add_command_group(subparsers: argparse._SubParsersAction, name: str, *, help: str, dest: str,
                      metavar: str = "COMMAND") -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """A command with sub-commands (``metakb db info``); alone, it prints its help and exits 2."""
    parser = subparsers.add_parser(name, help=help)
    commands = parser.add_subparsers(dest=dest, metavar=metavar)

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=show_help)
    return parser, commands


def import_command_module(name: str) -> Any | None:
    """The module ``metakb.cli.<name>``, or None when that module is not installed.

    Only the module's own absence is tolerated: an import error inside it is a bug and raised.
    """
    import importlib

    try:
        return importlib.import_module(f"metakb.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"metakb.cli.{name}":
            return None
        raise


@contextlib.contextmanager
def open_from_args(args: argparse.Namespace, *, readonly: bool = False) -> Iterator[KnowledgeBase]:
    """Open (and close) the knowledge base named by ``args.db``.

    A command that creates a new file at ``--db`` and then fails before writing anything (bad
    input found after opening) removes that file again, so a refused command leaves no empty
    knowledge base behind. A file that received data is kept: a build stopped part-way resumes
    from it.
    """
    path = resolve_kb_path(getattr(args, "db", None))
    created = not readonly and str(path) != ":memory:" and not path.exists()
    kb = KnowledgeBase(path, readonly=readonly)
    try:
        with kb:
            yield kb
    except BaseException:
        if created and _holds_nothing(path):
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
                leftover.unlink(missing_ok=True)
        raise


def _holds_nothing(path: Path) -> bool:
    """Whether the knowledge base at ``path`` has no row in any table."""
    try:
        with KnowledgeBase(path, readonly=True) as kb:
            return not any(kb.info()["counts"].values())
    except MetaKBError:
        return False


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    json.dump(to_builtin(value), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None, *, floatfmt: str = ".4f") -> None:
    """Print rows as an aligned plain-text table."""
    if not rows:
        print("(none)")
        return
    columns = columns or list(rows[0])

    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return format(value, floatfmt)
        return "" if value is None else str(value)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
