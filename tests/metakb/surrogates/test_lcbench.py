"""The LCBench loader against yahpo-gym 1.0.2's own outputs (recorded in fixtures/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.surrogates import LCBENCH_HYPERPARAMETERS, LCBENCH_OUTPUTS, LCBench

FIXTURE = Path(__file__).parent / "fixtures" / "lcbench_yahpo.json"


@pytest.fixture(scope="module")
def bench(shared_data: Path) -> LCBench:
    pytest.importorskip("onnxruntime")
    folder = shared_data / "yahpo" / "lcbench"
    if not folder.is_dir():
        pytest.skip(f"LCBench surrogate not found at {folder}")
    return LCBench(folder)


def test_task_ids_and_space(bench: LCBench) -> None:
    assert len(bench.task_ids) == 34
    assert "3945" in bench.task_ids and all(isinstance(t, str) for t in bench.task_ids)
    space = bench.configspace()
    assert sorted(space.keys()) == sorted(LCBENCH_HYPERPARAMETERS)
    assert space["learning_rate"].log and space["batch_size"].log and space["max_units"].log
    assert not space["weight_decay"].log and not space["momentum"].log
    assert (space["batch_size"].lower, space["batch_size"].upper) == (16, 512)


def test_matches_yahpo_gym(bench: LCBench) -> None:
    records = json.loads(FIXTURE.read_text())["records"]
    assert len(records) >= 150
    for task in sorted({r["task_id"] for r in records}):
        rows = [r for r in records if r["task_id"] == task]
        got = bench.evaluate_all([r["config"] for r in rows], task, [r["epoch"] for r in rows])
        for name in LCBENCH_OUTPUTS:
            want = np.array([r["outputs"][name] for r in rows])
            np.testing.assert_allclose(got[name], want, rtol=1e-5, atol=1e-5, err_msg=name)


def test_evaluate_one_output_and_broadcast_epoch(bench: LCBench) -> None:
    configs = [dict(c) for c in bench.configspace(seed=1).sample_configuration(4)]
    acc = bench.evaluate(configs, 3945, epoch=52)
    assert acc.shape == (4,) and np.all((acc >= 0) & (acc <= 100))
    np.testing.assert_array_equal(acc, bench.evaluate_all(configs, "3945", [52] * 4)["val_accuracy"])


def test_rejects_bad_inputs(bench: LCBench) -> None:
    config = dict(bench.configspace().get_default_configuration())
    with pytest.raises(NotFoundError, match="12345"):
        bench.evaluate([config], "12345")
    with pytest.raises(ConfigError, match="epoch"):
        bench.evaluate([config], "3945", epoch=53)
    with pytest.raises(ConfigError, match="epoch"):
        bench.evaluate([config], "3945", epoch=0)
    with pytest.raises(ConfigError, match="output"):
        bench.evaluate([config], "3945", output="accuracy")
    with pytest.raises(ConfigError, match="momentum"):
        bench.evaluate([{k: v for k, v in config.items() if k != "momentum"}], "3945")


def test_missing_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="config_space.json"):
        LCBench(tmp_path)
