"""Score one configuration on one dataset, in the current process.

Use :class:`metakb.evaluation.WorkerPool` to run evaluations isolated in worker processes with
a timeout and a memory cap; this module is what each worker runs.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from metakb.data import Table
from metakb.evaluation._protocol import Protocol, budget_rows, split_indices, subsample_rows
from metakb.evaluation.metrics import compute_scores
from metakb.spaces import make_pipeline

__all__ = ["EvaluationResult", "evaluate_configuration", "prepare_table"]

_MAX_ERROR_CHARS = 8000  # the stored traceback keeps its last frames and the exception line


class _ModelFailure(Exception):
    """The model's own construction, fit or predict raised: a result to record, not a bug.

    Only :func:`_model_call` raises it; any other exception inside an evaluation is an error of
    metakb's own code (splits, budgets, scoring) and propagates.
    """

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _model_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with its exceptions (except MemoryError) as :class:`_ModelFailure`."""
    try:
        return fn(*args, **kwargs)
    except MemoryError:
        raise
    except Exception as exc:
        raise _ModelFailure(exc) from exc


@dataclass
class EvaluationResult:
    """The outcome of one evaluation: status ok|crashed|timeout|memout, scores, time, error."""

    status: str
    value: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The fields of an ``evaluations`` row that come from the result."""
        return {"status": self.status, "value": self.value, "scores": self.scores or None,
                "fit_seconds": self.fit_seconds, "error": self.error}


def prepare_table(table: Table, protocol: Protocol, seed: int) -> Table:
    """The table reduced to the protocol's row cap (seeded, stratified)."""
    keep = subsample_rows(table.y, protocol.max_rows, seed)
    if len(keep) == table.n_rows:
        return table
    return Table(name=table.name, X=table.X.iloc[keep].reset_index(drop=True), y=table.y[keep],
                 categorical=table.categorical, target=table.target, source=table.source,
                 source_id=table.source_id, notes={**table.notes, "subsampled_rows": int(len(keep))})


def evaluate_configuration(
    table: Table,
    config: Mapping[str, Any],
    *,
    protocol: Protocol,
    budget: float = 1.0,
    budget_mode: str = "rows",
    seed: int = 0,
    prepared: bool = False,
) -> EvaluationResult:
    """Fit and score ``config`` on ``table`` under ``protocol``; never raises for a model failure.

    Args:
        table: the dataset.
        config: a ``sklearn-cash`` configuration.
        protocol: row cap, split and primary metric.
        budget: fraction in (0, 1] of the training rows (``budget_mode='rows'``) or of the
            model's iterations (``'iterations'``).
        seed: seeds the subsample, the split and the model.
        prepared: ``table`` is already reduced to the protocol's row cap.

    Returns:
        status ``ok`` with the mean of every metric over the folds, or ``crashed``/``memout``
        with the error text (a crash keeps the model's traceback).

    Raises:
        Exception: whatever metakb's own code raises around the model (splitting, budgets,
            scoring): only the pipeline's construction, ``fit`` and ``predict`` are recorded
            as ``crashed``, so a bug of metakb fails loudly instead of filling the knowledge
            base with crashed evaluations.
    """
    if not prepared:
        table = prepare_table(table, protocol, seed)
    X, y = table.X, table.y
    classes = np.unique(y)
    start = time.perf_counter()
    try:
        fold_scores = []
        for fold, (train, test) in enumerate(split_indices(y, protocol, seed)):
            if budget_mode == "rows":
                train = budget_rows(train, y, budget, seed + fold)
                fraction = 1.0
            else:
                fraction = budget
            fold_scores.append(_fit_and_score(X, y, train, test, config, table.categorical, classes,
                                              seed, fraction))
    except MemoryError as exc:
        return EvaluationResult("memout", fit_seconds=time.perf_counter() - start,
                                error=f"MemoryError: {exc}".strip())
    except _ModelFailure as failure:  # a model failure is a result to record, not an error of metakb
        return EvaluationResult("crashed", fit_seconds=time.perf_counter() - start,
                                error=_traceback_text(failure.cause))
    scores = {k: float(np.mean([s[k] for s in fold_scores])) for k in fold_scores[0]
              if all(k in s for s in fold_scores)}
    value = scores.get(protocol.metric)
    if value is None or not np.isfinite(value):
        # e.g. a diverged regressor whose predictions overflow: its RMSE is inf, its R2 undefined
        unusable = sorted(k for k, v in scores.items() if not np.isfinite(v))
        return EvaluationResult("crashed", scores={k: v for k, v in scores.items() if np.isfinite(v)},
                                fit_seconds=time.perf_counter() - start,
                                error=f"metric {protocol.metric} could not be computed"
                                      + (f" (not finite: {', '.join(unusable)})" if unusable else ""))
    return EvaluationResult("ok", value=value, scores=scores, fit_seconds=time.perf_counter() - start)


def _fit_and_score(X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, config: Mapping[str, Any],
                   categorical: Any, classes: Any, seed: int, fraction: float) -> dict[str, float]:
    # a configuration the space cannot build (e.g. a missing hyperparameter) is the model's failure
    pipeline = _model_call(make_pipeline, config, categorical, seed=seed, iteration_fraction=fraction,
                           n_rows=len(train))
    with warnings.catch_warnings(), threadpool_limits(1):  # one core per evaluation, as in the workers
        warnings.simplefilter("ignore")  # convergence warnings are expected at small budgets
        _model_call(pipeline.fit, X.iloc[train], y[train])
        y_pred = _model_call(pipeline.predict, X.iloc[test])
        proba = None
        if hasattr(pipeline, "predict_proba"):
            try:
                raw = pipeline.predict_proba(X.iloc[test])
            except AttributeError:  # e.g. SVC without probability estimates
                raw = None
            except MemoryError:
                raise
            except Exception as exc:
                raise _ModelFailure(exc) from exc
            if raw is not None:
                proba = _align_proba(raw, pipeline.classes_, classes)
    return compute_scores(y[test], y_pred, proba, classes)


def _align_proba(raw: np.ndarray, model_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Probabilities over all classes of the dataset (a class missing from training gets 0)."""
    out = np.zeros((raw.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        out[:, index[c]] = raw[:, j]
    return out


def _traceback_text(exc: BaseException) -> str:
    """The exception line first (what a listing shows), then the full traceback; when longer than
    ``_MAX_ERROR_CHARS`` the traceback keeps its innermost frames."""
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    body = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()
    room = _MAX_ERROR_CHARS - len(head) - 5
    if len(body) > room:
        body = "..." + body[-max(room - 3, 0):]
    return f"{head}\n\n{body}"[:_MAX_ERROR_CHARS]
