"""The layer rules of DESIGN.md ("Layers"), checked on the source with ``ast`` (nothing is imported).

1. An algorithm package (meta_features, portfolios, metakb.warmstart, metakb.optimizers,
   metakb.importance, nas_meta) never imports the store, the workflow layer or the CLI.
2. No private name crosses a package: a private module ``a.b._x`` is imported only from inside
   ``a.b``; a private name ``_y`` of module ``a.b.c`` only from modules of package ``a.b``.
3. The CLI imports only the workflow layer, the public API, errors and its own modules: no
   store internals (only ``metakb.store`` itself), no private module or name of another
   package (the shared leaf ``metakb._convert`` is private to ``metakb``, which holds the CLI).

Exceptions are listed in ``ALLOWED`` with the reason; keep it short.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("metakb", "meta_features", "portfolios", "nas_meta")
ALGORITHMS = ("meta_features", "portfolios", "metakb.warmstart", "metakb.optimizers", "metakb.importance",
              "nas_meta")
FORBIDDEN_FOR_ALGORITHMS = ("metakb.store", "metakb.workflows", "metakb.cli")

# (importer, imported module): why it is allowed. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    ("metakb.warmstart", "metakb.workflows.warmstart"):
        "old names of the moved KB functions (load_warm_starter, ...), resolved lazily in __getattr__",
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _package_of(module: str) -> str:
    """The package a module belongs to (a package is its own)."""
    path = MODULES[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported module, imported name or None, line)`` of every first-party import."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:  # ``from pkg import submodule``
                    found.append((full, None, node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
    return [(m, n, line) for m, n, line in found if m.split(".")[0] in PACKAGES]


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _private_violation(importer: str, target: str, name: str | None) -> str | None:
    """Why importing ``name`` from ``target`` in ``importer`` crosses a package, or None."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            if not _inside(importer, owner):
                return f"private module {'.'.join(parts[: i + 1])} imported from outside {owner}"
            break
    if name is not None and name.startswith("_") and not name.startswith("__") and target in MODULES:
        owner = _package_of(target)
        if _package_of(importer) != owner:
            return f"private name {name} of {target} imported from outside package {owner}"
    return None


def _violations(check) -> list[str]:
    problems = []
    for module in MODULES:
        for target, name, line in _imports(module):
            reason = check(module, target, name)
            if reason and (module, target) not in ALLOWED:
                problems.append(f"{MODULES[module].relative_to(ROOT)}:{line}: {reason}")
    return problems


def test_the_sources_were_found() -> None:
    assert {"metakb.store", "metakb.workflows", "metakb.cli", "portfolios", "nas_meta.learners"} <= set(MODULES)


def test_algorithm_packages_never_import_the_store_workflows_or_cli() -> None:
    def check(module: str, target: str, name: str | None) -> str | None:
        if not any(_inside(module, a) for a in ALGORITHMS):
            return None
        full = target if name is None else f"{target}.{name}"
        for forbidden in FORBIDDEN_FOR_ALGORITHMS:
            if _inside(target, forbidden) or _inside(full, forbidden):
                return f"algorithm module {module} imports {full}"
        return None

    assert _violations(check) == []


def test_no_private_name_crosses_a_package() -> None:
    assert _violations(_private_violation) == []


def test_the_cli_imports_only_workflows_public_api_and_errors() -> None:
    def check(module: str, target: str, name: str | None) -> str | None:
        if not _inside(module, "metakb.cli") or _inside(target, "metakb.cli"):
            return None
        if _inside(target, "metakb.store") and target != "metakb.store":
            return f"the CLI imports store internals {target}"
        return _private_violation(module, target, name)

    assert _violations(check) == []


@pytest.mark.parametrize("case, expected", [
    (("metakb.cli.nas", "nas_meta.train", "_settings"), "private name"),
    (("metakb.workflows.optimize", "metakb.workflows.build", "prepare_dataset"), None),
    (("metakb.cli.evaluate", "metakb.warmstart._report", "format_evaluation"), "private module"),
    (("metakb.warmstart._knn", "metakb.warmstart._base", "_check_int"), None),
    (("metakb.store._kb", "metakb._convert", "to_builtin"), None),
    (("portfolios._greedy", "metakb._convert", "to_builtin"), "private module"),
])
def test_the_private_rule_on_known_cases(case, expected) -> None:
    reason = _private_violation(*case)
    assert (reason is None) if expected is None else (expected in reason)
