"""Crash recording catches only the model's own failures (#19 item 6).

A failure of the pipeline's construction, ``fit`` or ``predict`` is a result (status
``crashed``, the traceback kept); an exception from metakb's own code around the model
(splitting, scoring) propagates instead of being stored as a crashed evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import metakb.evaluation._evaluate as evaluate_module
from metakb.data import Table
from metakb.evaluation import Protocol, evaluate_configuration
from metakb.spaces import get_search_space

KNN = dict(get_search_space("sklearn-cash").defaults()["k_neighbors"])


@pytest.fixture()
def table() -> Table:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = np.array(["x", "y"] * 20, dtype=object)
    return Table(name="toy", X=X, y=y, categorical=[False, False], target="t", source="test",
                 source_id="toy")


def test_a_model_failure_is_crashed_with_its_traceback(table):
    # a configuration the space cannot build: the pipeline's construction fails
    config = {k: v for k, v in KNN.items() if k != "k_neighbors:n_neighbors"}
    result = evaluate_configuration(table, config, protocol=Protocol("holdout", 0.33), seed=0)
    assert result.status == "crashed" and result.value is None
    assert "k_neighbors:n_neighbors" in result.error.splitlines()[0]
    assert "Traceback (most recent call last)" in result.error
    assert "in make_pipeline" in result.error  # the failing frames are kept
    assert "_model_call" in result.error  # ... and where metakb called the model


def test_a_bug_of_metakb_raises_instead_of_being_stored(table, monkeypatch):
    def broken_scores(*args, **kwargs):
        raise RuntimeError("bug in metakb's scoring")

    monkeypatch.setattr(evaluate_module, "compute_scores", broken_scores)
    with pytest.raises(RuntimeError, match="bug in metakb's scoring"):
        evaluate_configuration(table, KNN, protocol=Protocol("holdout", 0.33), seed=0)


def test_a_long_traceback_keeps_the_exception_line_and_innermost_frames(monkeypatch):
    monkeypatch.setattr(evaluate_module, "_MAX_ERROR_CHARS", 300)

    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("innermost")
        deep(n - 1)

    try:
        deep(20)
    except ValueError as exc:
        text = evaluate_module._traceback_text(exc)
    assert len(text) <= 300
    assert text.startswith("ValueError: innermost")
    assert text.rstrip().endswith("ValueError: innermost")
    assert "\n\n..." in text  # the outer frames were cut, not the inner ones
