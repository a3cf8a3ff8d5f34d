"""``AutoMLClassifier``: a warm-started search that ends with a fitted model, not a configuration.

``fit`` runs BOHB over the ``sklearn-cash`` space (warm-started from the knowledge base, every
evaluation stored there), selects on cross-validation or a holdout chosen by the table's size
(:func:`metakb.automl.selection_protocol`), optionally builds a Caruana et al. (2004) ensemble
of the best pipelines from their out-of-fold probabilities, and refits the chosen pipeline(s)
on every row.

References: Caruana, Niculescu-Mizil, Crew, Ksikes (2004), "Ensemble selection from libraries of
models", ICML; Falkner, Klein, Hutter (2018), "BOHB: Robust and efficient hyperparameter
optimization at scale", ICML.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from metakb.automl._ensemble import ensemble_selection
from metakb.automl._protocol import selection_protocol
from metakb.errors import ConfigError, DataError

__all__ = ["AutoMLClassifier", "WARM_START_AUTO", "FittedPipelines"]

# "auto": the warm start the benchmarks measured best (kNN recommendations + similarity-weighted
# prior: mean rank 2.80 against 3.85 for the portfolio at 60 s, docs/benchmarks.md).
WARM_START_AUTO = "knn"
_WARM_STARTS = ("auto", "none", "knn", "portfolio")
# share of time_budget left to the search; the rest is for out-of-fold predictions and refits
_SEARCH_SHARE = {True: 0.75, False: 0.9}
# pipelines of the leaderboard that may enter the ensemble
_ENSEMBLE_CANDIDATES = 10


class FittedPipelines:
    """Refitted pipelines and their ensemble weights: the part of a model that predicts.

    Attributes:
        classes: the class labels as the table holds them (strings), in probability-column order.
        members: ``(weight, configuration, pipeline)`` triples, weights summing to 1.
        columns: the training feature columns, in order; ``categorical`` says which are.
    """

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


class AutoMLClassifier(ClassifierMixin, BaseEstimator):
    """A classifier found by a warm-started BOHB search over scikit-learn pipelines.

    Args:
        time_budget: seconds for the whole ``fit`` (search, ensemble, refit); the search stops
            starting evaluations after 90 % of it (75 % with an ensemble), so a last slow fit
            can overrun it. None: no time limit (then ``n_evaluations`` is needed).
        n_evaluations: stop after this many evaluations (as well). ``0``: zero-shot, no search:
            the top-1 recommendation of the knowledge base (kNN on meta-features) is refitted.
        warm_start: ``auto`` (the warm start measured best: ``knn``), ``none``, ``knn`` or
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
        protocol_: the protocol the search selected on; run_id_: the knowledge-base run.
        training_hash_: the training table's content hash; feature_names_in_, n_features_in_.
    """

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

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        def bad(name: str, expected: str, value: Any) -> ConfigError:
            return ConfigError(f"The {name!r} parameter of AutoMLClassifier must be {expected}. "
                               f"Got {value!r} instead.")

        tb = self.time_budget
        if tb is not None and (isinstance(tb, bool) or not isinstance(tb, (int, float))
                               or not np.isfinite(tb) or tb <= 0):
            raise bad("time_budget", "a number of seconds in (0, inf) or None", tb)
        ne = self.n_evaluations
        if ne is not None and (isinstance(ne, bool) or not isinstance(ne, (int, np.integer)) or ne < 0):
            raise bad("n_evaluations", "an int in [0, inf) or None", ne)
        if tb is None and ne is None:
            raise ConfigError("AutoMLClassifier needs a limit: time_budget or n_evaluations")
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
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or self.timeout <= 0:
            raise bad("timeout", "a number of seconds in (0, inf)", self.timeout)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> AutoMLClassifier:
        """Search, select and refit on ``X`` (array or DataFrame; text columns are categorical), ``y``."""
        self._check_params()
        table, labels = _table_from_xy(X, y)
        self._fit(table, labels)
        self.feature_names_in_ = np.asarray(table.X.columns, dtype=object) \
            if isinstance(X, pd.DataFrame) else None
        if self.feature_names_in_ is None:
            del self.feature_names_in_
        return self

    def fit_table(self, table: Any) -> AutoMLClassifier:
        """Fit on a loaded :class:`metakb.data.Table` (what ``metakb fit`` does)."""
        self._check_params()
        labels = {str(c): c for c in np.unique(table.y)}
        self._fit(table, labels)
        self.feature_names_in_ = np.asarray(table.X.columns, dtype=object)
        return self

    def _fit(self, table: Any, labels: dict[str, Any]) -> None:
        start = time.perf_counter()
        _, counts = np.unique(table.y, return_counts=True)
        protocol = (selection_protocol(table.n_rows, int(counts.min())) if self.protocol == "auto"
                    else self.protocol)
        # False (scikit-learn's own meaning of a warm_start parameter, set by its checks) = none
        warm = {"auto": WARM_START_AUTO, False: "none"}.get(self.warm_start, self.warm_start)
        self.protocol_ = protocol
        self.training_hash_ = table.content_hash()
        self.n_features_in_ = table.n_features
        self.columns_ = list(table.X.columns)
        self.categorical_ = np.asarray(table.categorical, dtype=bool)
        self.target_ = table.target
        with _open(self.kb) as kb:
            if self.n_evaluations == 0:
                history, self.run_id_ = self._zero_shot(table, kb), None
            else:
                history, self.run_id_ = self._search(table, kb, protocol, warm, start)
        self.leaderboard_ = _leaderboard(history)
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
            weights, candidates, self.ensemble_score_ = _select_ensemble(
                table, candidates, protocol, self.seed, self.ensemble_size, deadline)
        members = []
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            for weight, config in zip(weights, candidates, strict=True):
                if weight > 0:
                    members.append((float(weight), dict(config), _fit_pipeline(table, config,
                                                                                 self.seed)))
        self.pipelines_ = FittedPipelines(table.classes, members, self.columns_, self.categorical_)
        self.ensemble_ = [(w, c) for w, c, _ in members]
        self.labels_ = labels
        self.classes_ = np.array([labels[c] for c in table.classes])
        self.fit_seconds_ = time.perf_counter() - start

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
            progress=self.progress, exclude_datasets=list(self.exclude_datasets))
        frame = kb.evaluations(run_id=report.run_id)
        if frame.empty:
            return pd.DataFrame(columns=["configuration", "value", "budget", "fit_seconds",
                                         "status"]), report.run_id
        configs = {int(i): row["config"] for i, row in kb.configurations(self.space).iterrows()}
        frame["configuration"] = [configs[int(i)] for i in frame["configuration_id"]]
        return frame, report.run_id

    def _zero_shot(self, table: Any, kb: Any) -> pd.DataFrame:
        from metakb.workflows.recommend import recommend

        report = recommend(table, kb, k=1, method="knn", space=self.space,
                           exclude_datasets=list(self.exclude_datasets))
        rec = report.recommendations[0]
        return pd.DataFrame([{"configuration": dict(rec.config), "value": np.nan, "budget": 1.0,
                              "fit_seconds": np.nan, "status": "recommended"}])

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "pipelines_")
        return self.pipelines_.predict_proba(self._frame(X))

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class labels (of the type given to ``fit``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _frame(self, X: Any) -> pd.DataFrame:
        from metakb.automl._frame import coerce_features

        frame = _as_frame(X, self.columns_ if not isinstance(X, pd.DataFrame) else None)
        if not isinstance(X, pd.DataFrame) and frame.shape[1] != self.n_features_in_:
            raise DataError(f"X has {frame.shape[1]} features, but AutoMLClassifier is expecting "
                            f"{self.n_features_in_} features as input")
        return coerce_features(frame, self.columns_, self.categorical_, target=self.target_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags


# ---------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _open(kb: Any) -> Iterator[Any]:
    from metakb.store import KnowledgeBase, open_kb

    if isinstance(kb, KnowledgeBase):
        yield kb
        return
    if kb is not None and not isinstance(kb, (str, Path)):
        raise ConfigError(f"The 'kb' parameter of AutoMLClassifier must be a path, a KnowledgeBase, "
                          f"':memory:' or None. Got {kb!r} instead.")
    with (KnowledgeBase(":memory:") if kb == ":memory:" else open_kb(kb)) as opened:
        yield opened


def _as_frame(X: Any, columns: list[str] | None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise DataError("AutoMLClassifier does not accept sparse input; pass a dense array or DataFrame")
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"Expected 2D array, got an array of shape {array.shape} instead; Reshape your "
                        "data with array.reshape(-1, 1) or array.reshape(1, -1)")
    if array.dtype.kind == "c":
        raise DataError("Complex data not supported")
    names = columns if columns is not None and len(columns) == array.shape[1] else \
        [f"x{j}" for j in range(array.shape[1])]
    return pd.DataFrame(array, columns=names)


def _table_from_xy(X: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    """A :class:`metakb.data.Table` of ``X``, ``y`` and the map from its labels back to ``y``'s."""
    from metakb.data import table_from_frame

    if y is None:
        raise DataError("AutoMLClassifier requires y to be passed, but the target y is None")
    frame = _as_frame(X, None)
    if frame.shape[0] == 1:
        raise DataError("n_samples = 1: AutoMLClassifier needs at least two rows of two classes")
    if frame.shape[0] == 0:
        raise DataError(f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is required")
    if frame.shape[1] == 0:
        raise DataError(f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is required")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected",
                      DataConversionWarning, stacklevel=3)
        y = y.ravel()
    if y.ndim != 1 or len(y) != len(frame):
        raise DataError(f"y must be one label per row of X ({len(frame)}); got shape {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise DataError("Input y contains NaN or infinity")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise DataError("Unknown label type: continuous target values; AutoMLClassifier classifies")
    target = "__target__"
    while target in frame.columns:
        target += "_"
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        raise DataError("X has duplicate column names")
    frame[target] = y
    table = table_from_frame(frame, target, name="fit-data", source="array")
    if table.n_rows != len(y):
        raise DataError("y has missing labels")
    labels: dict[str, Any] = {}
    for text, original in zip(table.y, y, strict=True):
        if labels.setdefault(text, original) != original:
            raise DataError(f"labels {labels[text]!r} and {original!r} are the same class as text")
    return table, labels


def _leaderboard(history: pd.DataFrame) -> pd.DataFrame:
    columns = ["configuration", "classifier", "score", "budget", "fit_seconds", "status"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({
        "configuration": list(history["configuration"]),
        "classifier": [c.get("classifier") for c in history["configuration"]],
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
    from metakb.spaces import make_pipeline

    X, y = (table.X, table.y) if rows is None else (table.X.iloc[rows], table.y[rows])
    pipeline = make_pipeline(config, table.categorical, seed=seed, n_rows=len(y))
    return pipeline.fit(X, y)


def _select_ensemble(table: Any, candidates: list[dict[str, Any]], protocol: str, seed: int,
                     size: int, deadline: float | None
                     ) -> tuple[list[float], list[dict[str, Any]], float | None]:
    """Weights from the candidates' out-of-fold probabilities on the protocol's own splits.

    Each candidate is refitted on the protocol's training folds (the same seeded splits as the
    search); candidates are added best first while time is left (``deadline``). Rows that are
    in no test fold (a holdout) are left out of the selection.
    """
    from metakb.automl._ensemble import balanced_accuracy_of_proba
    from metakb.evaluation import Protocol, prepare_table, split_indices

    proto = Protocol.parse(protocol)
    data = prepare_table(table, proto, seed)
    splits = split_indices(data.y, proto, seed)
    tested = np.zeros(data.n_rows, dtype=bool)
    for _, test in splits:
        tested[test] = True
    classes = data.classes
    y_index = np.searchsorted(classes, data.y)
    predictions: list[np.ndarray] = []
    kept: list[dict[str, Any]] = []
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        for config in candidates:
            if deadline is not None and kept and time.perf_counter() > deadline:
                break
            oof = np.zeros((data.n_rows, len(classes)))
            try:
                for train, test in splits:
                    pipeline = _fit_pipeline(data, config, seed, train)
                    oof[test] = _aligned_proba(pipeline, data.X.iloc[test], classes)
            except Exception:  # noqa: BLE001 - a candidate that fails here is left out
                continue
            predictions.append(oof[tested])
            kept.append(config)
    if len(kept) <= 1:
        return [1.0], kept[:1] or candidates[:1], None
    stacked = np.stack(predictions)
    weights = ensemble_selection(stacked, y_index[tested], size)
    mixed = np.tensordot(weights, stacked, axes=1)
    return list(weights), kept, balanced_accuracy_of_proba(y_index[tested], mixed)
