"""The YAHPO Gym LCBench surrogate, loaded with onnxruntime.

YAHPO Gym ships LCBench (Zimmer et al. 2021) as an ONNX network with two inputs: ``x_cat`` (the
integer code of the OpenML task, from ``encoding.json``) and ``x_cont`` (the raw values of
``epoch`` and the seven hyperparameters, float32, in a fixed order); it returns six outputs per
row. This module reproduces yahpo-gym 1.0.2's ``BenchmarkSet.objective_function`` for the
``lcbench`` scenario (checked against it in ``tests/metakb/surrogates``) so that metakb can use
the surrogate with ConfigSpace 1.x.

References:
    Pfisterer, Schneider, Moosbauer, Binder, Bischl. YAHPO Gym - An Efficient Multi-Objective
    Multi-Fidelity Benchmark for Hyperparameter Optimization. AutoML Conf 2022.
    Zimmer, Lindauer, Hutter. Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for Efficient
    and Robust AutoDL. IEEE TPAMI 43(9), 2021.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metakb.errors import ConfigError, DataError, NotFoundError

__all__ = ["LCBench", "LCBENCH_HYPERPARAMETERS", "LCBENCH_OUTPUTS", "default_data_dir"]

#: Column order of ``x_cont`` (yahpo-gym ``lcbench`` scenario ``cont_names``); epoch is the fidelity.
_CONT_NAMES = (
    "epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers",
    "max_units", "max_dropout",
)
#: The seven hyperparameters of the search space (everything in ``x_cont`` but the epoch).
LCBENCH_HYPERPARAMETERS: tuple[str, ...] = _CONT_NAMES[1:]
#: Output columns of the network (yahpo-gym ``y_names``), in order.
LCBENCH_OUTPUTS: tuple[str, ...] = (
    "time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy",
    "test_cross_entropy", "test_balanced_accuracy",
)
_TASK_PARAM = "OpenML_task_id"
_EPOCH_RANGE = (1, 52)
_FILES = ("config_space.json", "encoding.json", "model.onnx")


def default_data_dir() -> Path:
    """``$METAKB_SHARED_DATA/yahpo/lcbench``, or ``../shared/data/yahpo/lcbench`` beside the repo."""
    env = os.environ.get("METAKB_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return root / "yahpo" / "lcbench"


class LCBench:
    """The LCBench surrogate: learning-curve values of an MLP configuration on 34 OpenML tasks.

    Args:
        data_dir: the folder with ``config_space.json``, ``encoding.json`` and ``model.onnx``
            (YAHPO Gym data 1.0.2); defaults to :func:`default_data_dir`.
        n_threads: onnxruntime intra-op threads (1 keeps it polite on shared machines).

    Raises:
        DataError: a file is missing or unreadable.

    Example:
        >>> bench = LCBench()  # doctest: +SKIP
        >>> bench.evaluate([bench.configspace().get_default_configuration()], "3945")  # doctest: +SKIP
    """

    def __init__(self, data_dir: str | Path | None = None, *, n_threads: int = 1) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        for name in _FILES:
            if not (self.data_dir / name).is_file():
                raise DataError(f"LCBench surrogate file {self.data_dir / name} not found; "
                                "expected the YAHPO Gym lcbench folder")
        self._space_json = json.loads((self.data_dir / "config_space.json").read_text())
        encoding = json.loads((self.data_dir / "encoding.json").read_text())
        self._task_codes: dict[str, int] = {str(k): int(v)
                                            for k, v in encoding[_TASK_PARAM].items()}
        self._hp_json = {hp["name"]: hp for hp in self._space_json["hyperparameters"]}
        self.task_ids: list[str] = [str(t) for t in self._hp_json[_TASK_PARAM]["choices"]]
        self._session = _open_session(self.data_dir / "model.onnx", n_threads)

    def __repr__(self) -> str:
        return f"LCBench(data_dir={str(self.data_dir)!r})"

    # ------------------------------------------------------------------ space
    def configspace(self, seed: int | None = None) -> Any:
        """The seven hyperparameters as a ConfigSpace 1.x ``ConfigurationSpace``.

        Bounds, log scales, integer types and defaults are those of YAHPO's
        ``config_space.json`` (task id and epoch left out: they are the instance and fidelity).
        """
        import ConfigSpace as CS

        hps = []
        for name in LCBENCH_HYPERPARAMETERS:
            spec = self._hp_json[name]
            cls = (CS.UniformIntegerHyperparameter if spec["type"] == "uniform_int"
                   else CS.UniformFloatHyperparameter)
            hps.append(cls(name, lower=spec["lower"], upper=spec["upper"],
                           default_value=spec["default"], log=bool(spec["log"])))
        space = CS.ConfigurationSpace(seed=seed)
        space.add(hps)
        return space

    # ------------------------------------------------------------------ queries
    def evaluate(self, configs: Sequence[Mapping[str, Any]], task_id: str | int,
                 epoch: int | Sequence[int] | np.ndarray = 52, *,
                 output: str = "val_accuracy") -> np.ndarray:
        """One output of the surrogate for a batch of configurations (one ONNX call).

        Args:
            configs: configurations (dicts or ConfigSpace ``Configuration``) with the seven
                hyperparameters.
            task_id: an OpenML task id among :attr:`task_ids`.
            epoch: the fidelity, 1..52; one value or one per configuration.
            output: one of :data:`LCBENCH_OUTPUTS` (``val_accuracy`` is in percent).

        Returns:
            float64 array of shape ``(len(configs),)``.
        """
        if output not in LCBENCH_OUTPUTS:
            raise ConfigError(f"LCBench output {output!r} is unknown; expected one of "
                              f"{list(LCBENCH_OUTPUTS)}")
        return self.evaluate_all(configs, task_id, epoch)[output]

    def evaluate_all(self, configs: Sequence[Mapping[str, Any]], task_id: str | int,
                     epoch: int | Sequence[int] | np.ndarray = 52) -> dict[str, np.ndarray]:
        """Every output of the surrogate for a batch of configurations, by name."""
        x_cont = self.encode(configs, epoch)
        return self.evaluate_array(x_cont, task_id)

    def evaluate_array(self, x_cont: np.ndarray, task_id: str | int) -> dict[str, np.ndarray]:
        """Run the network on ready-made rows ``(epoch, *LCBENCH_HYPERPARAMETERS)``."""
        code = self._task_code(task_id)
        x_cont = np.asarray(x_cont, dtype=np.float32).reshape(-1, len(_CONT_NAMES))
        x_cat = np.full((x_cont.shape[0], 1), code, dtype=np.int32)
        inputs = self._session.get_inputs()
        out = self._session.run(None, {inputs[0].name: x_cat, inputs[1].name: x_cont})[0]
        return {name: out[:, i].astype(np.float64) for i, name in enumerate(LCBENCH_OUTPUTS)}

    def encode(self, configs: Sequence[Mapping[str, Any]],
               epoch: int | Sequence[int] | np.ndarray = 52) -> np.ndarray:
        """The ``x_cont`` rows (float32) of configurations at the given epoch(s)."""
        rows = np.empty((len(configs), len(_CONT_NAMES)), dtype=np.float32)
        rows[:, 0] = _check_epochs(epoch, len(configs))
        for i, config in enumerate(configs):
            values = dict(config)
            try:
                rows[i, 1:] = [float(values[name]) for name in LCBENCH_HYPERPARAMETERS]
            except KeyError as e:
                raise ConfigError(f"LCBench configuration {values} lacks hyperparameter "
                                  f"{e.args[0]!r}; expected {list(LCBENCH_HYPERPARAMETERS)}") from e
        return rows

    def _task_code(self, task_id: str | int) -> int:
        key = str(task_id)
        if key not in self.task_ids:
            raise NotFoundError(f"LCBench task {key!r} is unknown; expected one of {self.task_ids}")
        return self._task_codes[key]


def _check_epochs(epoch: int | Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    epochs = np.broadcast_to(np.asarray(epoch, dtype=np.float64), (n,))
    lo, hi = _EPOCH_RANGE
    if n and (np.any(epochs < lo) or np.any(epochs > hi) or np.any(np.isnan(epochs))):
        raise ConfigError(f"LCBench epoch must be in [{lo}, {hi}]; got {epoch!r}")
    return epochs


def _open_session(path: Path, n_threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("LCBench needs onnxruntime: pip install onnxruntime") from e
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options,
                                    providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise DataError(f"cannot load the LCBench ONNX model {path}: {e}") from e
