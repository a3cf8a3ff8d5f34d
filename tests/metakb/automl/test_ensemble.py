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


# ---------------------------------------------------------------------- regression (#22)
# y = [0, 1, 2, 3]: SST = 2.25 + 0.25 + 0.25 + 2.25 = 5. Three models' predictions, as y plus
# an error vector (integers, so every mean below is exact in floating point):
Y_REG = np.array([0.0, 1.0, 2.0, 3.0])
E_A = np.array([1.0, 1.0, 0.0, 0.0])    # SSE 2  -> R² 1 - 2/5  = 0.6
E_B = np.array([-1.0, -1.0, 1.0, 0.0])  # SSE 3  -> R² 0.4
E_C = np.array([0.0, 0.0, -1.0, 3.0])   # SSE 10 -> R² -1
REG = np.stack([Y_REG + E_A, Y_REG + E_B, Y_REG + E_C])


def test_r2_of_predictions_is_one_minus_sse_over_sst() -> None:
    from metakb.automl import r2_of_predictions

    assert r2_of_predictions(Y_REG, Y_REG + E_A) == pytest.approx(0.6)
    assert r2_of_predictions(Y_REG, Y_REG + E_C) == pytest.approx(-1.0)
    # a constant truth (R² undefined): minus the mean squared error, still higher-is-better
    assert r2_of_predictions(np.zeros(4), E_B) == pytest.approx(-0.75)


def test_greedy_regression_selection_matches_the_hand_computed_rounds() -> None:
    from metakb.automl import r2_of_predictions

    def select(rounds: int) -> list[float]:
        return ensemble_selection(REG, Y_REG, rounds, score=r2_of_predictions).tolist()

    # round 1: SSE A 2 < B 3 < C 10 -> A
    assert select(1) == [1.0, 0.0, 0.0]
    # round 2 (mean error of A plus one more): A+A [1 1 0 0] SSE 2; A+B [0 0 .5 0] SSE .25;
    # A+C [.5 .5 -.5 1.5] SSE 3 -> B (the complement beats the single best model)
    assert select(2) == [0.5, 0.5, 0.0]
    # round 3 (sum of errors A+B = [0 0 1 0]): +A [1 1 1 0]/3 SSE 3/9; +B [-1 -1 2 0]/3 SSE 6/9;
    # +C [0 0 0 3]/3 SSE 1 -> A again (with replacement)
    np.testing.assert_allclose(select(3), [2 / 3, 1 / 3, 0.0])
    # round 4 (sum 2A+B = [1 1 1 0]): +A [2 2 1 0]/4 SSE 9/16; +B [0 0 2 0]/4 SSE 4/16;
    # +C [1 1 0 3]/4 SSE 11/16 -> B
    assert select(4) == [0.5, 0.5, 0.0]
    mixed = np.tensordot(np.array(select(4)), REG, axes=1)  # y + [0 0 .5 0]
    assert r2_of_predictions(Y_REG, mixed) == pytest.approx(1 - 0.25 / 5)


def test_selection_takes_regression_predictions_and_refuses_other_shapes() -> None:
    with pytest.raises(ConfigError, match="shape"):
        ensemble_selection(np.zeros(4), Y_REG, 1)  # one model's vector, not (n_models, n_rows)
    with pytest.raises(ConfigError, match="rows"):
        ensemble_selection(REG, Y_REG[:3], 1)


@pytest.mark.parametrize(("rows", "expected"), [
    (50, "cv:5"), (5000, "cv:5"), (5001, "cv:3:max_rows=5000"), (20000, "cv:3:max_rows=5000"),
    (20001, "holdout:0.2:max_rows=20000")])
def test_the_regression_protocol_follows_the_row_thresholds_alone(rows: int, expected: str) -> None:
    from types import SimpleNamespace

    from metakb.automl import AutoMLRegressor

    assert selection_protocol(rows) == expected
    assert AutoMLRegressor()._auto_protocol(SimpleNamespace(n_rows=rows)) == expected
