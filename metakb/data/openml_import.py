"""Import the runs of one OpenML flow on a set of tasks into the knowledge base.

For each task: the task's dataset (its OpenML *qualities* become meta-features of group
``openml``), the runs of the flow on the task with their setups (hyperparameter values become
configurations of a space derived from the flow, see :mod:`metakb.data._openml_space`), and the
runs' evaluations (protocol ``openml-task:<id>``, origin ``openml:run/<run id>``, seed = the
OpenML run id so that repeated runs of a setup are averaged by ``performance_matrix``).

Guarantees:

* **All or nothing per task**: a task's dataset, meta-features, configurations and evaluations
  are written in one transaction, after everything it needs has been fetched.
* **Resumable**: the import is an ``import`` run in the ``runs`` table (its id derives from the
  flow, measure and tasks) whose state lists the finished tasks; running the same command again
  skips them, and every server answer is cached in openml-python's cache directory.
* **No hang**: every server call has a time limit (:class:`~metakb.errors.NetworkError`).

References:
    Vanschoren, van Rijn, Bischl and Torgo. "OpenML: networked science in machine learning."
    SIGKDD Explorations 15(2), 2013.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from metakb._convert import canonical_json, sha256_text
from metakb.data._openml_client import DatasetInfo, OpenMLClient, TaskInfo
from metakb.data._openml_space import derive_flow_space, space_json
from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.store import KnowledgeBase

__all__ = ["OPENML_MEASURES", "OpenMLClient", "OpenMLImportReport", "import_openml", "openml_run_id"]

# OpenML evaluation measure -> (metakb metric name, higher is better)
OPENML_MEASURES: dict[str, tuple[str, bool]] = {
    "predictive_accuracy": ("accuracy", True),
    "area_under_roc_curve": ("roc_auc", True),
    "f_measure": ("f_measure", True),
    "kappa": ("kappa", True),
    "mean_absolute_error": ("mean_absolute_error", False),
    "root_mean_squared_error": ("root_mean_squared_error", False),
}

_TASK_TYPES = {"Supervised Classification": "classification", "Supervised Regression": "regression"}


@dataclass
class OpenMLImportReport:
    """What an import did."""

    run_id: str
    space: str
    space_version: str
    metric: str
    imported_tasks: list[int] = field(default_factory=list)
    skipped_tasks: list[int] = field(default_factory=list)
    tasks_without_runs: list[int] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    configurations: int = 0
    evaluations_added: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return dict(self.__dict__)


def openml_run_id(flow: int, tasks: Sequence[int], measure: str) -> str:
    """The id of the import run for this flow, measure and task set (stable across retries)."""
    key = canonical_json({"flow": int(flow), "measure": measure, "tasks": sorted(int(t) for t in tasks)})
    return f"import-openml-flow{int(flow)}-{sha256_text(key)[:8]}"


def import_openml(
    kb: KnowledgeBase,
    *,
    flow: int,
    tasks: Sequence[int] | None = None,
    suite: int | str | None = None,
    measure: str = "predictive_accuracy",
    client: OpenMLClient | None = None,
) -> OpenMLImportReport:
    """Import the runs of ``flow`` on ``tasks`` (or on the tasks of benchmark ``suite``).

    Args:
        kb: the knowledge base to write to.
        flow: the OpenML flow id.
        tasks: OpenML task ids (give these or ``suite``).
        suite: an OpenML benchmark suite id or alias.
        measure: the OpenML evaluation measure (see :data:`OPENML_MEASURES`).
        client: the OpenML client (default: openml-python's settings, 30 s time limit).

    Returns:
        What was imported.

    Raises:
        ConfigError: both or neither of tasks and suite, an unknown measure, bad ids.
        DataError: the flow has no runs with this measure on any of the tasks (nothing is
            written then).
        NetworkError: the server is needed and does not answer (tasks finished before stay).
    """
    client = client or OpenMLClient()
    metric, higher = _check_arguments(flow, tasks, suite, measure)
    task_ids = [int(t) for t in tasks] if tasks is not None else client.suite_tasks(suite)  # type: ignore[arg-type]
    if not task_ids:
        raise DataError(f"OpenML suite {suite!r} has no tasks; nothing to import")
    runs_by_task = {t: [e for e in client.evaluations(flow, t, measure) if e["value"] is not None]
                    for t in task_ids}
    with_runs = [t for t in task_ids if runs_by_task[t]]
    if not with_runs:
        raise DataError(f"OpenML flow {flow} has no runs with measure {measure!r} on tasks "
                        f"{task_ids}; nothing was imported")
    setups = client.setups([e["setup_id"] for t in with_runs for e in runs_by_task[t]])
    space, configs = derive_flow_space(int(flow), setups)
    text, version = space_json(space)
    run_id = openml_run_id(flow, task_ids, measure)
    report = OpenMLImportReport(run_id=run_id, space=str(space.name), space_version=version,
                                metric=metric,
                                tasks_without_runs=[t for t in task_ids if not runs_by_task[t]])
    done = _finished_tasks(kb, run_id)
    report.skipped_tasks = [t for t in with_runs if t in done]
    with kb.transaction():
        space_id = kb.add_space(str(space.name), version, text, origin=f"openml:flow/{int(flow)}")
        if not done and not _run_exists(kb, run_id):
            kb.create_run("import", {"source": "openml", "flow": int(flow), "tasks": task_ids,
                                     "suite": suite, "measure": measure},
                          origin=f"openml:flow/{int(flow)}", space_id=space_id, run_id=run_id)
    for task_id in [t for t in with_runs if t not in done]:
        try:
            info = client.task(task_id)
            dataset = client.dataset(info.dataset_id)
            added, name = _write_task(kb, info, dataset, runs_by_task[task_id], configs, space_id,
                                      metric, higher, run_id, flow, done)
        except BaseException:
            kb.update_run(run_id, status="interrupted")
            raise
        done.add(task_id)
        report.imported_tasks.append(task_id)
        report.datasets.append(name)
        report.evaluations_added += added
    kb.update_run(run_id, status="finished", state={"done_tasks": sorted(done)})
    report.configurations = len({canonical_json(c) for c in configs.values()})
    return report


def _check_arguments(flow: int, tasks: Sequence[int] | None, suite: int | str | None,
                     measure: str) -> tuple[str, bool]:
    if (tasks is None) == (suite is None):
        raise ConfigError("give either tasks or suite (exactly one), got "
                          f"tasks={tasks!r} and suite={suite!r}")
    if measure not in OPENML_MEASURES:
        raise ConfigError(f"OpenML measure must be one of {sorted(OPENML_MEASURES)}, got {measure!r}")
    try:
        if int(flow) < 1 or (tasks is not None and any(int(t) < 1 for t in tasks)):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"OpenML flow and task ids must be positive integers, got flow={flow!r} "
                          f"and tasks={tasks!r}") from exc
    if tasks is not None and not list(tasks):
        raise ConfigError("tasks is empty; give at least one OpenML task id")
    return OPENML_MEASURES[measure]


def _run_exists(kb: KnowledgeBase, run_id: str) -> bool:
    try:
        kb.get_run(run_id)
    except NotFoundError:
        return False
    return True


def _finished_tasks(kb: KnowledgeBase, run_id: str) -> set[int]:
    if not _run_exists(kb, run_id):
        return set()
    state = kb.get_run(run_id)["state"] or {}
    return {int(t) for t in state.get("done_tasks", [])}


def _write_task(kb: KnowledgeBase, info: TaskInfo, dataset: DatasetInfo, runs: list[dict[str, Any]],
                configs: dict[int, dict[str, Any]], space_id: int, metric: str, higher: bool,
                run_id: str, flow: int, done: set[int]) -> tuple[int, str]:
    """Write one task's dataset, meta-features, configurations and evaluations together."""
    q = dataset.qualities
    n_attributes = _int(q.get("NumberOfFeatures"))  # OpenML counts the target among them
    origin = f"openml:data/{dataset.dataset_id}"
    setup_ids = sorted({e["setup_id"] for e in runs})
    with kb.transaction():
        dataset_id = kb.add_dataset(
            dataset.name, sha256_text(f"{origin}:{dataset.md5_checksum or dataset.version}"),
            source="openml", source_id=str(dataset.dataset_id), origin=origin,
            task_type=_TASK_TYPES.get(info.task_type, info.task_type.lower()),
            n_rows=_int(q.get("NumberOfInstances")),
            n_features=None if n_attributes is None else n_attributes - 1,
            n_classes=_int(q.get("NumberOfClasses")), target=info.target)
        kb.set_meta_features(dataset_id, q, groups="openml", extractor_version="openml-qualities",
                             origin=origin)
        ids = kb.add_configurations(space_id, [configs[s] for s in setup_ids],
                                    origin=f"openml:flow/{int(flow)}",
                                    labels=[f"openml-setup:{s}" for s in setup_ids])
        config_of = dict(zip(setup_ids, ids, strict=True))
        added = kb.add_evaluations([
            {"dataset_id": dataset_id, "configuration_id": config_of[e["setup_id"]], "budget": 1.0,
             "protocol": f"openml-task:{info.task_id}", "seed": e["run_id"], "metric": metric,
             "higher_is_better": higher, "value": e["value"], "status": "ok",
             "run_id": run_id, "origin": f"openml:run/{e['run_id']}"}
            for e in runs])
        kb.update_run(run_id, state={"done_tasks": sorted(done | {info.task_id})})
        name = kb.get_dataset(dataset_id)["name"]
    return added, name


def _int(value: float | None) -> int | None:
    return None if value is None else int(round(value))
