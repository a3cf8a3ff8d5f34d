"""Import ASlib algorithm-selection scenarios into the knowledge base, and read them back.

The mapping (``metakb import aslib DIR``):

* each **instance** becomes a dataset: name ``SCENARIO/INSTANCE`` (a leading ``./`` dropped),
  source ``aslib``, source id the instance id, task type ``algorithm-selection``, content hash
  ``sha256("aslib", scenario, instance id)``;
* its **features** become meta-features of group ``aslib`` (mean over feature repetitions;
  missing values are stored as NULL);
* the **algorithms** become configurations of a search space named after the scenario: a
  ConfigSpace with one categorical hyperparameter ``algorithm`` (label: the algorithm name);
* every **run** becomes an evaluation: metric = the first ``performance_measures`` entry,
  ``higher_is_better`` = its ``maximize`` flag, protocol ``aslib``, seed = the repetition,
  budget 1. ``runstatus`` ok/timeout/memout/crash map to the evaluation statuses of the same
  meaning (not_applicable/other -> crashed, with the ASlib status as error text); a runtime
  above the cutoff is a timeout. Only ``ok`` runs have a value; for runtime scenarios the
  ``scores`` JSON also holds the run's ``par10`` (10 × cutoff for a failed run);
* the scenario's description, cutoff, PAR factor and cv folds are stored as the settings of an
  ``import`` run (id ``import-aslib-SCENARIO-HASH8``), to which every evaluation points.

One transaction per scenario; importing the same scenario again adds nothing (identity by
content of datasets, configurations and evaluations).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metakb._convert import sha256_text
from metakb.data._aslib_read import PAR_FACTOR, AslibScenario, read_scenario
from metakb.errors import DataError, NotFoundError

__all__ = ["import_aslib", "import_scenario", "read_scenario", "AslibScenario", "aslib_settings",
           "aslib_performance", "scenario_folders", "dataset_name", "TASK_TYPE"]

TASK_TYPE = "algorithm-selection"
PROTOCOL = "aslib"


def dataset_name(scenario: str, instance_id: str) -> str:
    """The knowledge-base name of an ASlib instance."""
    return f"{scenario}/{instance_id.removeprefix('./')}"


def _content_hash(scenario: str, instance_id: str) -> str:
    return sha256_text(f"aslib\0{scenario}\0{instance_id}")


def scenario_folders(path: str | Path) -> list[Path]:
    """``path`` itself if it is a scenario folder, else its scenario sub-folders (sorted).

    Raises:
        DataError: neither ``path`` nor any of its sub-folders holds a scenario.
    """
    folder = Path(path)
    if (folder / "description.txt").is_file():
        return [folder]
    found = sorted(p for p in folder.iterdir() if (p / "description.txt").is_file()) if folder.is_dir() else []
    if not found:
        raise DataError(f"{folder} is not an ASlib scenario folder (no description.txt) and holds none")
    return found


def _space_json(scenario: AslibScenario) -> str:
    from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace

    from metakb.spaces import space_to_json

    space = ConfigurationSpace(name=scenario.name)
    space.add(CategoricalHyperparameter("algorithm", scenario.algorithms))
    return space_to_json(space)


def _settings(scenario: AslibScenario) -> dict[str, Any]:
    return {"source": "aslib", "scenario": scenario.name, "path": str(scenario.path),
            "content_hash": scenario.content_hash, "measure": scenario.measure,
            "performance_type": scenario.performance_type, "maximize": scenario.maximize,
            "cutoff_time": scenario.cutoff_time, "par_factor": PAR_FACTOR,
            "algorithms": scenario.algorithms, "folds": scenario.folds,
            "description": scenario.description}


def _evaluation_records(scenario: AslibScenario, dataset_ids: Mapping[str, int],
                        config_ids: Mapping[str, int], run_id: str, origin: str) -> list[dict[str, Any]]:
    runs = scenario.runs
    status = scenario.statuses().to_numpy()
    values = runs[scenario.measure].astype(float).to_numpy()
    runtime = scenario.performance_type == "runtime"
    penalty = scenario.par_penalty() if runtime and scenario.cutoff_time is not None else None
    records = []
    for i, (instance, rep, algorithm, runstatus) in enumerate(
            zip(runs["instance_id"], runs["repetition"], runs["algorithm"], runs["runstatus"], strict=True)):
        ok = status[i] == "ok"
        record = {"dataset_id": dataset_ids[instance], "configuration_id": config_ids[algorithm],
                  "budget": 1.0, "protocol": PROTOCOL, "seed": int(rep), "metric": scenario.measure,
                  "higher_is_better": scenario.maximize, "value": values[i] if ok else None,
                  "status": status[i], "run_id": run_id, "origin": origin,
                  "fit_seconds": values[i] if runtime and np.isfinite(values[i]) else None,
                  "error": None if ok else f"aslib runstatus {runstatus}"
                  + (f" (runtime {values[i]} over the cutoff {scenario.cutoff_time})" if runstatus == "ok" else "")}
        if penalty is not None:
            record["scores"] = {"par10": values[i] if ok else penalty}
        records.append(record)
    return records


def import_scenario(kb: Any, scenario: AslibScenario | str | Path, *, origin: str | None = None) -> dict[str, Any]:
    """Import one ASlib scenario in one transaction; return counts of what it holds and added.

    Args:
        kb: an open :class:`~metakb.store.KnowledgeBase`.
        scenario: a scenario folder or an :class:`AslibScenario` already read.
        origin: recorded on every row (default ``aslib:SCENARIO``).

    Raises:
        DataError: the folder is not a valid scenario, or runs name instances without features.
    """
    if not isinstance(scenario, AslibScenario):
        scenario = read_scenario(scenario)
    origin = origin or f"aslib:{scenario.name}"
    unknown = sorted(set(scenario.runs["instance_id"]) - set(scenario.features.index))
    if unknown:
        raise DataError(f"scenario {scenario.name}: {len(unknown)} instances have runs but no features, "
                        f"e.g. {unknown[0]!r}")
    run_id = f"import-aslib-{scenario.name}-{scenario.content_hash[:8]}"
    feature_names = list(scenario.features.columns)
    with kb.transaction():
        space_id = kb.add_space(scenario.name, "aslib-1", _space_json(scenario), origin=origin)
        algorithms = scenario.algorithms
        ids = kb.add_configurations(space_id, [{"algorithm": a} for a in algorithms], origin=origin,
                                    labels=algorithms)
        config_ids = dict(zip(algorithms, ids, strict=True))
        try:
            kb.get_run(run_id)
        except NotFoundError:
            kb.create_run("import", _settings(scenario), origin=origin, space_id=space_id, run_id=run_id)
            kb.update_run(run_id, status="finished")
        dataset_ids = {}
        for instance, row in scenario.features.iterrows():
            dataset_ids[instance] = kb.add_dataset(
                dataset_name(scenario.name, str(instance)), _content_hash(scenario.name, str(instance)),
                source="aslib", source_id=str(instance), task_type=TASK_TYPE, n_features=len(feature_names),
                origin=origin)
            values = {name: (None if pd.isna(v) else float(v)) for name, v in row.items()}
            kb.set_meta_features(dataset_ids[instance], values, groups="aslib",
                                 extractor_version=f"aslib:{scenario.name}", origin=origin)
        added = kb.add_evaluations(_evaluation_records(scenario, dataset_ids, config_ids, run_id, origin))
    return {"scenario": scenario.name, "space": scenario.name, "run_id": run_id,
            "instances": len(dataset_ids), "algorithms": len(algorithms), "features": len(feature_names),
            "runs": len(scenario.runs), "evaluations_added": int(added), "measure": scenario.measure,
            "performance_type": scenario.performance_type, "cutoff_time": scenario.cutoff_time}


def import_aslib(kb: Any, path: str | Path, *, origin: str | None = None) -> list[dict[str, Any]]:
    """Import a scenario folder, or every scenario folder inside ``path`` (one transaction each)."""
    return [import_scenario(kb, folder, origin=origin) for folder in scenario_folders(path)]


def aslib_settings(kb: Any, scenario: str) -> dict[str, Any]:
    """The settings stored with a scenario's import (cutoff, measure, maximize, folds, ...).

    Raises:
        NotFoundError: the scenario was never imported into this knowledge base.
    """
    runs = kb.runs("import")
    for run_id in ([] if runs.empty else runs["id"]):
        run = kb.get_run(run_id)
        if run["settings"].get("source") == "aslib" and run["settings"].get("scenario") == scenario:
            return run["settings"]
    raise NotFoundError(f"ASlib scenario {scenario!r} was not imported into {kb.path}; run `metakb import aslib DIR`")


def aslib_performance(kb: Any, scenario: str, *, par: bool = False) -> pd.DataFrame:
    """A scenario's instance × algorithm matrix read back from the knowledge base.

    Index: instance ids as in the scenario; columns: algorithm names (sorted). Failed runs are
    NaN, or with ``par`` the PAR10 penalty of a runtime scenario.
    """
    settings = aslib_settings(kb, scenario)
    matrix = kb.performance_matrix(scenario, metric=settings["measure"], protocol=PROTOCOL)
    labels = kb.configurations(scenario)["label"]
    matrix = matrix.rename(columns=lambda c: labels[c])
    datasets = kb.datasets(source="aslib")
    instance_of = dict(zip(datasets["name"], datasets["source_id"], strict=True))
    matrix = matrix.rename(index=instance_of)
    matrix = matrix.reindex(columns=sorted(settings["algorithms"])).sort_index()
    if par:
        if settings["performance_type"] != "runtime" or settings["cutoff_time"] is None:
            raise DataError(f"scenario {scenario} is not a runtime scenario with a cutoff; PAR10 is undefined")
        matrix = matrix.fillna(settings["par_factor"] * settings["cutoff_time"])
    matrix.index.name, matrix.columns.name = "instance_id", "algorithm"
    return matrix
