"""Greedy ensemble selection (Caruana et al. 2004) on a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest

from metakb.automl import ensemble_selection, selection_protocol
from metakb.errors import ConfigError


def _two_class(p1: list[float]) -> np.ndarray:
    p = np.asarray(p1)
    return np.column_stack([1 - p, p])


# y = [0, 0, 1, 1]; class-1 probabilities of three models
A = _two_class([0.4, 0.6, 0.6, 0.6])   # predicts 0 1 1 1: balanced accuracy (1/2 + 1)/2 = 0.75
B = _two_class([0.1, 0.1, 0.45, 0.9])  # predicts 0 0 0 1: (1 + 1/2)/2 = 0.75
C = _two_class([0.7, 0.3, 0.3, 0.7])   # predicts 1 0 0 1: 0.5
Y = np.array([0, 0, 1, 1])


def test_greedy_selection_matches_the_hand_computed_rounds() -> None:
    predictions = np.stack([A, B, C])
    # round 1: A and B tie at 0.75, the first listed (A) wins
    assert ensemble_selection(predictions, Y, 1).tolist() == [1.0, 0.0, 0.0]
    # round 2: A+A 0.75; A+B averages to [.25 .35 .525 .75] -> 0 0 1 1 = 1.0; A+C 0.5 -> B
    assert ensemble_selection(predictions, Y, 2).tolist() == [0.5, 0.5, 0.0]
    # round 3: (2A+B)/3 = [.3 .433 .55 .7] -> 1.0; (A+2B)/3 has .5 on row 3 (tie -> class 0)
    # 0.75; (A+B+C)/3 -> 0 0 0 1 = 0.75 -> A again (with replacement)
    np.testing.assert_allclose(ensemble_selection(predictions, Y, 3), [2 / 3, 1 / 3, 0.0])


def test_selection_refuses_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="ensemble size"):
        ensemble_selection(np.stack([A]), Y, 0)
    with pytest.raises(ConfigError, match="rows"):
        ensemble_selection(np.stack([A]), Y[:3], 2)


@pytest.mark.parametrize(("rows", "rare", "expected"), [
    (150, 50, "cv:5"), (5000, 100, "cv:5"), (300, 2, "cv:2"), (300, 4, "cv:3"),
    (5001, 100, "cv:3:max_rows=5000"), (20000, 9, "cv:3:max_rows=5000"),
    (20001, 9, "holdout:0.2:max_rows=20000")])
def test_selection_protocol_follows_the_documented_rule(rows: int, rare: int, expected: str) -> None:
    assert selection_protocol(rows, rare) == expected
