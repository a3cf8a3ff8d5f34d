"""The fit flow both AutoML estimators share: search -> (ensemble) -> refit, with task hooks.

:class:`AutoMLBase` holds every step that does not depend on the task type -- parameter
checks, the warm-started BOHB search (:func:`metakb.workflows.optimize.optimize_table`) or the
zero-shot recommendation, the leaderboard, Caruana et al.'s ensemble selection on out-of-fold
predictions of the protocol's own splits, and the refit on every row. A subclass
(:class:`~metakb.automl.AutoMLClassifier`, :class:`~metakb.automl.AutoMLRegressor`) supplies
only the task-specific parts as small hooks:

* ``_task`` / ``_model_key``: the task type and the configuration key naming the model;
* :meth:`AutoMLBase._table_from_xy`: typing ``X``, ``y`` into a :class:`metakb.data.Table`;
* :meth:`AutoMLBase._auto_protocol`: the selection protocol of ``protocol="auto"``;
* :meth:`AutoMLBase._oof_output` / :meth:`AutoMLBase._ensemble_target` /
  :meth:`AutoMLBase._ensemble_objective`: what the ensemble selection averages and scores;
* :meth:`AutoMLBase._fitted_pipelines` / :meth:`AutoMLBase._set_targets`: the refitted
  predictor and the target attributes (``classes_``).

References: Caruana, Niculescu-Mizil, Crew, Ksikes (2004), "Ensemble selection from libraries of
models", ICML; Falkner, Klein, Hutter (2018), "BOHB: Robust and efficient hyperparameter
optimization at scale", ICML.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from metakb.automl._ensemble import ensemble_selection
from metakb.errors import ConfigError, DataError, NotFoundError

__all__ = ["AutoMLBase", "WARM_START_AUTO"]

# "auto": the warm start the benchmarks measured best (kNN recommendations + similarity-weighted
# prior: mean rank 2.80 against 3.85 for the portfolio at 60 s, docs/benchmarks.md).
WARM_START_AUTO = "knn"
_WARM_STARTS = ("auto", "none", "knn", "portfolio")
# share of time_budget left to the search; the rest is for out-of-fold predictions and refits
_SEARCH_SHARE = {True: 0.75, False: 0.9}
# pipelines of the leaderboard that may enter the ensemble
_ENSEMBLE_CANDIDATES = 10


class AutoMLBase(BaseEstimator):
    """The shared flow of :class:`AutoMLClassifier` and :class:`AutoMLRegressor` (not public).

    ``fit`` / ``fit_table`` check the parameters, type the data (hook), choose the protocol
    (hook), search or recommend, build the leaderboard, select an ensemble on out-of-fold
    outputs (hooks) and refit the members on every row. See the subclasses for the parameters.
    """

    _task: ClassVar[str]
    _model_key: ClassVar[str]

    def __init__(self, time_budget: float | None = 60.0, n_evaluations: int | None = None,
                 warm_start: str = "auto", n_jobs: int | str = 1, seed: int = 0,
                 kb: Any = None, ensemble_size: int = 10,
                 exclude_datasets: Sequence[str] = (), protocol: str = "auto",
                 space: str = "sklearn-cash", timeout: float = 300.0,
                 progress: bool = False) -> None:
        self.time_budget = time_budget
        self.n_evaluations = n_evaluations
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.seed = seed
        self.kb = kb
        self.ensemble_size = ensemble_size
        self.exclude_datasets = exclude_datasets
        self.protocol = protocol
        self.space = space
        self.timeout = timeout
        self.progress = progress

    # ------------------------------------------------------------------ task hooks
    def _table_from_xy(self, X: Any, y: Any) -> tuple[Any, dict[str, Any] | None]:
        """A table of the task from ``X``, ``y`` and the map from its labels back to ``y``'s."""
        raise NotImplementedError

    def _auto_protocol(self, table: Any) -> str:
        """The selection protocol of ``protocol="auto"`` for ``table``."""
        raise NotImplementedError

    def _ensemble_target(self, data: Any) -> np.ndarray:
        """What the ensemble objective compares the mixed outputs with (per row of ``data``)."""
        raise NotImplementedError

    def _oof_output(self, pipeline: Any, X: pd.DataFrame, data: Any) -> np.ndarray:
        """A fitted pipeline's output on test rows ``X``, the quantity the ensemble averages."""
        raise NotImplementedError

    def _ensemble_objective(self) -> Callable[[np.ndarray, np.ndarray], float]:
        """Higher-is-better score of (ensemble target, weighted mean of member outputs)."""
        raise NotImplementedError

    def _fitted_pipelines(self, table: Any, members: list[tuple[float, dict[str, Any], Any]]) -> Any:
        """The object that predicts from the refitted ``(weight, configuration, pipeline)`` members."""
        raise NotImplementedError

    def _set_targets(self, table: Any, labels: dict[str, Any] | None) -> None:
        """Set the target's fitted attributes (the classifier's ``classes_``; ``labels`` maps the
        table's labels to those given to ``fit``, None for a loaded table); none by default."""

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        name = type(self).__name__

        def bad(param: str, expected: str, value: Any) -> ConfigError:
            return ConfigError(f"The {param!r} parameter of {name} must be {expected}. "
                               f"Got {value!r} instead.")

        tb = self.time_budget
        if tb is not None and (isinstance(tb, bool) or not isinstance(tb, (int, float))
                               or not np.isfinite(tb) or tb <= 0):
            raise bad("time_budget", "a number of seconds in (0, inf) or None", tb)
        ne = self.n_evaluations
        if ne is not None and (isinstance(ne, bool) or not isinstance(ne, (int, np.integer)) or ne < 0):
            raise bad("n_evaluations", "an int in [0, inf) or None", ne)
        if tb is None and ne is None:
            raise ConfigError(f"{name} needs a limit: time_budget or n_evaluations")
        if self.warm_start is not False and self.warm_start not in _WARM_STARTS:
            raise bad("warm_start", f"one of {list(_WARM_STARTS)}", self.warm_start)
        nj = self.n_jobs
        if not isinstance(nj, str) and (isinstance(nj, bool) or not isinstance(nj, (int, np.integer))
                                        or nj < 1):
            raise bad("n_jobs", "an int in [1, inf) or a Dask scheduler address", nj)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise bad("seed", "an int in [0, inf)", self.seed)
        es = self.ensemble_size
        if isinstance(es, bool) or not isinstance(es, (int, np.integer)) or es < 1:
            raise bad("ensemble_size", "an int in [1, inf)", es)
        if isinstance(self.exclude_datasets, str) or not all(
                isinstance(n, str) for n in self.exclude_datasets):
            raise bad("exclude_datasets", "a list of dataset names", self.exclude_datasets)
        if not isinstance(self.protocol, str):
            raise bad("protocol", "'auto' or a protocol such as 'cv:5'", self.protocol)
        if self.protocol != "auto":
            from metakb.evaluation import Protocol

            Protocol.parse(self.protocol)
        if not isinstance(self.space, str):
            raise bad("space", "the name of a search space", self.space)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or self.timeout <= 0:
            raise bad("timeout", "a number of seconds in (0, inf)", self.timeout)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> Any:
        """Search, select and refit on ``X`` (array or DataFrame; text columns are categorical), ``y``."""
        self._check_params()
        table, labels = self._table_from_xy(X, y)
        self._fit(self._typed(table), labels)
        self.feature_names_in_ = np.asarray(table.X.columns, dtype=object) \
            if isinstance(X, pd.DataFrame) else None
        if self.feature_names_in_ is None:
            del self.feature_names_in_
        return self

    def fit_table(self, table: Any) -> Any:
        """Fit on a loaded :class:`metakb.data.Table` (what ``metakb fit`` does)."""
        self._check_params()
        self._fit(self._typed(table), None)
        self.feature_names_in_ = np.asarray(table.X.columns, dtype=object)
        return self

    def _typed(self, table: Any) -> Any:
        """``table`` fitted to the estimator's task, the space checked against it (one-line errors)."""
        from metakb.workflows.task import resolve_task

        return resolve_task(table, task=self._task, space=self.space).table

    def _fit(self, table: Any, labels: dict[str, Any] | None) -> None:
        start = time.perf_counter()
        protocol = self._auto_protocol(table) if self.protocol == "auto" else self.protocol
        self.protocol_ = protocol
        self.training_hash_ = table.content_hash()
        self.n_features_in_ = table.n_features
        self.columns_ = list(table.X.columns)
        self.categorical_ = np.asarray(table.categorical, dtype=bool)
        self.target_ = table.target
        with _open(self.kb, type(self).__name__) as kb:
            if self.n_evaluations == 0:
                self.warm_start_ = "knn"
                history, self.run_id_ = self._zero_shot(table, kb), None
            else:
                self.warm_start_ = self._warm_start_used(kb)
                history, self.run_id_ = self._search(table, kb, protocol, self.warm_start_, start)
        self.leaderboard_ = _leaderboard(history, self._model_key)
        self.cv_results_ = _cv_results(history)
        candidates = _candidates(self.leaderboard_)
        if not candidates:  # nothing finished: scikit-learn's HGB defaults, so fit still ends with a model
            from metakb.spaces import get_search_space

            candidates = [get_search_space(self.space).defaults()["hist_gradient_boosting"]]
        self.best_config_ = dict(candidates[0])
        ok = self.leaderboard_[self.leaderboard_["status"] == "ok"]
        self.best_score_ = float(ok["score"].iloc[0]) if len(ok) else None
        weights, self.ensemble_score_ = [1.0], None
        if self.ensemble_size > 1 and len(candidates) > 1:
            deadline = None if self.time_budget is None else start + 0.9 * self.time_budget
            weights, candidates, self.ensemble_score_ = self._select_ensemble(
                table, candidates, protocol, deadline)
        members = []
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            for weight, config in zip(weights, candidates, strict=True):
                if weight > 0:
                    members.append((float(weight), dict(config), _fit_pipeline(table, config,
                                                                                 self.seed)))
        self.pipelines_ = self._fitted_pipelines(table, members)
        self.ensemble_ = [(w, c) for w, c, _ in members]
        self._set_targets(table, labels)
        self.fit_seconds_ = time.perf_counter() - start

    def _warm_start_used(self, kb: Any) -> str:
        """The search's warm start: ``auto`` is :data:`WARM_START_AUTO` where the knowledge base
        holds scores of the space on a dataset other than the training data and the excluded
        ones, else ``none`` (nothing to learn from, e.g. a fresh or classification-only store);
        ``False`` (scikit-learn's meaning of a ``warm_start`` parameter, set by its checks) is
        ``none``; an explicit ``knn`` or ``portfolio`` is used as given (refused without data)."""
        if self.warm_start is False:
            return "none"
        if self.warm_start != "auto":
            return str(self.warm_start)
        from metakb.evaluation.metrics import DEFAULT_METRIC

        try:
            kb.get_space(self.space)
            matrix = kb.performance_matrix(self.space, metric=DEFAULT_METRIC[self._task])
        except NotFoundError:
            return "none"
        itself = kb.find_dataset(self.training_hash_)
        others = set(matrix.dropna(how="all").index) - set(self.exclude_datasets)
        others -= {itself["name"]} if itself is not None else set()
        return WARM_START_AUTO if others else "none"

    def _search(self, table: Any, kb: Any, protocol: str, warm: str, start: float
                ) -> tuple[pd.DataFrame, str]:
        from metakb.workflows.optimize import optimize_table

        budget = None
        if self.time_budget is not None:
            budget = max(self.time_budget * _SEARCH_SHARE[self.ensemble_size > 1]
                         - (time.perf_counter() - start), 1e-3)
        report = optimize_table(
            table, kb, time_budget=budget, n_evaluations=self.n_evaluations, space=self.space,
            protocol=protocol, warm_start=warm, seed=int(self.seed), timeout=float(self.timeout),
            n_workers=1 if isinstance(self.n_jobs, str) else int(self.n_jobs),
            scheduler=self.n_jobs if isinstance(self.n_jobs, str) else None,
            progress=self.progress, exclude_datasets=list(self.exclude_datasets), task=self._task)
        frame = kb.evaluations(run_id=report.run_id)
        if frame.empty:
            return pd.DataFrame(columns=["configuration", "value", "budget", "fit_seconds",
                                         "status"]), report.run_id
        configs = {int(i): row["config"] for i, row in kb.configurations(self.space).iterrows()}
        frame["configuration"] = [configs[int(i)] for i in frame["configuration_id"]]
        return frame, report.run_id

    def _zero_shot(self, table: Any, kb: Any) -> pd.DataFrame:
        from metakb.workflows.recommend import recommend

        report = recommend(table, kb, k=1, method="knn", space=self.space, task=self._task,
                           exclude_datasets=list(self.exclude_datasets))
        rec = report.recommendations[0]
        return pd.DataFrame([{"configuration": dict(rec.config), "value": np.nan, "budget": 1.0,
                              "fit_seconds": np.nan, "status": "recommended"}])

    def _select_ensemble(self, table: Any, candidates: list[dict[str, Any]], protocol: str,
                         deadline: float | None
                         ) -> tuple[list[float], list[dict[str, Any]], float | None]:
        """Weights from the candidates' out-of-fold outputs on the protocol's own splits.

        Each candidate is refitted on the protocol's training folds (the same seeded splits as
        the search); candidates are added best first while time is left (``deadline``). Rows
        that are in no test fold (a holdout) are left out of the selection.
        """
        from metakb.evaluation import Protocol, prepare_table, split_indices

        seed = self.seed
        proto = Protocol.for_task(protocol, self._task)
        data = prepare_table(table, proto, seed)
        splits = split_indices(data.y, proto, seed)
        tested = np.zeros(data.n_rows, dtype=bool)
        for _, test in splits:
            tested[test] = True
        target = self._ensemble_target(data)
        predictions: list[np.ndarray] = []
        kept: list[dict[str, Any]] = []
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            for config in candidates:
                if deadline is not None and kept and time.perf_counter() > deadline:
                    break
                oof: np.ndarray | None = None
                try:
                    for train, test in splits:
                        pipeline = _fit_pipeline(data, config, seed, train)
                        out = self._oof_output(pipeline, data.X.iloc[test], data)
                        if oof is None:
                            oof = np.zeros((data.n_rows, *out.shape[1:]))
                        oof[test] = out
                except Exception:  # noqa: BLE001 - a candidate that fails here is left out
                    continue
                if oof is None or not np.all(np.isfinite(oof[tested])):
                    continue  # e.g. a diverged regressor: it cannot enter a mean
                predictions.append(oof[tested])
                kept.append(config)
        if len(kept) <= 1:
            return [1.0], kept[:1] or candidates[:1], None
        stacked = np.stack(predictions)
        objective = self._ensemble_objective()
        weights = ensemble_selection(stacked, target[tested], int(self.ensemble_size), score=objective)
        mixed = np.tensordot(weights, stacked, axes=1)
        return list(weights), kept, objective(target[tested], mixed)

    # ------------------------------------------------------------------ predict
    def _frame(self, X: Any) -> pd.DataFrame:
        from metakb.automl._frame import coerce_features

        check_is_fitted(self, "pipelines_")
        frame = _as_frame(X, self.columns_ if not isinstance(X, pd.DataFrame) else None,
                          type(self).__name__)
        if not isinstance(X, pd.DataFrame) and frame.shape[1] != self.n_features_in_:
            raise DataError(f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                            f"{self.n_features_in_} features as input")
        return coerce_features(frame, self.columns_, self.categorical_, target=self.target_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags


# ---------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _open(kb: Any, owner: str = "AutoMLClassifier") -> Iterator[Any]:
    from metakb.store import KnowledgeBase, open_kb

    if isinstance(kb, KnowledgeBase):
        yield kb
        return
    if kb is not None and not isinstance(kb, (str, Path)):
        raise ConfigError(f"The 'kb' parameter of {owner} must be a path, a KnowledgeBase, "
                          f"':memory:' or None. Got {kb!r} instead.")
    with (KnowledgeBase(":memory:") if kb == ":memory:" else open_kb(kb)) as opened:
        yield opened


def _as_frame(X: Any, columns: list[str] | None, owner: str = "AutoMLClassifier") -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise DataError(f"{owner} does not accept sparse input; pass a dense array or DataFrame")
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"Expected 2D array, got an array of shape {array.shape} instead; Reshape your "
                        "data with array.reshape(-1, 1) or array.reshape(1, -1)")
    if array.dtype.kind == "c":
        raise DataError("Complex data not supported")
    names = columns if columns is not None and len(columns) == array.shape[1] else \
        [f"x{j}" for j in range(array.shape[1])]
    return pd.DataFrame(array, columns=names)


def _checked_xy(X: Any, y: Any, owner: str, rows_needed: str) -> tuple[pd.DataFrame, np.ndarray]:
    """``X`` as a frame and ``y`` as a 1-d array of one value per row, refused with one line if not.

    ``rows_needed`` completes the one-row message (``two rows of two classes``, ``two rows``).
    """
    if y is None:
        raise DataError(f"{owner} requires y to be passed, but the target y is None")
    frame = _as_frame(X, None, owner)
    if frame.shape[0] == 1:
        raise DataError(f"n_samples = 1: {owner} needs at least {rows_needed}")
    if frame.shape[0] == 0:
        raise DataError(f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is required")
    if frame.shape[1] == 0:
        raise DataError(f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is required")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected",
                      DataConversionWarning, stacklevel=5)
        y = y.ravel()
    if y.ndim != 1 or len(y) != len(frame):
        raise DataError(f"y must be one value per row of X ({len(frame)}); got shape {y.shape}")
    return frame, y


def _frame_with_target(frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, str]:
    """``frame`` with string column names and ``y`` appended under a name no feature has."""
    target = "__target__"
    while target in frame.columns:
        target += "_"
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        raise DataError("X has duplicate column names")
    frame[target] = y
    return frame, target


def _leaderboard(history: pd.DataFrame, key: str = "classifier") -> pd.DataFrame:
    columns = ["configuration", key, "score", "budget", "fit_seconds", "status"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({
        "configuration": list(history["configuration"]),
        key: [c.get(key) for c in history["configuration"]],
        "score": pd.to_numeric(history["value"], errors="coerce"),
        "budget": pd.to_numeric(history["budget"], errors="coerce"),
        "fit_seconds": pd.to_numeric(history["fit_seconds"], errors="coerce"),
        "status": list(history["status"])})
    # full-budget results first, then by score; failures last
    order = frame.assign(_ok=frame["status"].isin(["ok", "recommended"]))
    order = order.sort_values(["_ok", "budget", "score"], ascending=[False, False, False],
                              kind="stable", na_position="last")
    return order.drop(columns="_ok").reset_index(drop=True)


def _cv_results(history: pd.DataFrame) -> dict[str, np.ndarray]:
    if history.empty:
        return {"params": np.array([], dtype=object), "mean_test_score": np.array([])}
    scores = pd.to_numeric(history["value"], errors="coerce").to_numpy(dtype=float)
    ranks = pd.Series(scores).rank(ascending=False, method="min", na_option="bottom")
    params = np.empty(len(history), dtype=object)
    params[:] = [dict(c) for c in history["configuration"]]
    return {"params": params, "mean_test_score": scores,
            "budget": pd.to_numeric(history["budget"], errors="coerce").to_numpy(dtype=float),
            "mean_fit_time": pd.to_numeric(history["fit_seconds"], errors="coerce").to_numpy(dtype=float),
            "status": history["status"].to_numpy(dtype=object),
            "rank_test_score": ranks.to_numpy(dtype=int)}


def _candidates(leaderboard: pd.DataFrame) -> list[dict[str, Any]]:
    """Distinct configurations of the best results, best first: full budget when any finished."""
    ok = leaderboard[leaderboard["status"].isin(["ok", "recommended"])]
    if ok.empty:
        return []
    top_budget = ok["budget"].max()
    ok = ok[np.isclose(ok["budget"], top_budget)]
    seen, out = set(), []
    for config in ok["configuration"]:
        key = repr(sorted(config.items()))
        if key not in seen:
            seen.add(key)
            out.append(dict(config))
        if len(out) >= _ENSEMBLE_CANDIDATES:
            break
    return out


def _fit_pipeline(table: Any, config: dict[str, Any], seed: int, rows: np.ndarray | None = None) -> Any:
    """The pipeline of ``config`` (a classifier's or a regressor's) fitted on ``rows`` of ``table``."""
    from metakb.spaces import make_pipeline

    X, y = (table.X, table.y) if rows is None else (table.X.iloc[rows], table.y[rows])
    pipeline = make_pipeline(config, table.categorical, seed=seed, n_rows=len(y))
    return pipeline.fit(X, y)
