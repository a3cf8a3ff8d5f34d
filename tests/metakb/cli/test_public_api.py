"""The public surface: every ``__all__`` name exists, every command is documented, errors are typed."""

from __future__ import annotations

import argparse
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from metakb import errors
from metakb.cli import build_parser

REPO = Path(__file__).resolve().parents[3]
PUBLIC_MODULES = ["metakb", "metakb.store", "metakb.data", "metakb.evaluation", "metakb.spaces", "metakb.errors",
                  "metakb.build", "metakb.recommend", "metakb.run", "metakb.cli"]
CORE_COMMANDS = ["db info", "db check", "build", "recommend", "run"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_name_in_all_exists(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing


def test_top_level_api():
    import metakb

    assert {"KnowledgeBase", "open_kb", "MetaKBError", "DataError", "ConfigError", "StoreError",
            "SchemaVersionError"} <= set(metakb.__all__)
    assert isinstance(metakb.__version__, str) and metakb.__version__.count(".") >= 1


def test_errors_have_one_root_and_a_builtin_each():
    classes = [getattr(errors, n) for n in errors.__all__]
    for cls in classes:
        assert issubclass(cls, errors.MetaKBError)
        if cls is not errors.MetaKBError:
            builtins = [b for b in inspect.getmro(cls) if b.__module__ == "builtins" and b not in (Exception,
                                                                                                   BaseException, object)]
            assert builtins, f"{cls.__name__} inherits no specific built-in exception"
    assert str(errors.NotFoundError("dataset 'x' is missing")) == "dataset 'x' is missing"  # no KeyError quotes


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command path ('db info', 'build', ...) with its parser."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                deeper = _commands(sub, (*prefix, name))
                found.update(deeper or {" ".join((*prefix, name)): sub})
    return found


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_core_commands_are_registered_with_db_and_json():
    commands = _commands(build_parser())
    for name in CORE_COMMANDS:
        assert name in commands, f"metakb {name} is not registered"
        options = _options(commands[name])
        assert "--db" in options and "--json" in options, name


def test_every_command_is_documented():
    doc = REPO / "docs" / "cli.md"
    assert doc.is_file(), f"{doc} is committed to git; the checkout is incomplete"
    text = doc.read_text()
    missing = [name for name in _commands(build_parser()) if f"metakb {name}" not in text]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_version_and_help(capsys):
    import metakb
    from metakb.cli import main

    parser = build_parser()
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"metakb {metakb.__version__}"
    assert main([]) == 2  # no command: help and a usage error status
    out = capsys.readouterr().out
    assert out.startswith("usage: metakb")
    assert all(f" {name} " in out for name in ("recommend", "run", "build", "db"))


def test_importing_metakb_loads_neither_torch_nor_matplotlib():
    code = ("import sys, metakb, metakb.store, metakb.data, metakb.evaluation, metakb.spaces, metakb.build, "
            "metakb.recommend, metakb.run, metakb.cli; metakb.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
