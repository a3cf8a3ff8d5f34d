"""Product-kernel density estimators of mixed continuous and categorical data, as BOHB uses.

The density at ``x`` of data ``X_1..X_n`` with weights ``w_i`` (1 unless given) is

    f(x) = sum_i w_i prod_j k_j(X_ij, x_j; h_j) / (sum_i w_i * prod_{j continuous} h_j)

with a Gaussian kernel for continuous columns (not truncated to [0, 1], as in statsmodels'
``KDEMultivariate``) and the Aitchison-Aitken kernel for categorical columns with ``c`` levels:
``1 - h`` when the values agree and ``h / (c - 1)`` otherwise. Bandwidths follow statsmodels'
``normal_reference`` rule, ``h_j = 1.06 * std_j * n ** (-1 / (4 + d))`` (weighted standard
deviation and Kish's effective sample size when weighted), then clipped below at
``min_bandwidth``.

Two deliberate differences from statsmodels, both where the reference misbehaves: ``c`` is the
number of choices of the hyperparameter (statsmodels counts the levels present in the data and
divides by zero when only one is present, which makes HpBandSter's BOHB warn and fall back), and
a categorical bandwidth is clipped above at ``(c - 1) / c`` (where the kernel is uniform; above
it the kernel would go negative).

References:
    Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at Scale.
    ICML 2018.
    Aitchison, Aitken. Multivariate binary discrimination by the kernel method. Biometrika 1976.
    Racine. Nonparametric Econometrics: A Primer. 2008 (the normal reference rule, p. 13).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import truncnorm

from metakb.errors import ConfigError

__all__ = ["ProductKDE", "impute_inactive"]


class ProductKDE:
    """A weighted product-kernel KDE on BOHB's vector representation.

    Args:
        vartypes: per column, 0 for continuous on [0, 1] or the number of categorical levels.
        min_bandwidth: lower bound of every bandwidth.

    Attributes:
        data_: the training rows (no NaN), shape ``(n, d)``.
        weights_: normalised weights of the rows.
        bw_: the bandwidth of every column.
    """

    def __init__(self, vartypes: np.ndarray, min_bandwidth: float = 1e-3) -> None:
        self.vartypes = np.asarray(vartypes, dtype=int)
        self.min_bandwidth = min_bandwidth

    def fit(self, data: np.ndarray, weights: np.ndarray | None = None, *,
            n_effective: float | None = None) -> ProductKDE:
        """Fit the bandwidths to complete rows (impute inactive values first).

        ``n_effective`` overrides the effective sample size ``1 / sum(w_i^2)`` of the
        normalised weights in Scott's rule: a caller that merged identical rows into one
        weighted row passes the effective size of the rows before merging, so the bandwidths
        stay those of the unmerged data while the density costs one kernel per distinct row.
        """
        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[1] != len(self.vartypes) or data.shape[0] == 0:
            raise ConfigError(f"KDE data must have shape (n >= 1, {len(self.vartypes)}); "
                              f"got {data.shape}")
        if np.isnan(data).any():
            raise ConfigError("KDE data contains NaN; impute inactive hyperparameters first")
        w = np.ones(data.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (data.shape[0],) or np.any(w < 0) or w.sum() <= 0:
            raise ConfigError(f"KDE weights must be {data.shape[0]} non-negative values with a "
                              f"positive sum; got {w!r}")
        w = w / w.sum()
        mean = w @ data
        std = np.sqrt(np.maximum(w @ (data - mean) ** 2, 0.0))
        n_eff = 1.0 / np.sum(w**2) if n_effective is None else float(n_effective)  # n unweighted
        if not n_eff >= 1.0:
            raise ConfigError(f"n_effective must be a number >= 1; got {n_effective!r}")
        bw = 1.06 * std * n_eff ** (-1.0 / (4 + data.shape[1]))
        bw = np.maximum(bw, self.min_bandwidth)
        cat = self.vartypes > 0
        bw[cat] = np.minimum(bw[cat], (self.vartypes[cat] - 1) / self.vartypes[cat])
        self.data_, self.weights_, self.bw_ = data, w, bw
        return self

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """The density at each row of ``x`` (shape ``(m, d)``, or one vector)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        diff = x[:, None, :] - self.data_[None, :, :]  # (m, n, d)
        cont = self.vartypes == 0
        log_k = np.zeros(diff.shape[:2])
        if cont.any():
            z = diff[:, :, cont] / self.bw_[cont]
            log_k += np.sum(-0.5 * z**2, axis=2) - np.sum(np.log(self.bw_[cont])) \
                - cont.sum() * 0.5 * np.log(2 * np.pi)
        for j in np.flatnonzero(~cont):
            h, c = self.bw_[j], self.vartypes[j]
            same = np.abs(diff[:, :, j]) < 0.5
            off = h / (c - 1) if c > 1 else 0.0
            log_k += np.log(np.where(same, 1.0 - h, off) + 1e-300)
        return np.exp(log_k) @ self.weights_

    def sample(self, rng: np.random.Generator, n: int, bandwidth_factor: float = 3.0) -> np.ndarray:
        """BOHB's candidate draws: perturb randomly chosen training rows.

        A row is drawn (in proportion to its weight); each continuous column is redrawn from a
        normal truncated to [0, 1], centred on it with ``bandwidth_factor`` times its bandwidth;
        each categorical column keeps its value with probability ``1 - h`` and is otherwise
        drawn uniformly among its levels.
        """
        idx = rng.choice(self.data_.shape[0], size=n, p=self.weights_)
        rows = self.data_[idx].copy()
        for j, t in enumerate(self.vartypes):
            m = rows[:, j]
            if t == 0:
                bw = self.bw_[j] * bandwidth_factor
                rows[:, j] = truncnorm.rvs(-m / bw, (1 - m) / bw, loc=m, scale=bw, size=n,
                                           random_state=rng)
            else:
                keep = rng.random(n) < 1.0 - self.bw_[j]
                rows[:, j] = np.where(keep, m, rng.integers(t, size=n))
        return rows


def impute_inactive(data: np.ndarray, vartypes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fill the NaN (inactive) entries of ``data`` the way HpBandSter's BOHB does.

    For each row with NaNs, a random other row where the first missing column is active is
    chosen and all of the row's missing entries are copied from it; the loop repeats while NaNs
    remain. When no row has that column active, it gets a random valid value (uniform on
    [0, 1] or a random level). The reference's loop tests ``np.any(nan_indices)`` and so skips
    a row whose only NaN is column 0; this one does not.
    """
    out = np.array(data, dtype=float, copy=True)
    for i in range(out.shape[0]):
        row = out[i]
        missing = np.flatnonzero(np.isnan(row))
        while missing.size:
            j = missing[0]
            donors = np.flatnonzero(np.isfinite(data[:, j]))
            if donors.size:
                row[missing] = data[rng.choice(donors), missing]
            else:
                t = vartypes[j]
                row[j] = rng.random() if t == 0 else rng.integers(t)
            missing = np.flatnonzero(np.isnan(row))
    return out
