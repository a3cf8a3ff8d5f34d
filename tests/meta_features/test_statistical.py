"""Fast paths of the statistical group against the public functions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats


@pytest.mark.parametrize("n", [3, 20, 700])
def test_unwrapped_shapiro_equals_scipys_public_test(n):
    from meta_features._statistical import _shapiro

    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), rng.exponential(size=n), rng.integers(0, 3, size=n) * 1.0):
        if values.min() == values.max():
            continue
        ours, public = _shapiro(values), scipy.stats.shapiro(values)
        assert ours.pvalue == public.pvalue and ours.statistic == public.statistic


def _canonical_by_definition(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared canonical correlations r^2: eigenvalues of (W + B)^-1 B (total scatter)."""
    from scipy.linalg import eigh

    centred = X - X.mean(axis=0)
    total = centred.T @ centred
    between = np.zeros_like(total)
    for c in np.unique(y):
        diff = X[y == c].mean(axis=0) - X.mean(axis=0)
        between += (y == c).sum() * np.outer(diff, diff)
    r2 = eigh(between, total, eigvals_only=True)[::-1][: len(np.unique(y)) - 1]
    return np.sqrt(r2)


@pytest.mark.parametrize("collinear", [False, True])
def test_canonical_correlations_match_the_generalised_eigenproblem(collinear):
    import meta_features

    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, size=200)
    X = rng.normal(size=(200, 4)) + np.array([[0.0, 1.0, 0.5, 0.0]]) * y[:, None]
    expected = _canonical_by_definition(X, y)
    if collinear:  # a singular within-class scatter: the eigendecomposition path
        X = np.column_stack([X, X[:, 0] + 2.0 * X[:, 1]])
    res = meta_features.extract(X, y, groups="statistical", summary=["min", "max", "count"])
    assert res["can_cor.count"] == 2 and res["nr_disc"] == 2
    assert res["can_cor.max"] == pytest.approx(expected[0], rel=1e-9)
    assert res["can_cor.min"] == pytest.approx(expected[1], rel=1e-9)
    assert res["p_trace"] == pytest.approx((expected**2).sum(), rel=1e-9)
