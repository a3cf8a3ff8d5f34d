"""The product-kernel KDE against statsmodels' KDEMultivariate (HpBandSter's model) and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from metakb.errors import ConfigError
from metakb.optimizers._kde import ProductKDE, impute_inactive


def _mixed_data(rng: np.random.Generator, n: int = 30) -> np.ndarray:
    data = np.column_stack([rng.random(n), rng.beta(2, 5, n), np.arange(n) % 3])
    return data


# statsmodels' own notice about its future default random generator, raised inside the reference.
@pytest.mark.filterwarnings("ignore:After 0.17 or January 2028:FutureWarning")
def test_matches_statsmodels_kdemultivariate() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    data = _mixed_data(rng)
    ref = sm.nonparametric.KDEMultivariate(data=data, var_type="ccu", bw="normal_reference")
    kde = ProductKDE(np.array([0, 0, 3])).fit(data)
    np.testing.assert_allclose(kde.bw_, ref.bw, rtol=1e-12)
    query = _mixed_data(rng, 12)
    np.testing.assert_allclose(kde.pdf(query), ref.pdf(query), rtol=1e-10)


def test_by_hand_one_continuous_one_categorical() -> None:
    data = np.array([[0.2, 0.0], [0.6, 1.0]])
    kde = ProductKDE(np.array([0, 2]))
    kde.fit(data)
    h = 1.06 * 0.2 * 2 ** (-1 / 6)  # std of (0.2, 0.6) is 0.2
    hc = min(1.06 * 0.5 * 2 ** (-1 / 6), 0.5)  # capped at (c - 1) / c
    np.testing.assert_allclose(kde.bw_, [h, hc])
    x = np.array([0.3, 0.0])
    gauss = [np.exp(-0.5 * ((x[0] - m) / h) ** 2) / (np.sqrt(2 * np.pi) * h) for m in (0.2, 0.6)]
    expected = 0.5 * (gauss[0] * (1 - hc) + gauss[1] * hc)
    np.testing.assert_allclose(kde.pdf(x), [expected])


def test_weights_are_a_weighted_mixture() -> None:
    data = np.array([[0.1], [0.9]])
    kde = ProductKDE(np.array([0])).fit(data, weights=np.array([3.0, 1.0]))
    single = [ProductKDE(np.array([0])).fit(data[[i]]) for i in range(2)]
    for s in single:  # same bandwidth to compare kernels
        s.bw_ = kde.bw_
    x = np.array([[0.3], [0.8]])
    np.testing.assert_allclose(kde.pdf(x), 0.75 * single[0].pdf(x) + 0.25 * single[1].pdf(x))


def test_min_bandwidth_and_validation() -> None:
    kde = ProductKDE(np.array([0, 4]), min_bandwidth=0.01).fit(np.array([[0.5, 2.0]] * 5))
    np.testing.assert_allclose(kde.bw_, [0.01, 0.01])
    with pytest.raises(ConfigError, match="NaN"):
        ProductKDE(np.array([0])).fit(np.array([[np.nan]]))
    with pytest.raises(ConfigError, match="shape"):
        ProductKDE(np.array([0, 0])).fit(np.zeros((3, 1)))
    with pytest.raises(ConfigError, match="weights"):
        ProductKDE(np.array([0])).fit(np.zeros((2, 1)), weights=np.array([1.0, -1.0]))


def test_samples_stay_in_the_unit_box_and_keep_levels() -> None:
    rng = np.random.default_rng(1)
    data = _mixed_data(rng)
    kde = ProductKDE(np.array([0, 0, 3])).fit(data)
    draws = kde.sample(np.random.default_rng(2), 500)
    assert draws.shape == (500, 3)
    assert np.all((draws[:, :2] >= 0) & (draws[:, :2] <= 1))
    assert set(np.unique(draws[:, 2])) <= {0.0, 1.0, 2.0}


def test_impute_inactive_copies_from_rows_where_active() -> None:
    rng = np.random.default_rng(0)
    data = np.array([[0.0, np.nan, np.nan], [1.0, 0.7, 0.4], [0.0, np.nan, 0.9]])
    out = impute_inactive(data, np.array([2, 0, 0]), rng)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[1], data[1])
    np.testing.assert_array_equal(out[0, 1:], [0.7, 0.4])  # only row 1 has column 1 active
    assert out[2, 1] == 0.7 and out[2, 2] == 0.9
    # The reference skips a row whose only NaN is column 0; this one does not.
    first = impute_inactive(np.array([[np.nan, 0.5], [0.3, 0.1]]), np.array([0, 0]), rng)
    assert first[0, 0] == 0.3
    # No row has the column active: a random valid value.
    lone = impute_inactive(np.array([[np.nan, 0.5]]), np.array([3, 0]), rng)
    assert lone[0, 0] in (0.0, 1.0, 2.0)
