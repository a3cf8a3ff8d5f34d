"""Every name in the ``__all__`` of the optimizer, executor and surrogate packages exists."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["metakb.optimizers", "metakb.executors", "metakb.surrogates",
                                    "metakb.optimizers.warmstart", "metakb.workflows.optimize"])
def test_all_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"
