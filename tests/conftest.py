"""Shared fixtures: where the real data is, and tiny knowledge bases."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


FULL_INSTALL = os.environ.get("METAKB_FULL_INSTALL") == "1"
"""Set by ``make test``: torch and the console script are installed there, so their absence
is an error, not a silent skip of the nas_meta, Siamese and console-script tests."""


def console_script_path() -> Path:
    """The ``metakb`` console script of the interpreter running the tests."""
    return Path(sys.executable).with_name("metakb")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not FULL_INSTALL:
        return
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise pytest.UsageError(f"METAKB_FULL_INSTALL=1 but torch cannot be imported ({exc}); "
                                "run `make install` or pip install torch==2.13.0") from exc
    if not console_script_path().is_file():
        raise pytest.UsageError(f"METAKB_FULL_INSTALL=1 but there is no console script at "
                                f"{console_script_path()}; run `make install`")


@pytest.fixture(scope="session")
def metakb_script() -> Path:
    """The installed ``metakb`` console script (tests of the script itself skip without it,
    except under ``make test``, where :func:`pytest_sessionstart` has checked it is there)."""
    script = console_script_path()
    if not script.is_file():
        pytest.skip(f"metakb console script not installed at {script} (pip install -e .)")
    return script


@pytest.fixture(scope="session")
def benchmark_script():
    """Load a script of ``benchmarks/`` by name as a module (they are scripts, not a package)."""
    import importlib.util

    folder = REPO_ROOT / "benchmarks"

    def load(name: str):  # type: ignore[no-untyped-def]
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def shared_data_dir() -> Path:
    """``$METAKB_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("METAKB_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data folder; tests that need it skip when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set METAKB_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def pmlb_dir(shared_data: Path) -> Path:
    """The PMLB datasets folder."""
    path = shared_data / "pmlb" / "datasets"
    if not path.is_dir():
        pytest.skip(f"PMLB data not found at {path}")
    return path


@pytest.fixture()
def kb():
    """A fresh in-memory knowledge base."""
    from metakb.store import KnowledgeBase

    with KnowledgeBase(":memory:") as store:
        yield store


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never touch the user's own ~/.metakb during tests."""
    monkeypatch.setenv("METAKB_HOME", str(tmp_path_factory.mktemp("metakb-home")))
    monkeypatch.delenv("METAKB_DB", raising=False)


@pytest.fixture(autouse=True)
def no_network(monkeypatch) -> list[str]:
    """Every HTTP request of every test fails, as on a machine without a route to OpenML; the
    fixture's value lists the URLs that were tried (tests of the OpenML client assert it empty)."""
    calls: list[str] = []
    try:
        import requests
    except ImportError:  # nothing can ask over HTTP then
        return calls

    def refuse(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(url)
        raise requests.exceptions.ConnectionError(f"network disabled in tests: {url}")

    monkeypatch.setattr(requests.Session, "request", refuse)
    return calls
