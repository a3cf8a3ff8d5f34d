"""``AutoMLRegressor``: the regression twin of :class:`~metakb.automl.AutoMLClassifier`.

The same flow (:class:`metakb.automl._base.AutoMLBase`): a warm-started BOHB search over the
``sklearn-cash-regression`` space, selection on a protocol fitted to the data size, a Caruana
et al. (2004) ensemble of the best pipelines chosen on their out-of-fold predictions by R²
(minimum squared error), and a refit on every row. This module holds the regression hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin

from metakb.automl._base import AutoMLBase, _checked_xy, _frame_with_target
from metakb.automl._ensemble import r2_of_predictions
from metakb.automl._protocol import selection_protocol

__all__ = ["AutoMLRegressor", "FittedRegressionPipelines"]


class FittedRegressionPipelines:
    """Refitted regression pipelines and their ensemble weights: the part of a model that predicts.

    Attributes:
        members: ``(weight, configuration, pipeline)`` triples, weights summing to 1.
        columns: the training feature columns, in order; ``categorical`` says which are.
    """

    task = "regression"

    def __init__(self, members: list[tuple[float, dict[str, Any], Any]], columns: list[str],
                 categorical: np.ndarray) -> None:
        self.members = members
        self.columns = list(columns)
        self.categorical = np.asarray(categorical, dtype=bool)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The weighted mean of the members' predictions (float64)."""
        total = np.zeros(len(X))
        for weight, _, pipeline in self.members:
            total += weight * _predictions(pipeline, X)
        return total


def _predictions(pipeline: Any, X: pd.DataFrame) -> np.ndarray:
    return np.asarray(pipeline.predict(X), dtype=float).ravel()


class AutoMLRegressor(RegressorMixin, AutoMLBase):
    """A regressor found by a warm-started BOHB search over scikit-learn pipelines.

    The flow and the parameters are :class:`~metakb.automl.AutoMLClassifier`'s; what differs:

    * the target must be numbers: finite, at least two distinct values, none missing (else one
      :class:`~metakb.errors.DataError` line, :func:`metakb.data.regression_target`); class
      labels such as ``"yes"`` are refused, never coded as numbers;
    * the search space is ``sklearn-cash-regression`` and every evaluation's value is R²;
    * ``protocol="auto"`` selects by row count alone, with the classifier's thresholds
      (:func:`metakb.automl.selection_protocol`): up to 5000 rows ``cv:5`` (shuffled, seeded
      ``KFold`` on every row); up to 20000 rows ``cv:3:max_rows=5000`` (a seeded random
      5000-row subsample); beyond, ``holdout:0.2:max_rows=20000``. There are no classes, so
      neither stratification nor the rare-class fold reduction applies;
    * the ensemble (Caruana et al. 2004, greedy selection with replacement) averages the
      candidates' out-of-fold predictions and maximises their R², i.e. minimises the squared
      error of the mean prediction;
    * ``predict`` returns floats, the weighted mean of the members' predictions; ``score`` is
      R² (:class:`~sklearn.base.RegressorMixin`).

    Args:
        time_budget: seconds for the whole ``fit`` (search, ensemble, refit); None: no time
            limit (then ``n_evaluations`` is needed).
        n_evaluations: stop after this many evaluations (as well). ``0``: zero-shot, no search:
            the top-1 recommendation of the knowledge base (kNN on meta-features) is refitted.
        warm_start: ``auto`` (``knn``; ``none`` where the knowledge base holds no scores of the
            space on another dataset, e.g. one built for classification only), ``none``,
            ``knn`` or ``portfolio``.
        n_jobs: evaluations at once (> 1: a Dask LocalCluster; a string: a scheduler address).
        seed: seeds the search, the splits and every model.
        kb: a knowledge-base path, an open KnowledgeBase, ``":memory:"`` or None (the user's own).
        ensemble_size: rounds of greedy ensemble selection; 1 refits the single best.
        exclude_datasets: knowledge-base dataset names the warm start must not learn from; the
            training data itself is excluded by content hash automatically.
        protocol: ``auto`` (the rule above) or an explicit protocol such as ``cv:5``.
        space: the search space (a regression space).
        timeout: seconds per evaluation.
        progress: show a progress bar during the search.

    Attributes:
        best_config_: the configuration with the best internal score.
        best_score_: its internal (cross-validated or holdout) R².
        ensemble_score_: the internal R² of the ensemble (out-of-fold), None with one member.
        leaderboard_: pandas frame, best first: configuration, regressor, score, budget,
            fit_seconds, status.
        cv_results_: the search history as a dict of arrays, as in scikit-learn.
        ensemble_: ``(weight, configuration)`` of the refitted members.
        protocol_: the protocol the search selected on; run_id_: the knowledge-base run;
        warm_start_: the warm start the search used (``knn`` for a zero-shot fit).
        training_hash_: the training table's content hash; feature_names_in_, n_features_in_.
    """

    _task: ClassVar[str] = "regression"
    _model_key: ClassVar[str] = "regressor"

    def __init__(self, time_budget: float | None = 60.0, n_evaluations: int | None = None,
                 warm_start: str = "auto", n_jobs: int | str = 1, seed: int = 0,
                 kb: Any = None, ensemble_size: int = 10,
                 exclude_datasets: Sequence[str] = (), protocol: str = "auto",
                 space: str = "sklearn-cash-regression", timeout: float = 300.0,
                 progress: bool = False) -> None:
        super().__init__(time_budget=time_budget, n_evaluations=n_evaluations, warm_start=warm_start,
                         n_jobs=n_jobs, seed=seed, kb=kb, ensemble_size=ensemble_size,
                         exclude_datasets=exclude_datasets, protocol=protocol, space=space,
                         timeout=timeout, progress=progress)

    # ------------------------------------------------------------------ task hooks
    def _table_from_xy(self, X: Any, y: Any) -> tuple[Any, dict[str, Any] | None]:
        return _table_from_xy(X, y), None

    def _auto_protocol(self, table: Any) -> str:
        return selection_protocol(table.n_rows)

    def _ensemble_target(self, data: Any) -> np.ndarray:
        return np.asarray(data.y, dtype=float)

    def _oof_output(self, pipeline: Any, X: pd.DataFrame, data: Any) -> np.ndarray:
        return _predictions(pipeline, X)

    def _ensemble_objective(self) -> Callable[[np.ndarray, np.ndarray], float]:
        return r2_of_predictions

    def _fitted_pipelines(self, table: Any, members: list[tuple[float, dict[str, Any], Any]]
                          ) -> FittedRegressionPipelines:
        return FittedRegressionPipelines(members, self.columns_, self.categorical_)

    # ------------------------------------------------------------------ predict
    def predict(self, X: Any) -> np.ndarray:
        """The predicted values (float64), the weighted mean of the ensemble members'."""
        frame = self._frame(X)  # checks that the estimator is fitted first
        return self.pipelines_.predict(frame)


def _table_from_xy(X: Any, y: Any) -> Any:
    """A regression :class:`metakb.data.Table` of ``X`` and ``y`` (the target as float64).

    Raises:
        DataError: bad ``X``; a ``y`` that is not one number per row, or has a missing,
            non-numeric or infinite value, or is constant (one line each).
    """
    from metakb.data import regression_target, table_from_frame

    frame, y = _checked_xy(X, y, "AutoMLRegressor", "two rows")
    values = regression_target(y, name="y")
    frame, target = _frame_with_target(frame, values)
    table = table_from_frame(frame, target, name="fit-data", source="array")
    return replace(table, y=values, notes={**table.notes, "task": "regression"})
