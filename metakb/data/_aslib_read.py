"""Read one ASlib scenario folder (the COSEAL format) into pandas frames.

Files read (liac-arff for the ARFF ones): ``description.txt`` (YAML: scenario id, performance
measures and types, maximize flags, algorithm cutoff time), ``algorithm_runs.arff`` (one row
per instance, repetition and algorithm: the performance measures and a ``runstatus``),
``feature_values.arff`` (instance features; ``?`` is a missing value) and ``cv.arff`` (the
scenario's own cross-validation folds).

References:
    Bischl et al. (2016). ASlib: A benchmark library for algorithm selection. Artificial
    Intelligence 237:41-58. Format: https://github.com/coseal/aslib_data (``format.md``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import DataError

__all__ = ["AslibScenario", "read_scenario", "RUNSTATUS_TO_STATUS", "PAR_FACTOR"]

#: ASlib runstatus -> metakb evaluation status (only ``ok`` runs have a value).
RUNSTATUS_TO_STATUS = {"ok": "ok", "timeout": "timeout", "memout": "memout", "crash": "crashed",
                       "not_applicable": "crashed", "other": "crashed"}
#: penalised average runtime: a failed run counts PAR_FACTOR times the cutoff (PAR10).
PAR_FACTOR = 10
_REQUIRED = ("description.txt", "algorithm_runs.arff", "feature_values.arff")


@dataclass
class AslibScenario:
    """An ASlib scenario in memory.

    Attributes:
        name: the ``scenario_id`` of ``description.txt`` (the folder name if absent).
        path: the scenario folder.
        description: ``description.txt`` as a dict.
        runs: one row per run: ``instance_id``, ``repetition``, ``algorithm``, every performance
            measure, ``runstatus``.
        features: instance × feature frame (mean over feature repetitions; NaN = missing).
        folds: instance -> fold number of ``cv.arff`` (repetition 1); empty if no cv file.
        content_hash: SHA-256 of the files read (identifies this version of the scenario).
    """

    name: str
    path: Path
    description: dict[str, Any]
    runs: pd.DataFrame
    features: pd.DataFrame
    folds: dict[str, int] = field(default_factory=dict)
    content_hash: str = ""

    @property
    def measure(self) -> str:
        """The first performance measure (the one metakb stores as the evaluation metric)."""
        return str(self.description["performance_measures"][0])

    @property
    def performance_type(self) -> str:
        """``runtime`` or ``solution_quality`` of the first measure."""
        return str(_first(self.description.get("performance_type"), "solution_quality"))

    @property
    def maximize(self) -> bool:
        """Whether larger values of the first measure are better."""
        return bool(_first(self.description.get("maximize"), False))

    @property
    def cutoff_time(self) -> float | None:
        """``algorithm_cutoff_time`` (seconds), None if the scenario gives none."""
        raw = self.description.get("algorithm_cutoff_time")
        try:
            value = float(raw)  # type: ignore[arg-type]  # '?' or None: no cutoff
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) and value > 0 else None

    @property
    def algorithms(self) -> list[str]:
        """The algorithms, sorted by name."""
        return sorted(self.runs["algorithm"].unique())

    def statuses(self) -> pd.Series:
        """metakb status of every run (a runtime over the cutoff is a timeout, whatever it says)."""
        status = self.runs["runstatus"].map(RUNSTATUS_TO_STATUS).fillna("crashed")
        value = self.runs[self.measure].astype(float)
        status = status.where(~((status == "ok") & value.isna()), "crashed")
        if self.performance_type == "runtime" and self.cutoff_time is not None:
            status = status.where(~((status == "ok") & (value > self.cutoff_time)), "timeout")
        return status

    def performance(self, par: bool = False) -> pd.DataFrame:
        """Instance × algorithm frame of the first measure (mean over repetitions).

        Failed runs are NaN, or with ``par`` and a runtime scenario the penalised runtime
        ``PAR_FACTOR × cutoff`` (PAR10).
        """
        value = self.runs[self.measure].astype(float).where(self.statuses() == "ok")
        if par:
            value = value.fillna(self.par_penalty())
        frame = self.runs.assign(_value=value).pivot_table(
            index="instance_id", columns="algorithm", values="_value", aggfunc="mean", dropna=False)
        return frame.reindex(columns=self.algorithms).sort_index()

    def par_penalty(self) -> float:
        """The value of a failed run under PAR10 (runtime scenarios with a cutoff only)."""
        if self.performance_type != "runtime" or self.cutoff_time is None:
            raise DataError(f"scenario {self.name} is not a runtime scenario with a cutoff; PAR10 is undefined")
        return PAR_FACTOR * self.cutoff_time


def _first(value: Any, default: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else default
    return default if value is None else value


def _load_arff(path: Path) -> pd.DataFrame:
    import arff

    try:
        with path.open(encoding="utf-8") as handle:
            data = arff.load(handle)
    except (arff.ArffException, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable ARFF file: {exc}") from exc
    names = [name for name, _ in data["attributes"]]
    return pd.DataFrame(data["data"], columns=names)


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """One DataError line naming the file and the columns it lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks columns {missing}")


def _integer_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """``frame[column]`` as int, or one DataError line naming the file, the column and a bad value."""
    numbers = pd.to_numeric(frame[column], errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers) | (numbers != np.floor(numbers))
    if bad.any():
        example = frame[column][bad].iloc[0]
        example = example.item() if isinstance(example, np.generic) else example
        example = "?" if example is None or (isinstance(example, float) and math.isnan(example)) else example
        raise DataError(f"{path} column {column!r} must hold whole numbers, got {example!r} "
                        f"({int(bad.sum())} of {len(numbers)} rows)")
    return numbers.astype(int)


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_scenario(path: str | Path) -> AslibScenario:
    """Read an ASlib scenario folder.

    Raises:
        DataError: the folder lacks a required file, or a file does not follow the format.
    """
    import yaml

    folder = Path(path)
    missing = [name for name in _REQUIRED if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder} is not an ASlib scenario folder: missing {missing}")
    try:
        description = yaml.safe_load((folder / "description.txt").read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise DataError(f"{folder / 'description.txt'} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{folder / 'description.txt'} is not valid YAML: {exc}") from exc
    if not isinstance(description, dict):
        raise DataError(f"{folder / 'description.txt'} must be a YAML mapping (scenario_id: ..., "
                        f"performance_measures: ...), got a {type(description).__name__}")
    if not description.get("performance_measures"):
        raise DataError(f"{folder / 'description.txt'} names no performance_measures")
    runs = _load_arff(folder / "algorithm_runs.arff")
    measure = str(description["performance_measures"][0])
    needed = {"instance_id", "repetition", "algorithm", "runstatus", measure}
    _require_columns(runs, sorted(needed), folder / "algorithm_runs.arff")
    runs[measure] = pd.to_numeric(runs[measure], errors="coerce")
    runs["repetition"] = _integer_column(runs, "repetition", folder / "algorithm_runs.arff")
    raw = _load_arff(folder / "feature_values.arff")
    _require_columns(raw, ["instance_id"], folder / "feature_values.arff")
    feature_names = [c for c in raw.columns if c not in ("instance_id", "repetition")]
    features = raw[["instance_id", *feature_names]].copy()
    features[feature_names] = features[feature_names].apply(pd.to_numeric, errors="coerce").astype(float)
    features = features.groupby("instance_id", sort=True)[feature_names].mean()
    features = features.replace([np.inf, -np.inf], np.nan)
    files = [folder / name for name in _REQUIRED]
    folds: dict[str, int] = {}
    if (folder / "cv.arff").is_file():
        files.append(folder / "cv.arff")
        cv = _load_arff(folder / "cv.arff")
        _require_columns(cv, ["instance_id", "repetition", "fold"], folder / "cv.arff")
        cv = cv[_integer_column(cv, "repetition", folder / "cv.arff") == 1]
        fold = _integer_column(cv, "fold", folder / "cv.arff")
        folds = {str(i): int(f) for i, f in zip(cv["instance_id"], fold, strict=True)}
    name = str(description.get("scenario_id") or folder.name)
    return AslibScenario(name=name, path=folder, description=description, runs=runs, features=features,
                         folds=folds, content_hash=_hash_files(files))
