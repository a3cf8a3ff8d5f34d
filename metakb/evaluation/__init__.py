"""Evaluate configurations: protocols, metrics, and isolated worker processes."""

from metakb.evaluation._evaluate import EvaluationResult, evaluate_configuration, prepare_table
from metakb.evaluation._pool import DataRef, EvaluationTask, WorkerPool, evaluate_tasks, run_task
from metakb.evaluation._protocol import Protocol, budget_rows, split_indices, subsample_rows
from metakb.evaluation.metrics import METRICS, compute_scores, higher_is_better

__all__ = [
    "EvaluationResult",
    "evaluate_configuration",
    "prepare_table",
    "DataRef",
    "EvaluationTask",
    "WorkerPool",
    "evaluate_tasks",
    "run_task",
    "Protocol",
    "budget_rows",
    "split_indices",
    "subsample_rows",
    "METRICS",
    "compute_scores",
    "higher_is_better",
]
