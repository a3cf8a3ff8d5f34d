"""Decision stumps (depth-1 CART trees, Gini) grown as scikit-learn grows them, but vectorised.

Two equivalent ways to find the best cut, both giving scikit-learn's cut (bit for bit the same
scores, hence the same choice among equally good cuts):

* :class:`StumpTable` sorts every column once and keeps, for each distinct value of each
  column, how many rows of each class hold it. A stump on any subset of the rows (a training
  fold) then only needs the class counts of the rows left out (a ``bincount`` over the test
  fold) and one cumulative sum over the distinct values: the work per fold no longer grows
  with the training rows but with the distinct values, which is what makes it fast on the
  discrete or integer-valued attributes common in tabular data.
* :func:`_walk` walks each fold's sorted training rows themselves (see its docstring); it is
  used for continuous columns, where the table (distinct values x classes) would outgrow
  the rows.

Rule set shared by both: the cut maximising scikit-learn's proxy
``sum_k L_k^2 / n_L + sum_k R_k^2 / n_R`` (class counts left and right) wins; cuts lie between
consecutive training values more than 1e-7 apart, at their midpoint (the lower value when the
midpoint rounds to the upper one); ties between equally good cuts go to the lowest attribute
index, then the lowest cut (scikit-learn visits attributes in a random order instead); a side's
class is its most frequent one (lowest code on ties); with no possible cut the stump is a
single leaf predicting the most frequent class.

References:
    Breiman, Friedman, Olshen & Stone (1984), Classification and Regression Trees;
    scikit-learn's ``BestSplitter`` (``sklearn/tree/_splitter.pyx``) for the tie rules.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StumpTable", "fold_predictions", "stump", "stump_sorted"]

#: :class:`StumpTable` is used while ``distinct values * (classes + 4) <= TABLE_RATIO * rows *
#: columns``; above it the sorted walk (:func:`_walk`) is cheaper. A cost model fitted to
#: timings on the PMLB datasets: the table's work per fold grows with its cells, about
#: ``distinct * (c + 4)``, the walk's with the data cells; with two classes the walk needs a
#: single running count and wins earlier (``TABLE_RATIO_BINARY``).
TABLE_RATIO = 3.0
TABLE_RATIO_BINARY = 1.0


class _Sorted:
    """Every column sorted once (one row per column, contiguous): order, values, distinct ids.

    Attributes:
        order: ``(d, n)``; ``order[j]`` sorts column ``j``.
        xs: ``(d, n)``; the sorted values.
        slot: ``(n, d)``; the position in ``values`` of ``X[i, j]``.
        values: Every column's distinct values in increasing order, column after column.
        n_distinct: ``(d,)`` distinct values per column.
    """

    def __init__(self, X: np.ndarray) -> None:
        XT = np.ascontiguousarray(X.T)
        self.order = np.argsort(XT, axis=1, kind="stable")  # much faster than quicksort on ties
        self.xs = np.take_along_axis(XT, self.order, axis=1)
        new = np.ones(self.xs.shape, dtype=bool)
        new[:, 1:] = self.xs[:, 1:] != self.xs[:, :-1]
        rank = np.cumsum(new, axis=1) - 1
        self.n_distinct = rank[:, -1] + 1
        rank += np.concatenate([[0], np.cumsum(self.n_distinct)[:-1]])[:, None]
        slot = np.empty(self.xs.shape, dtype=np.intp)
        np.put_along_axis(slot, self.order, rank, axis=1)
        self.slot = slot.T
        self.values = self.xs[new]


def _table_is_small(n_distinct: np.ndarray, n_classes: int, size: int) -> bool:
    """Whether :class:`StumpTable` is the cheaper way (see :data:`TABLE_RATIO`)."""
    ratio = TABLE_RATIO if n_classes > 2 else TABLE_RATIO_BINARY
    return int(n_distinct.sum()) * (n_classes + 4) <= ratio * size + 1024


def fold_predictions(X: np.ndarray, y: np.ndarray, n_classes: int,
                     splits: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """For each ``(train, test)`` split, the class codes a stump grown on ``train`` predicts
    for ``X[test]``.

    Every column is sorted once for all folds. ``X`` has no NaN; ``y`` holds codes
    ``0..n_classes-1``.
    """
    srt = _Sorted(X)
    if _table_is_small(srt.n_distinct, n_classes, X.size):
        table = StumpTable(X, y, n_classes, _sorted=srt)
        return [table.predict(X[test], exclude=test) for _, test in splits]
    d = X.shape[1]
    ys = y[srt.order]
    out = []
    for train, test in splits:
        in_train = np.zeros(X.shape[0], dtype=bool)
        in_train[train] = True
        keep = in_train[srt.order]  # dropping the test rows keeps the training rows sorted
        out.append(_walk(srt.xs[keep].reshape(d, -1), ys[keep].reshape(d, -1), n_classes,
                         X[test]))
    return out


class StumpTable:
    """Per-column distinct values with their class counts, for stumps on subsets of the rows.

    Args:
        X: ``(n, d)`` floats without NaN.
        y: ``(n,)`` class codes ``0..n_classes-1``.
        n_classes: Number of classes.
        _sorted: ``_Sorted(X)`` when already computed.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, n_classes: int,
                 _sorted: _Sorted | None = None) -> None:
        self.c = int(n_classes)
        srt = _sorted if _sorted is not None else _Sorted(X)
        slot, self.values, n_distinct = srt.slot, srt.values, srt.n_distinct
        self.size = int(self.values.size)
        self.end = np.cumsum(n_distinct)
        self.start = self.end - n_distinct
        self.column = np.repeat(np.arange(X.shape[1]), n_distinct)
        self.n_distinct = n_distinct
        # one (class, value) cell per entry; the table is (classes, values): each class's
        # counts are contiguous, and sums over classes add whole rows
        self.cells = y[:, None] * self.size + slot
        self.counts = self._count(self.cells)

    def _count(self, cells: np.ndarray) -> np.ndarray:
        return np.bincount(cells.ravel(), minlength=self.c * self.size).reshape(self.c, self.size)

    def predict(self, X_new: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Class codes a stump grown on all rows but ``exclude`` predicts for ``X_new``."""
        counts = self.counts if exclude is None else self.counts - self._count(self.cells[exclude])
        total = counts[:, self.start[0]:self.end[0]].sum(axis=1)  # the same in every column
        n = int(total.sum())
        majority = int(np.argmax(total))
        if n < 2:
            return np.full(X_new.shape[0], majority)
        cut = self._best_cut(counts, total, n)
        if cut is None:
            return np.full(X_new.shape[0], majority)
        j, threshold, left = cut
        left_class, right_class = int(np.argmax(left)), int(np.argmax(total - left))
        return np.where(X_new[:, j] <= threshold, left_class, right_class)

    def _best_cut(self, counts: np.ndarray, total: np.ndarray,
                  n: int) -> tuple[int, float, np.ndarray] | None:
        """``(attribute, threshold, class counts left of it)`` of the best cut, or None."""
        left = np.cumsum(counts, axis=1)
        before = np.zeros((self.c, self.start.size), dtype=left.dtype)
        before[:, 1:] = left[:, self.start[1:] - 1]
        left -= before[:, self.column]  # cumulative within each column
        present = counts.sum(axis=0) > 0
        # the next distinct value that some training row holds, within the same column
        following = np.where(present, np.arange(self.size), self.size)
        following = np.append(np.minimum.accumulate(following[::-1])[::-1][1:], self.size)
        valid = present & (following < self.end[self.column])
        lo = self.values
        hi = self.values[np.minimum(following, self.size - 1)]
        valid &= hi > lo + 1e-7
        n_left = left.sum(axis=0).astype(float)
        sq_left = (left * left).sum(axis=0).astype(float)
        right = total[:, None] - left
        sq_right = (right * right).sum(axis=0).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = sq_left / n_left + sq_right / (n - n_left)
        score = np.where(valid, score, -np.inf)
        best = int(np.argmax(score))  # column by column: the lowest attribute, then lowest cut
        if not np.isfinite(score[best]):
            return None
        threshold = _midpoint(lo[best], hi[best])
        return int(self.column[best]), threshold, left[:, best]


def _midpoint(lo: float, hi: float) -> float:
    """scikit-learn's threshold between two consecutive training values."""
    threshold = lo / 2.0 + hi / 2.0
    if threshold == hi or not np.isfinite(threshold):
        threshold = lo
    return float(threshold)


def stump(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """Labels a stump grown on ``(X_tr, y_tr)`` predicts for ``X_te`` (any label type)."""
    classes, codes = np.unique(y_tr, return_inverse=True)
    srt = _Sorted(X_tr)
    if _table_is_small(srt.n_distinct, classes.size, X_tr.size):
        return classes[StumpTable(X_tr, codes, classes.size, _sorted=srt).predict(X_te)]
    return classes[_walk(srt.xs, codes[srt.order], classes.size, X_te)]


def stump_sorted(X: np.ndarray, y: np.ndarray, order: np.ndarray, X_te: np.ndarray) -> np.ndarray:
    """A stump on the rows of ``X`` that ``order`` lists (column j sorted by ``order[:, j]``)."""
    classes, codes = np.unique(y[order[:, 0]], return_inverse=True)
    all_codes = np.zeros(y.shape[0], dtype=np.intp)
    all_codes[order[:, 0]] = codes
    xs = np.take_along_axis(X, order, axis=0).T
    return classes[_walk(np.ascontiguousarray(xs), all_codes[order].T, classes.size, X_te)]


def _walk(xs: np.ndarray, ys: np.ndarray, c: int, X_te: np.ndarray) -> np.ndarray:
    """Walk every column's sorted training rows; the class codes the best stump predicts.

    ``xs``, ``ys``: ``(d, n)`` each column's training values in increasing order, and their
    class codes. The class counts left of every cut are exact integers, so the scores are
    those of :class:`StumpTable` bit for bit. With two classes they come from one running
    count; with more, ``sum_k L_k^2`` after each sorted row is a running sum of
    ``2 * (rows of its class already left of it) + 1``, and
    ``sum_k R_k^2 = sum_k T_k^2 - 2 sum_k T_k L_k + sum_k L_k^2``, so no array has a class axis.
    """
    d, n = xs.shape
    total = np.bincount(ys[0], minlength=c)
    if n < 2 or c < 2:
        return np.full(X_te.shape[0], int(np.argmax(total)))
    n_left = np.arange(1, n, dtype=float)
    if c == 2:
        ones = np.cumsum(ys[:, :-1], axis=1)  # rows of class 1 left of each cut
        zeros = np.arange(1, n) - ones
        sq_left = (zeros * zeros + ones * ones).astype(float)
        right_ones, right_zeros = total[-1] - ones, total[0] - zeros
        sq_right = (right_zeros * right_zeros + right_ones * right_ones).astype(float)
    else:
        sq_left, sq_right = _squares_by_rank(ys, total.astype(float))
    score = sq_left / n_left + sq_right / (n - n_left)
    score = np.where(xs[:, 1:] > xs[:, :-1] + 1e-7, score, -np.inf)
    best = int(np.argmax(score))  # row by row: the lowest attribute, then its lowest cut
    j, pos = divmod(best, n - 1)
    if not np.isfinite(score[j, pos]):  # no attribute can be cut: a single leaf
        return np.full(X_te.shape[0], int(np.argmax(total)))
    threshold = _midpoint(xs[j, pos], xs[j, pos + 1])
    left = np.bincount(ys[j, :pos + 1], minlength=c)
    left_class, right_class = int(np.argmax(left)), int(np.argmax(total - left))
    return np.where(X_te[:, j] <= threshold, left_class, right_class)


def _squares_by_rank(ys: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_k L_k^2`` and ``sum_k R_k^2`` at every cut of every row of ``ys`` (see _walk)."""
    d, n = ys.shape
    small = np.uint8 if total.size < 256 else np.uint16 if total.size < 65536 else np.intp
    codes = ys.astype(small)
    by_class = np.argsort(codes, axis=1, kind="stable")  # radix sort for small integer types
    starts = np.concatenate([[0], np.cumsum(total)[:-1]])
    rank = np.empty((d, n))  # rows of the same class left of each sorted row
    in_class = np.arange(n)[None, :] - starts[np.take_along_axis(codes, by_class, axis=1)]
    np.put_along_axis(rank, by_class, in_class, axis=1)
    sq_left = np.cumsum(2.0 * rank + 1.0, axis=1)[:, :-1]
    cross = np.cumsum(total[codes], axis=1)[:, :-1]
    sq_right = (total**2).sum() - 2.0 * cross + sq_left
    return sq_left, sq_right
