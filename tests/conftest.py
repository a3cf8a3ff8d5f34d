"""Shared fixtures: where the real data is, and tiny knowledge bases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


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
