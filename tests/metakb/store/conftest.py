"""Fixtures of the store contract suite: every test runs on an in-memory and a file database.

Modelled on Optuna's ``testing/pytest_storages.py``: one parametrised fixture, so that the
contract of :class:`~metakb.store.KnowledgeBase` is checked against both back ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from metakb.store import KnowledgeBase

STORAGE_MODES = ["memory", "file"]


@pytest.fixture(params=STORAGE_MODES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A fresh knowledge base, in memory or in a file under ``tmp_path``."""
    path = ":memory:" if request.param == "memory" else tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        yield kb


def add_space(kb: KnowledgeBase, name: str = "toy", version: str = "1") -> int:
    """A tiny stored search space (its JSON is opaque to the store)."""
    return kb.add_space(name, version, '{"hyperparameters": []}', origin="test")


def add_dataset(kb: KnowledgeBase, name: str = "d", content_hash: str | None = None) -> int:
    """A stored dataset whose hash defaults to one derived from its name."""
    return kb.add_dataset(name, content_hash or f"hash-{name}", source="file", origin="test",
                          n_rows=10, n_features=2, n_classes=2, target="y")


def evaluation(dataset_id: int, configuration_id: int, **overrides: object) -> dict[str, object]:
    """A valid evaluation record, with fields overridden as given."""
    record: dict[str, object] = {
        "dataset_id": dataset_id, "configuration_id": configuration_id, "budget": 1.0,
        "protocol": "holdout:0.33", "seed": 0, "metric": "balanced_accuracy", "higher_is_better": True,
        "value": 0.75, "scores": {"balanced_accuracy": 0.75, "log_loss": 0.5}, "fit_seconds": 0.1,
        "status": "ok", "error": None, "run_id": None, "origin": "test",
    }
    record.update(overrides)
    return record


class Helpers:
    """The helper functions above, handed to tests as a fixture (test modules do not import
    conftest, so the suite works under any pytest import mode)."""

    add_space = staticmethod(add_space)
    add_dataset = staticmethod(add_dataset)
    evaluation = staticmethod(evaluation)


@pytest.fixture()
def h() -> type[Helpers]:
    """Helpers to fill a store."""
    return Helpers
