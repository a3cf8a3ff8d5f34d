"""Safe model files: ``skops.io`` with an explicit list of trusted types, and metakb's own header.

A model file is a skops zip archive with one extra member, ``metakb.json``: the format name and
version, the metakb version that wrote it, the task type (``classification`` or
``regression``), the configuration(s) and ensemble weights, the training data's content hash
and its feature columns. A classifier's file keeps format version 1 (a header without a task
is a classifier's); a regressor's is format version 2, so a metakb that predates regression
refuses it as "written by a newer metakb" instead of misreading it. :func:`load_model` reads that header
first and refuses, with one line, a file that is not a zip archive (not a metakb model), a
truncated or damaged archive, an archive without metakb's header, a model written by a newer
metakb, and any type outside :data:`TRUSTED_TYPES`; nothing is ever unpickled.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError

__all__ = ["MODEL_FORMAT", "FORMAT_VERSION", "TRUSTED_TYPES", "MetaKBModel", "load_model", "save_model"]

MODEL_FORMAT = "metakb-model"
FORMAT_VERSION = 2
# the format version a model of each task type is written with (the newest one it needs)
_TASK_FORMAT = {"classification": 1, "regression": 2}
_HEADER = "metakb.json"
# Types in a fitted sklearn-cash or sklearn-cash-regression pipeline that skops does not trust
# by default (found by dumping every classifier with every scaler and encoder, and every
# regressor with every target transform); nothing else is loaded. The regression space adds
# only its own target wrapper (plain attributes: a transform name, two floats, a fitted
# scikit-learn regressor and an optional QuantileTransformer).
TRUSTED_TYPES = (
    "metakb.spaces._cash_regression.TargetTransformRegressor",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.tree._tree.Tree",
)


class MetaKBModel:
    """A model read by :func:`load_model`: predicts from a frame with the training columns.

    Attributes:
        metadata: the file's header (metakb version, task, configurations, weights, training
            hash, feature columns, protocol, internal scores).
        task: ``classification`` or ``regression``.
        classes_: the class labels as given to ``fit`` (None for a regression model).
    """

    def __init__(self, pipelines: Any, metadata: dict[str, Any]) -> None:
        self.pipelines = pipelines
        self.metadata = metadata
        self.task = str(metadata.get("task") or "classification")
        self.classes_: np.ndarray | None = None
        if self.task == "classification":
            self.classes_ = np.asarray(metadata["labels"], dtype=object if any(
                isinstance(v, str) for v in metadata["labels"]) else None)

    @property
    def feature_columns(self) -> list[str]:
        """The training feature columns, in order."""
        return list(self.metadata["feature_columns"])

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        from metakb.automl._frame import coerce_features

        return coerce_features(frame, self.feature_columns, np.asarray(self.metadata["categorical"]),
                               target=self.metadata.get("target"))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities, columns in the order of ``classes_`` (a classification model only).

        Raises:
            ConfigError: a regression model, which predicts numbers, not class probabilities.
        """
        if self.classes_ is None:
            raise ConfigError("a regression model predicts numbers; it has no class probabilities")
        return self.pipelines.predict_proba(self._features(frame))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The predicted labels, or a regression model's predicted values (float64)."""
        if self.classes_ is None:
            return np.asarray(self.pipelines.predict(self._features(frame)), dtype=float)
        return self.classes_[np.argmax(self.predict_proba(frame), axis=1)]


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        from packaging.version import Version

        return tuple(Version(text).release)
    except Exception:  # noqa: BLE001 - an unparsable version is treated as unknown (newest)
        return (10**9,)


def save_model(estimator: Any, path: str | Path) -> Path:
    """Write a fitted :class:`~metakb.automl.AutoMLClassifier` or
    :class:`~metakb.automl.AutoMLRegressor` to ``path`` (atomic: temp + rename).

    Raises:
        ConfigError: the estimator is not fitted, or the folder of ``path`` does not exist.
    """
    import skops.io as sio

    from metakb import __version__
    from metakb._convert import to_builtin

    if not hasattr(estimator, "pipelines_"):
        raise ConfigError("the estimator is not fitted; call fit before save_model")
    path = Path(path)
    if not path.parent.exists():
        raise ConfigError(f"cannot write model {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise ConfigError(f"model path {path} is a directory, expected a file name")
    pipelines = estimator.pipelines_
    task = getattr(pipelines, "task", "classification")
    classification = task == "classification"
    payload = {"task": task,
               "classes": [str(c) for c in pipelines.classes] if classification else [],
               "members": [[float(w), dict(c), p] for w, c, p in pipelines.members],
               "columns": list(pipelines.columns),
               "categorical": [bool(v) for v in pipelines.categorical]}
    header = to_builtin({
        "format": MODEL_FORMAT, "format_version": _TASK_FORMAT[task], "metakb_version": __version__,
        "task": task,
        "configurations": [dict(c) for _, c, _ in pipelines.members],
        "weights": [float(w) for w, _, _ in pipelines.members],
        "best_config": getattr(estimator, "best_config_", None),
        "best_score": getattr(estimator, "best_score_", None),
        "ensemble_score": getattr(estimator, "ensemble_score_", None),
        "protocol": getattr(estimator, "protocol_", None),
        "run_id": getattr(estimator, "run_id_", None),
        "training_hash": estimator.training_hash_,
        "feature_columns": list(pipelines.columns),
        "categorical": [bool(v) for v in pipelines.categorical],
        "target": getattr(estimator, "target_", None),
        "labels": [_plain(v) for v in estimator.classes_] if classification else None,
    })
    buffer = io.BytesIO(sio.dumps(payload))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(_HEADER, json.dumps(header, sort_keys=True))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def read_header(path: str | Path) -> dict[str, Any]:
    """The checked ``metakb.json`` header of a model file (see the module's refusals)."""
    from metakb import __version__

    path = Path(path)
    if not path.exists():
        raise DataError(f"model file {path} does not exist")
    if path.is_dir():
        raise DataError(f"model path {path} is a directory, expected a model file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if not zipfile.is_zipfile(path):
        if magic == b"PK\x03\x04":
            raise DataError(f"model file {path} is truncated or damaged (its zip directory is missing)")
        raise DataError(f"{path} is not a metakb model file (not a skops zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            if damaged is not None:
                raise DataError(f"model file {path} is damaged (member {damaged!r} fails its checksum)")
            if _HEADER not in archive.namelist():
                raise DataError(f"{path} is not a metakb model file (a zip archive without {_HEADER})")
            header = json.loads(archive.read(_HEADER).decode("utf-8"))
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"model file {path} is truncated or damaged ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise DataError(f"{path} is not a metakb model file (its header names no {MODEL_FORMAT!r} format)")
    written = str(header.get("metakb_version"))
    if (int(header.get("format_version", 10**9)) > FORMAT_VERSION
            or _version_tuple(written) > _version_tuple(__version__)):
        raise DataError(f"model file {path} was written by metakb {written} (model format "
                        f"{header.get('format_version')}); this is metakb {__version__}: upgrade "
                        "metakb to read it")
    return header


def load_model(path: str | Path) -> MetaKBModel:
    """Read a model written by :func:`save_model`, loading only :data:`TRUSTED_TYPES`.

    Raises:
        DataError: a missing file, not a metakb model, truncated or damaged, written by a newer
            metakb, or holding a type that is not trusted.
    """
    import skops.io as sio

    from metakb.automl._estimator import FittedPipelines
    from metakb.automl._regressor import FittedRegressionPipelines

    header = read_header(path)
    task = header.get("task") or "classification"
    if task not in _TASK_FORMAT:
        raise DataError(f"model file {path} names an unknown task {task!r}; expected one of {sorted(_TASK_FORMAT)}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - skops' own parse errors: a damaged file
        raise DataError(f"model file {path} cannot be read as a skops archive ({type(exc).__name__})") from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise DataError(f"model file {path} holds untrusted type(s) {refused[:5]}; refusing to load it")
    try:
        payload = sio.load(path, trusted=list(untrusted))
    except Exception as exc:  # noqa: BLE001 - skops/numpy errors of a damaged archive
        raise DataError(f"model file {path} cannot be loaded ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    if not isinstance(payload, dict):
        raise DataError(f"{path} is not a metakb model file (its content has no fitted pipelines)")
    if payload.get("task", "classification") != task:
        raise DataError(f"model file {path} is damaged: its header says {task} but its content "
                        f"holds a {payload.get('task', 'classification')} model")
    try:
        members = [(float(w), dict(c), p) for w, c, p in payload["members"]]
        columns, categorical = list(payload["columns"]), np.asarray(payload["categorical"])
        pipelines: FittedPipelines | FittedRegressionPipelines
        if task == "regression":
            pipelines = FittedRegressionPipelines(members, columns, categorical)
        else:
            pipelines = FittedPipelines(np.asarray(payload["classes"]), members, columns, categorical)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path} is not a metakb model file (its content has no fitted pipelines)") from exc
    return MetaKBModel(pipelines, header)
