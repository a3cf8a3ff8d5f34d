"""Normalisation and the missing-cell policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from portfolios import greedy_portfolio, to_loss_matrix


def test_normalisation_per_dataset_hand_values():
    perf = pd.DataFrame([[0.9, 0.7, 0.5], [0.6, 0.6, 0.6]], index=["a", "b"])
    m = to_loss_matrix(perf, higher_is_better=True)
    np.testing.assert_allclose(m.loss, [[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]])
    low = to_loss_matrix(perf, higher_is_better=False)
    np.testing.assert_allclose(low.loss[0], [1.0, 0.5, 0.0])
    raw = to_loss_matrix(perf, higher_is_better=False, normalize=False)
    np.testing.assert_allclose(raw.loss, perf.to_numpy())


def test_direction_from_attrs_and_required():
    perf = pd.DataFrame([[1.0, 2.0]])
    with pytest.raises(ConfigError, match="higher_is_better"):
        to_loss_matrix(perf)
    perf.attrs["higher_is_better"] = False
    np.testing.assert_allclose(to_loss_matrix(perf).loss, [[0.0, 1.0]])


MISSING = pd.DataFrame([[0.9, np.nan, 0.5], [0.2, 0.8, 0.4]], index=["d0", "d1"],
                       columns=["c0", "c1", "c2"])


def test_missing_worst_imputes_the_worst_observed_value():
    m = to_loss_matrix(MISSING, higher_is_better=True, missing="worst")
    np.testing.assert_allclose(m.loss[0], [0.0, 1.0, 1.0])
    assert m.configurations == ["c0", "c1", "c2"]


def test_missing_skip_drops_incomplete_configurations():
    m = to_loss_matrix(MISSING, higher_is_better=True, missing="skip")
    assert m.configurations == ["c0", "c2"]
    p = greedy_portfolio(MISSING, 2, higher_is_better=True, missing="skip")
    assert set(p.members) == {"c0", "c2"}
    with pytest.raises(ConfigError, match="larger than the number of configurations available \\(2\\)"):
        greedy_portfolio(MISSING, 3, higher_is_better=True, missing="skip")


def test_missing_refuse_names_the_cell():
    with pytest.raises(DataError, match=r"1 missing cells \(first: dataset 'd0', configuration 'c1'\)"):
        to_loss_matrix(MISSING, higher_is_better=True, missing="refuse")
    complete = MISSING.fillna(0.1)
    assert to_loss_matrix(complete, higher_is_better=True, missing="refuse").loss.shape == (2, 3)


def test_skip_with_no_complete_configuration():
    perf = pd.DataFrame([[np.nan, 1.0], [1.0, np.nan]])
    with pytest.raises(DataError, match="leaves none"):
        to_loss_matrix(perf, higher_is_better=True, missing="skip")


def test_unknown_policy_and_bad_matrices():
    with pytest.raises(ConfigError, match="missing must be one of"):
        to_loss_matrix(MISSING, higher_is_better=True, missing="drop")
    with pytest.raises(DataError, match="empty"):
        to_loss_matrix(pd.DataFrame(), higher_is_better=True)
    with pytest.raises(DataError, match=r"datasets \['d0'\] have no value"):
        to_loss_matrix(pd.DataFrame([[np.nan, np.nan], [1.0, 2.0]], index=["d0", "d1"]),
                       higher_is_better=True)
    with pytest.raises(DataError, match="infinite"):
        to_loss_matrix(pd.DataFrame([[np.inf, 1.0]]), higher_is_better=True)
    with pytest.raises(DataError, match="non-numeric"):
        to_loss_matrix(pd.DataFrame([["x", 1.0]]), higher_is_better=True)
