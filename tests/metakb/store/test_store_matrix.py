"""The performance matrix as a pure function over an evaluations frame, and empty frames' columns."""

from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest

from metakb._matrix import EVALUATION_COLUMNS, performance_matrix
from metakb.errors import ConfigError
from metakb.store import KnowledgeBase


def _rows(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(EVALUATION_COLUMNS))


def test_cells_average_ok_rows_and_use_scores_for_other_metrics() -> None:
    frame = _rows(
        ("a", 1, 0.8, "ok", "balanced_accuracy", json.dumps({"log_loss": 0.5}), 1, "cv:3"),
        ("a", 1, 0.6, "ok", "balanced_accuracy", json.dumps({"log_loss": 0.7}), 1, "cv:3"),
        ("a", 2, None, "crashed", "balanced_accuracy", None, 1, "cv:3"),
        ("b", 2, 0.5, "ok", "balanced_accuracy", None, 1, "cv:3"),
    )
    matrix = performance_matrix(frame, "balanced_accuracy")
    assert matrix.loc["a", 1] == pytest.approx(0.7)  # (0.8 + 0.6) / 2
    assert np.isnan(matrix.loc["a", 2]) and np.isnan(matrix.loc["b", 1])
    assert matrix.loc["b", 2] == 0.5
    assert matrix.attrs == {"metric": "balanced_accuracy", "higher_is_better": True, "protocol": "cv:3"}
    loss = performance_matrix(frame, "log_loss")
    assert loss.loc["a", 1] == pytest.approx(0.6)  # from the scores, (0.5 + 0.7) / 2
    assert loss.attrs["higher_is_better"] is False  # the one direction rule: log loss is lower-better


def test_protocols_never_mix_and_the_most_frequent_wins_ties_alphabetically() -> None:
    frame = _rows(("a", 1, 0.9, "ok", "accuracy", None, 1, "holdout:0.33"),
                  ("a", 1, 0.1, "ok", "accuracy", None, 1, "cv:3"))
    matrix = performance_matrix(frame, "accuracy")
    assert matrix.attrs["protocol"] == "cv:3" and matrix.loc["a", 1] == 0.1
    assert performance_matrix(frame, "accuracy", protocol="holdout:0.33").loc["a", 1] == 0.9


def test_empty_input_gives_an_empty_named_frame_and_unknown_metrics_are_refused() -> None:
    empty = performance_matrix(_rows(), "runtime")
    assert empty.empty and empty.index.name == "dataset" and empty.columns.name == "configuration_id"
    assert empty.attrs == {"metric": "runtime", "higher_is_better": False, "protocol": None}
    with pytest.raises(ConfigError, match="unknown metric"):
        performance_matrix(_rows(), "nonsense")


def test_empty_store_frames_keep_their_columns() -> None:
    with KnowledgeBase(":memory:") as kb:
        assert {"status", "value", "dataset", "space_id"} <= set(kb.evaluations().columns)
        assert list(kb.runs().columns) == ["id", "kind", "status", "dataset_id", "space_id", "created_at",
                                           "updated_at"]
        assert list(kb.portfolios().columns) == ["name", "space", "size", "created_at"]
        assert "content_hash" in kb.datasets().columns and kb.datasets().index.name == "id"


def test_a_second_threads_transaction_waits_for_the_first() -> None:
    with KnowledgeBase(":memory:") as kb:
        order: list[str] = []
        inside = threading.Event()

        def other() -> None:
            inside.wait(5)
            with kb.transaction():
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        with kb.transaction():
            inside.set()
            thread.join(0.3)  # the other thread is blocked on the lock meanwhile
            order.append("first")
        thread.join(5)
        assert order == ["first", "other"]


def test_r2_below_zero_counts_as_the_mean_predictor_in_the_matrix() -> None:
    """R² has no lower bound: a diverged regressor's -1e6 is raised to 0 (worse than the training
    mean) in the matrix the algorithms read; floor=False keeps the raw means."""
    import pandas as pd

    from metakb._matrix import performance_matrix

    rows = pd.DataFrame({"dataset": ["a", "a", "a"], "configuration_id": [1, 2, 2], "value": [0.8, -1e6, 0.2],
                         "status": ["ok"] * 3, "metric": ["r2"] * 3, "scores": [None] * 3,
                         "higher_is_better": [True] * 3, "protocol": ["cv:3"] * 3})
    matrix = performance_matrix(rows, "r2")
    assert matrix.loc["a", 1] == 0.8 and matrix.loc["a", 2] == 0.0 and matrix.attrs["floor"] == 0.0
    raw = performance_matrix(rows, "r2", floor=False)
    assert raw.loc["a", 2] == (-1e6 + 0.2) / 2 and "floor" not in raw.attrs
