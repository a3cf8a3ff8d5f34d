"""Evaluate one configuration on a dataset (in a worker with a timeout) and store the result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metakb.data import Table, check_rows
from metakb.errors import ConfigError
from metakb.evaluation import (
    DataRef,
    EvaluationResult,
    EvaluationTask,
    Protocol,
    WorkerPool,
    evaluate_tasks,
)
from metakb.spaces import complete_configuration, get_search_space, space_to_json
from metakb.store import KnowledgeBase
from metakb.workflows.task import resolve_task

__all__ = ["RunResult", "parse_config", "run_configuration"]


@dataclass
class RunResult:
    """The outcome of ``metakb run``."""

    dataset: str
    config: dict[str, Any]
    protocol: str
    budget: float
    seed: int
    result: EvaluationResult
    stored: bool
    configuration_id: int | None = None
    #: what happened to the knowledge base: ``new`` (the evaluation was stored),
    #: ``already stored`` (an evaluation of the same cell was there: it was kept, this one was
    #: not written) or ``not stored`` (no knowledge base given).
    storage: str = "not stored"
    #: hyperparameters the given configuration left out, taken from the space's defaults
    defaults_used: list[str] = field(default_factory=list)
    #: the primary metric (the value's name): balanced_accuracy, or r2 for a regression
    metric: str = "balanced_accuracy"
    space: str = "sklearn-cash"

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {"dataset": self.dataset, "config": self.config, "protocol": self.protocol,
                "budget": self.budget, "seed": self.seed, "stored": self.stored,
                "storage": self.storage, "configuration_id": self.configuration_id,
                "defaults_used": self.defaults_used, "metric": self.metric, "space": self.space,
                **self.result.to_record()}


def parse_config(text: str) -> dict[str, Any]:
    """A configuration from JSON text, or from a file when ``text`` is ``@path``."""
    source = "configuration JSON"
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.exists():
            raise ConfigError(f"configuration file {path} does not exist")
        source = f"configuration file {path}"
        if path.is_dir():
            raise ConfigError(f"{source} is a directory, expected a JSON file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{source} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                              "expected a JSON file") from exc
        except OSError as exc:
            raise ConfigError(f"configuration file {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{source} must be a JSON object of hyperparameter values, got {type(value).__name__}")
    return value


def run_configuration(
    table: Table,
    config: dict[str, Any],
    *,
    kb: KnowledgeBase | None = None,
    space: str | None = None,
    protocol: str = "cv:3:max_rows=1500",
    budget: float = 1.0,
    seed: int = 0,
    timeout: float = 300.0,
    memory_mb: int = 4096,
    task: str | None = None,
) -> RunResult:
    """Validate ``config``, evaluate it in a worker process and, with ``kb``, store everything.

    The dataset (with its meta-features), the configuration and the evaluation are written only
    after the evaluation has run, in one transaction: bad input never writes anything. The
    space defaults to the CASH space of the dataset's task type and the protocol's metric to
    that task's (:mod:`metakb.workflows.task`); a space of the other task type is refused.
    """
    setup = resolve_task(table, task=task, space=space)
    table = setup.table
    spec = get_search_space(setup.space)
    configspace = spec.build()
    config, filled = complete_configuration(configspace, config)  # the rest from the defaults
    proto = Protocol.for_task(protocol, setup.task)
    check_rows(table, proto)  # a dataset too small for the protocol is refused before it runs
    if not 0.0 < budget <= 1.0:
        raise ConfigError(f"--budget must be a fraction in (0, 1], got {budget}")
    job = EvaluationTask("run", DataRef("table", table=table, key=table.content_hash()), config, proto, budget, seed)
    with WorkerPool(1, timeout=timeout, memory_mb=memory_mb) as pool:
        _, result = next(evaluate_tasks(pool, [job]))
    if kb is None:
        return RunResult(table.name, config, proto.key(), budget, seed, result, stored=False,
                         defaults_used=filled, metric=proto.metric, space=spec.name)
    from metakb.workflows.build import register_table

    with kb.transaction():
        run_id = kb.create_run("run", {"dataset": table.name, "config": config, "protocol": proto.key(),
                                       "budget": budget, "seed": seed}, origin="metakb run")
        dataset_id = register_table(kb, table, origin=f"run:{run_id}")
        space_id = kb.add_space(spec.name, spec.version, space_to_json(configspace), origin=f"run:{run_id}")
        config_id = kb.add_configuration(space_id, config, origin=f"run:{run_id}")
        added = kb.add_evaluations([{"dataset_id": dataset_id, "configuration_id": config_id, "budget": budget,
                             "protocol": proto.key(), "seed": seed, "metric": proto.metric,
                             "higher_is_better": proto.higher_is_better, "run_id": run_id,
                             "origin": f"run:{run_id}", **result.to_record()}])
        kb.update_run(run_id, status="finished")
    # the same cell (dataset, configuration, budget, protocol, seed, metric) is stored once: a
    # second run of it keeps the first evaluation and says so
    return RunResult(table.name, config, proto.key(), budget, seed, result, stored=bool(added),
                     configuration_id=config_id, storage="new" if added else "already stored",
                     defaults_used=filled, metric=proto.metric, space=spec.name)
