"""Landmarkers: cross-validated accuracy of simple, fast learners.

Every landmarker is scored by stratified k-fold cross-validation (k = 10, or fewer when the
largest class has fewer than 10 instances; folds in data order, not shuffled, as pymfe's) and
returns one accuracy per fold (summarised: ``one_nn.mean``, ...). Missing values are replaced
by the training-fold-independent column mean (numeric) or most frequent code (categorical) of
the (sub)sample; categorical attributes enter as their integer codes.

References:
    Pfahringer, Bensusan & Giraud-Carrier (2000), Meta-learning by landmarking various
    learning algorithms, ICML; Bensusan & Giraud-Carrier (2000), Discovering task
    neighbourhoods through landmark learning performances.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cached_property

import numpy as np
from sklearn.model_selection import StratifiedKFold

from meta_features import _learners
from meta_features._context import Context
from meta_features._learners import ClassStats, one_nn_folds
from meta_features._registry import register
from meta_features._stump import fold_predictions

__all__: list[str] = []

L = "landmarking"


class _Folds:
    """The imputed data, its folds, the attribute importance ranking and per-fold class means.

    Every landmarker reads the folds from here, so the data are imputed and split once, the
    stumps share one sort of every column, and naive Bayes and LDA share each fold's class
    means.
    """

    def __init__(self, ctx: Context) -> None:
        self.X = _impute(ctx)
        self.y = ctx.data.y
        self.ctx = ctx
        self.n_classes = len(ctx.class_counts)
        self._class_stats: dict[int, ClassStats] = {}
        k = int(min(10, ctx.class_counts.max()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class smaller than k: stratified as well as can be
            self.splits = [] if k < 2 else list(StratifiedKFold(n_splits=k).split(self.X, self.y))

    @cached_property
    def rank(self) -> np.ndarray:
        """Attributes in increasing order of Gini importance in the model-based group's tree.

        One tree on all rows used (not one per training fold, as pymfe): ten fewer full trees,
        which dominate the cost of the landmarkers on large data.
        """
        from meta_features._model_based import _tree

        return np.argsort(_tree(self.ctx).importances, kind="stable")

    def score_fn(self, predict: Callable[[int, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Accuracy per fold of ``predict(fold, train_rows, test_rows) -> labels``."""
        return np.array([np.mean(predict(i, tr, te) == self.y[te])
                         for i, (tr, te) in enumerate(self.splits)])

    def class_stats(self, fold: int, X_train: np.ndarray) -> ClassStats:
        """Class means of the training rows of ``fold`` (``X_train``), shared by NB and LDA."""
        if fold not in self._class_stats:
            self._class_stats[fold] = ClassStats(X_train, self.y[self.splits[fold][0]])
        return self._class_stats[fold]

    def fit_predict(self, learner: Callable[..., np.ndarray]) -> np.ndarray:
        """Accuracy per fold of ``learner(X_train, y_train, X_test, class_stats)``."""
        def predict(i: int, train: np.ndarray, test: np.ndarray) -> np.ndarray:
            X_train = self.X[train]
            return learner(X_train, self.y[train], self.X[test], self.class_stats(i, X_train))

        return self.score_fn(predict)

    def accuracy(self, predictions: list[np.ndarray]) -> np.ndarray:
        """Accuracy per fold of the predictions for each fold's test rows."""
        pairs = zip(predictions, self.splits, strict=True)
        return np.array([np.mean(p == self.y[test]) for p, (_, test) in pairs])

    def stump(self, columns: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Accuracy per fold of a decision stump on ``columns`` (None: all attributes)."""
        X = self.X if columns is None else self.X[:, columns]
        return self.accuracy(fold_predictions(X, self.y, self.n_classes, self.splits))

    def one_nn(self, columns: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Accuracy per fold of 1-NN (Euclidean) on ``columns`` (None: all attributes)."""
        X = self.X if columns is None else self.X[:, columns]
        return self.accuracy(one_nn_folds(X, self.y, self.splits))


def _impute(ctx: Context) -> np.ndarray:
    X = ctx.data.X
    missing = np.isnan(X)
    if not missing.any():
        return X
    X = X.copy()
    for j in np.flatnonzero(missing.any(axis=0)):
        col = X[:, j]
        present = col[~np.isnan(col)]
        if present.size == 0:
            fill = 0.0
        elif ctx.data.categorical[j]:
            fill = float(np.bincount(present.astype(np.intp)).argmax())
        else:
            fill = float(present.mean())
        col[np.isnan(col)] = fill
    return X


def _folds(ctx: Context) -> _Folds | None:
    folds = ctx.memo("folds", lambda: _Folds(ctx))
    if not folds.splits:
        ctx.undefined("every class has a single instance: no cross-validation possible")
        return None
    return folds


@register("best_node", L, "Accuracy of a decision stump on all attributes.", cost="high", multi=True)
def best_node(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.stump()


def _on_one_attribute(ctx: Context, choose: Callable[[_Folds], int],
                      score: Callable[[_Folds, list[int]], np.ndarray]) -> np.ndarray:
    """Per-fold accuracy ``score(folds, [attribute])`` of the attribute ``choose(folds)`` picks."""
    f = _folds(ctx)
    return np.empty(0) if f is None else score(f, [choose(f)])


@register("random_node", L, "Accuracy of a decision stump on one attribute chosen with the seed.",
          cost="high", multi=True)
def random_node(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(ctx.rng(3).integers(ctx.data.d)), _Folds.stump)


@register("worst_node", L, "Accuracy of a decision stump on the attribute that the model-based "
          "group's full tree finds least important.", cost="high", multi=True)
def worst_node(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(f.rank[0]), _Folds.stump)


@register("elite_nn", L, "Accuracy of 1-NN on the attribute that the model-based group's "
          "full tree finds most important.", cost="high", multi=True)
def elite_nn(ctx: Context) -> np.ndarray:
    return _on_one_attribute(ctx, lambda f: int(f.rank[-1]), _Folds.one_nn)


@register("one_nn", L, "Accuracy of 1-NN (Euclidean) on all attributes.", cost="high", multi=True)
def one_nn(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.one_nn()


@register("naive_bayes", L, "Accuracy of Gaussian naive Bayes.", cost="high", multi=True)
def naive_bayes(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.fit_predict(_learners.naive_bayes)


@register("linear_discr", L, "Accuracy of linear discriminant analysis.", cost="high", multi=True)
def linear_discr(ctx: Context) -> np.ndarray:
    f = _folds(ctx)
    return np.empty(0) if f is None else f.fit_predict(_learners.lda)
