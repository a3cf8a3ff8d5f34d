"""Render the command-line reference (``docs/cli.md``) from the parser itself.

Run ``python -m metakb.cli._docs > docs/cli.md`` after changing a command; a test checks that
every command is documented.
"""

from __future__ import annotations

import argparse

from metakb.cli import build_parser

__all__ = ["iter_commands", "render"]


def iter_commands(parser: argparse.ArgumentParser, prefix: str = "metakb"):
    """Yield ``(command line, parser)`` for every command and sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}"
                yield full, sub
                yield from iter_commands(sub, full)


def render() -> str:
    """The Markdown reference: every command's usage and options, as ``--help`` prints them."""
    parser = build_parser()
    parts = ["# Command-line reference", "",
             "Generated from the parser (`python -m metakb.cli._docs > docs/cli.md`). Every command "
             "takes `--db PATH` (default: `$METAKB_DB`, else `~/.metakb/metakb.sqlite` seeded from the "
             "shipped knowledge base). Errors print one line on stderr and exit with status 2; a refused "
             "command leaves the knowledge base unchanged (and removes a new `--db` file it created).", ""]
    for command, sub in iter_commands(parser):
        parts += [f"## `{command}`", "", "```", sub.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(render())
