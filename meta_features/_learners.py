"""Vectorised numpy versions of scikit-learn's 1-NN, Gaussian naive Bayes and LDA.

The landmarkers fit each of them once per cross-validation fold; these versions predict as
scikit-learn's estimators do (tested in ``tests/meta_features/test_landmarking.py``) at a
fraction of their overhead. Decision stumps live in ``_stump``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_CELLS", "ClassStats", "class_sums", "lda", "naive_bayes", "nearest_1d",
           "nearest_rows", "one_nn", "one_nn_folds"]


#: Distances computed per block of test rows: 4 MB, one buffer reused for every block (fresh
#: arrays of this size cost more in page faults than the arithmetic on them).
BLOCK_CELLS = 1 << 19


def one_nn(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Label of each test row's nearest training row (Euclidean; ties: lowest index)."""
    if X_tr.shape[1] == 1:
        return y_tr[nearest_1d(X_tr[:, 0], X_te[:, 0])]
    return y_tr[nearest_rows(X_tr, X_te)]


def nearest_rows(X_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Index of each test row's nearest training row, brute force; ties: lowest index.

    Squared distances are ``(|a|^2 - 2 a.b) + |b|^2`` with ``a.b`` from one matrix product
    per block of test rows (the expansion scikit-learn's brute-force neighbours use).
    """
    n_tr = X_tr.shape[0]
    out = np.empty(X_te.shape[0], dtype=np.intp)
    sq_tr = (X_tr**2).sum(1)
    sq_te = (X_te**2).sum(1)
    train_t = np.ascontiguousarray(X_tr.T)
    step = max(1, BLOCK_CELLS // max(n_tr, 1))
    buffer = np.empty((min(step, X_te.shape[0]), n_tr))
    for start in range(0, X_te.shape[0], step):
        block = X_te[start:start + step]
        dist = buffer[:block.shape[0]]
        np.matmul(2.0 * block, train_t, out=dist)
        np.subtract(sq_te[start:start + step, None], dist, out=dist)
        dist += sq_tr
        out[start:start + step] = np.argmin(dist, axis=1)
    return out


def nearest_1d(x_tr: np.ndarray, x_te: np.ndarray) -> np.ndarray:
    """Index of the nearest training value of each test value; ties: lowest training index."""
    values, first = np.unique(x_tr, return_index=True)
    pos = np.searchsorted(values, x_te)
    left = np.clip(pos - 1, 0, values.size - 1)
    right = np.clip(pos, 0, values.size - 1)
    d_left, d_right = np.abs(x_te - values[left]), np.abs(values[right] - x_te)
    pick_left = (d_left < d_right) | ((d_left == d_right) & (first[left] <= first[right]))
    return np.where(pick_left, first[left], first[right])


def class_sums(X: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """``(k, d)`` column sums of the rows of each class, added row by row in data order.

    A column sum of a C-ordered matrix adds its rows one after the other, in the same order
    as ``np.add.at`` (so the sums are the same to the last bit), at a fraction of its cost.
    """
    out = np.zeros((k, X.shape[1]))
    for c in range(k):
        rows = X[codes == c]
        if rows.shape[0]:
            out[c] = rows.sum(axis=0)
    return out


class ClassStats:
    """Classes, codes, sizes and per-class means of a training set (shared by NB and LDA)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.classes, self.codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        self.counts = counts
        self.means = class_sums(X, self.codes, self.classes.size) / counts[:, None]


def naive_bayes(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray,
                stats: ClassStats | None = None) -> np.ndarray:
    """Gaussian naive Bayes as scikit-learn's GaussianNB (var_smoothing 1e-9, ML variances).

    ``stats``: :class:`ClassStats` of ``(X_tr, y_tr)`` when already computed.
    """
    st = stats if stats is not None else ClassStats(X_tr, y_tr)
    classes, codes, means = st.classes, st.codes, st.means
    counts = st.counts.astype(float)
    sq = class_sums((X_tr - means[codes]) ** 2, codes, classes.size)
    var = sq / counts[:, None] + 1e-9 * X_tr.var(axis=0).max()
    log_prior = np.log(counts / counts.sum())
    # one class at a time: (n_te, d) temporaries instead of (n_te, classes, d)
    distance = np.empty((X_te.shape[0], classes.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in range(classes.size):
            distance[:, c] = (((X_te - means[c]) ** 2) / var[c]).sum(1)
        jll = (log_prior[None, :] - 0.5 * np.log(2.0 * np.pi * var).sum(1)[None, :]
               - 0.5 * distance)
    return classes[np.argmax(np.nan_to_num(jll, nan=-np.inf), axis=1)]


def _lda_full_rank(scaled: np.ndarray, std: np.ndarray, means: np.ndarray, X_te: np.ndarray,
                   log_priors: np.ndarray) -> np.ndarray | None:
    """LDA scores by a Cholesky solve, when no direction would be dropped; else None.

    When the pooled covariance of the standardised attributes is well conditioned (LAPACK's
    reciprocal condition estimate above 1e-6, far from scikit-learn's cut at singular values
    1e-4 of the largest, i.e. eigenvalues 1e-8), its inverse is the pseudo-inverse that the
    svd solver applies, so the scores are the same at a third of an eigendecomposition's cost.
    """
    from scipy.linalg import cho_solve
    from scipy.linalg.lapack import dpocon, dpotrf

    gram = scaled.T @ scaled
    if gram.shape[0] == 0 or not np.isfinite(gram).all():
        return None
    factor, info = dpotrf(gram, lower=1)
    if info != 0:
        return None
    rcond, info = dpocon(factor, np.abs(gram).sum(axis=0).max(), uplo="L")
    if info != 0 or not rcond > 1e-6:
        return None
    m = means / std  # in standardised units
    solved = cho_solve((factor, True), m.T)  # (d, k)
    return (X_te / std) @ solved - 0.5 * (m * solved.T).sum(axis=1) + log_priors


def lda(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray,
        stats: ClassStats | None = None) -> np.ndarray:
    """Linear discriminant analysis as scikit-learn's (svd solver, empirical priors).

    The pooled within-class covariance (divided by n - k) of the standardised attributes is
    inverted on the directions whose singular value exceeds 1e-4 times the largest, as
    scikit-learn does. With no within-class variance at all it predicts by the priors alone.
    ``stats``: :class:`ClassStats` of ``(X_tr, y_tr)`` when already computed.
    """
    st = stats if stats is not None else ClassStats(X_tr, y_tr)
    classes, codes, means = st.classes, st.codes, st.means
    n, k = X_tr.shape[0], classes.size
    if k == 1:
        return np.full(X_te.shape[0], classes[0])
    scaled = X_tr - means[codes]  # the within-class deviations, scaled in place below
    std = scaled.std(axis=0)
    std[std == 0] = 1.0
    scaled /= std
    scaled /= np.sqrt(max(n - k, 1))
    priors = st.counts / n
    centre = priors @ means
    fast = _lda_full_rank(scaled, std, means - centre, X_te - centre, np.log(priors))
    if fast is not None:
        return classes[np.argmax(fast, axis=1)]
    if scaled.shape[1] <= scaled.shape[0]:
        s2, V = np.linalg.eigh(scaled.T @ scaled)
    else:  # wide data: the same singular vectors from the smaller Gram matrix
        s2, U = np.linalg.eigh(scaled @ scaled.T)
        with np.errstate(divide="ignore", invalid="ignore"):
            V = (scaled.T @ U) / np.sqrt(np.clip(s2, 1e-300, None))
    sv = np.sqrt(np.clip(s2, 0.0, None))
    keep = sv > 1e-4 * sv.max(initial=0.0)
    scalings = V[:, keep] / std[:, None] / sv[keep]
    proj_means = (means - centre) @ scalings
    proj_te = (X_te - centre) @ scalings
    score = proj_te @ proj_means.T - 0.5 * (proj_means**2).sum(1) + np.log(priors)
    return classes[np.argmax(score, axis=1)]


def one_nn_folds(X: np.ndarray, y: np.ndarray,
                 splits: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """For each ``(train, test)`` split, the 1-NN labels of ``X[test]`` among ``X[train]``."""
    return [one_nn(X[train], y[train], X[test]) for train, test in splits]
