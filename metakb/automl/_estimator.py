"""``AutoMLClassifier``: a warm-started search that ends with a fitted model, not a configuration.

``fit`` runs BOHB over the ``sklearn-cash`` space (warm-started from the knowledge base, every
evaluation stored there), selects on cross-validation or a holdout chosen by the table's size
(:func:`metakb.automl.selection_protocol`), optionally builds a Caruana et al. (2004) ensemble
of the best pipelines from their out-of-fold probabilities, and refits the chosen pipeline(s)
on every row. The flow is :class:`metakb.automl._base.AutoMLBase`'s, shared with
:class:`~metakb.automl.AutoMLRegressor`; this module holds the classification hooks.

References: Caruana, Niculescu-Mizil, Crew, Ksikes (2004), "Ensemble selection from libraries of
models", ICML; Falkner, Klein, Hutter (2018), "BOHB: Robust and efficient hyperparameter
optimization at scale", ICML.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from metakb.automl._base import WARM_START_AUTO, AutoMLBase, _checked_xy, _frame_with_target
from metakb.automl._base import (
    _fit_pipeline as _fit_pipeline,  # re-exported: the model-file tests use it
)
from metakb.automl._ensemble import balanced_accuracy_of_proba
from metakb.automl._protocol import selection_protocol
from metakb.errors import DataError

__all__ = ["AutoMLClassifier", "WARM_START_AUTO", "FittedPipelines"]


class FittedPipelines:
    """Refitted classification pipelines and their ensemble weights: the part of a model that predicts.

    Attributes:
        classes: the class labels as the table holds them (strings), in probability-column order.
        members: ``(weight, configuration, pipeline)`` triples, weights summing to 1.
        columns: the training feature columns, in order; ``categorical`` says which are.
    """

    task = "classification"

    def __init__(self, classes: np.ndarray, members: list[tuple[float, dict[str, Any], Any]],
                 columns: list[str], categorical: np.ndarray) -> None:
        self.classes = np.asarray(classes)
        self.members = members
        self.columns = list(columns)
        self.categorical = np.asarray(categorical, dtype=bool)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Weighted mean of the members' probabilities (one-hot votes for a member without any)."""
        total = np.zeros((len(X), len(self.classes)))
        for weight, _, pipeline in self.members:
            total += weight * _aligned_proba(pipeline, X, self.classes)
        return total

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The class label (as a string) of the highest mean probability."""
        return self.classes[np.argmax(self.predict_proba(X), axis=1)]


def _aligned_proba(pipeline: Any, X: pd.DataFrame, classes: np.ndarray) -> np.ndarray:
    """``pipeline``'s probabilities over ``classes`` (a class it never saw gets 0)."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(X), len(classes)))
    raw = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            raw = pipeline.predict_proba(X)
        except AttributeError:  # e.g. SVC without probability estimates: a one-hot vote
            raw = None
        if raw is None:
            predicted = pipeline.predict(X)
            for row, label in enumerate(predicted):
                out[row, index[label]] = 1.0
            return out
    for j, label in enumerate(pipeline.classes_):
        out[:, index[label]] = raw[:, j]
    return out


class AutoMLClassifier(ClassifierMixin, AutoMLBase):
    """A classifier found by a warm-started BOHB search over scikit-learn pipelines.

    Args:
        time_budget: seconds for the whole ``fit`` (search, ensemble, refit); the search stops
            starting evaluations after 90 % of it (75 % with an ensemble), so a last slow fit
            can overrun it. None: no time limit (then ``n_evaluations`` is needed).
        n_evaluations: stop after this many evaluations (as well). ``0``: zero-shot, no search:
            the top-1 recommendation of the knowledge base (kNN on meta-features) is refitted.
        warm_start: ``auto`` (the warm start measured best: ``knn``; ``none`` where the knowledge
            base holds no scores of the space on another dataset), ``none``, ``knn`` or
            ``portfolio`` (``False`` is read as ``none``).
        n_jobs: evaluations at once; > 1 runs them on a Dask LocalCluster, a string is the
            address of an existing Dask scheduler.
        seed: seeds the search, the splits and every model.
        kb: a knowledge-base path, an open :class:`metakb.store.KnowledgeBase`, ``":memory:"``
            (a throw-away one) or None (the user's own, seeded from the shipped one).
        ensemble_size: rounds of greedy ensemble selection (Caruana et al. 2004) over the
            out-of-fold probabilities of the best evaluated pipelines; 1 refits the single best.
        exclude_datasets: knowledge-base dataset names the warm start must not learn from; the
            training data itself is excluded by content hash automatically.
        protocol: ``auto`` (:func:`metakb.automl.selection_protocol` by row count) or an explicit
            protocol such as ``cv:5`` or ``holdout:0.33:max_rows=1500``.
        space: the search space.
        timeout: seconds per evaluation.
        progress: show a progress bar during the search.

    Attributes:
        classes_: the class labels.
        best_config_: the configuration with the best internal score.
        best_score_: its internal (cross-validated or holdout) balanced accuracy.
        ensemble_score_: the internal score of the ensemble (out-of-fold), None with one member.
        leaderboard_: pandas frame, best first: configuration, classifier, score, budget,
            fit_seconds, status.
        cv_results_: the search history as a dict of arrays (``params``, ``mean_test_score``,
            ``budget``, ``mean_fit_time``, ``status``, ``rank_test_score``), as in scikit-learn.
        ensemble_: ``(weight, configuration)`` of the refitted members.
        protocol_: the protocol the search selected on; run_id_: the knowledge-base run;
        warm_start_: the warm start the search used (``knn`` for a zero-shot fit).
        training_hash_: the training table's content hash; feature_names_in_, n_features_in_.
    """

    _task: ClassVar[str] = "classification"
    _model_key: ClassVar[str] = "classifier"

    def __init__(self, time_budget: float | None = 60.0, n_evaluations: int | None = None,
                 warm_start: str = "auto", n_jobs: int | str = 1, seed: int = 0,
                 kb: Any = None, ensemble_size: int = 10,
                 exclude_datasets: Sequence[str] = (), protocol: str = "auto",
                 space: str = "sklearn-cash", timeout: float = 300.0,
                 progress: bool = False) -> None:
        super().__init__(time_budget=time_budget, n_evaluations=n_evaluations, warm_start=warm_start,
                         n_jobs=n_jobs, seed=seed, kb=kb, ensemble_size=ensemble_size,
                         exclude_datasets=exclude_datasets, protocol=protocol, space=space,
                         timeout=timeout, progress=progress)

    # ------------------------------------------------------------------ task hooks
    def _table_from_xy(self, X: Any, y: Any) -> tuple[Any, dict[str, Any] | None]:
        return _table_from_xy(X, y)

    def _auto_protocol(self, table: Any) -> str:
        _, counts = np.unique(table.y, return_counts=True)
        return selection_protocol(table.n_rows, int(counts.min()))

    def _ensemble_target(self, data: Any) -> np.ndarray:
        return np.searchsorted(data.classes, data.y)

    def _oof_output(self, pipeline: Any, X: pd.DataFrame, data: Any) -> np.ndarray:
        return _aligned_proba(pipeline, X, data.classes)

    def _ensemble_objective(self) -> Callable[[np.ndarray, np.ndarray], float]:
        return balanced_accuracy_of_proba

    def _fitted_pipelines(self, table: Any, members: list[tuple[float, dict[str, Any], Any]]
                          ) -> FittedPipelines:
        return FittedPipelines(table.classes, members, self.columns_, self.categorical_)

    def _set_targets(self, table: Any, labels: dict[str, Any] | None) -> None:
        if labels is None:  # a loaded table: its text labels are the classes
            labels = {str(c): c for c in np.unique(table.y)}
        self.labels_ = labels
        self.classes_ = np.array([labels[c] for c in table.classes])

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        frame = self._frame(X)  # checks that the estimator is fitted first
        return self.pipelines_.predict_proba(frame)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class labels (of the type given to ``fit``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _table_from_xy(X: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    """A :class:`metakb.data.Table` of ``X``, ``y`` and the map from its labels back to ``y``'s."""
    from metakb.data import table_from_frame

    frame, y = _checked_xy(X, y, "AutoMLClassifier", "two rows of two classes")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise DataError("Input y contains NaN or infinity")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise DataError("Unknown label type: continuous target values; AutoMLClassifier classifies")
    frame, target = _frame_with_target(frame, y)
    table = table_from_frame(frame, target, name="fit-data", source="array")
    if table.n_rows != len(y):
        raise DataError("y has missing labels")
    labels: dict[str, Any] = {}
    for text, original in zip(table.y, y, strict=True):
        if labels.setdefault(text, original) != original:
            raise DataError(f"labels {labels[text]!r} and {original!r} are the same class as text")
    return table, labels
