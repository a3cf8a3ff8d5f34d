"""A local search's evaluation never runs past the time budget (its timeout is capped by what is left)."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from metakb.data import table_from_frame
from metakb.evaluation import DataRef, Protocol, WorkerPool
from metakb.workflows.optimize import _objective


def _slow_table():
    """20,000 rows x 60 features: a 3-fold CV of a 512-unit MLP takes far longer than 2 s."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 60))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(60)])
    frame["y"] = np.where(X[:, 0] + rng.normal(size=20000) > 0, "a", "b")
    return table_from_frame(frame, "y", name="slow")


def test_an_evaluation_is_stopped_when_the_time_budget_is_spent():
    table = _slow_table()
    config = {"classifier": "mlp", "categorical_encoding": "one_hot", "numeric_imputer": "mean",
              "scaler": "standard", "mlp:n_layers": 2, "mlp:n_units": 512, "mlp:alpha": 0.0001,
              "mlp:learning_rate_init": 0.001, "mlp:activation": "relu"}
    pool = WorkerPool(1, timeout=300.0, memory_mb=0)
    ref = DataRef("table", table=table, key=table.content_hash())
    with contextlib.ExitStack() as stack:
        started = time.monotonic()
        objective, executor = _objective(stack, pool, ref, Protocol.parse("cv:3"), 0, 1, None,
                                         deadline=started + 2.0)
        outcome = objective(config, 1.0)
        elapsed = time.monotonic() - started
    assert executor is None
    assert outcome["status"] == "timeout", outcome
    assert outcome["loss"] is None
    assert elapsed < 30.0  # the pool's own timeout (300 s) would have let it run for minutes
    assert pool.timeout < 300.0


def test_without_a_time_budget_the_pool_keeps_its_timeout():
    pool = WorkerPool(1, timeout=123.0, memory_mb=0)
    table = _slow_table()
    ref = DataRef("table", table=table, key="k")
    with contextlib.ExitStack() as stack:
        _objective(stack, pool, ref, Protocol.parse("cv:3"), 0, 1, None, deadline=None)
    assert pool.timeout == 123.0
