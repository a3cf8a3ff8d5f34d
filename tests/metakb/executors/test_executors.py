"""Executors: the contract, and the speed-up of parallel workers on a sleep-dominated objective."""

from __future__ import annotations

import os
import time

import pytest

from metakb.errors import ConfigError
from metakb.executors import ProcessExecutor, SerialExecutor, make_executor
from metakb.optimizers import BOHB

SLEEP = 0.25


def _sleepy_loss_factory(sleep: float):
    """A mostly-sleeping objective, built as a closure so that cloudpickle ships it by value
    (Dask workers need not import this test module)."""

    def sleepy_loss(config: dict, budget: float) -> float:
        time.sleep(sleep)
        return (config["x"] - 0.3) ** 2 + 1.0 / budget

    return sleepy_loss


def pid_after_sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def fails_on_big_x(x: float) -> float:
    if x > 0.5:
        raise ValueError(f"x={x} too big")
    return x


@pytest.fixture()
def space():
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    cs.add(CS.UniformFloatHyperparameter("x", 0.0, 1.0))
    return cs


def test_serial_executor_outcomes() -> None:
    with SerialExecutor() as ex:
        results = {item: (value, error)
                   for item, value, error in ex.imap_unordered(fails_on_big_x, [0.1, 0.9])}
    assert results[0.1] == (0.1, None)
    assert results[0.9][0] is None and results[0.9][1].startswith("ValueError: x=0.9")


def test_process_executor_runs_in_parallel_and_reports_errors() -> None:
    with ProcessExecutor(2, start_method="fork") as ex:
        got = sorted(ex.imap_unordered(fails_on_big_x, [0.1, 0.2, 0.7]), key=lambda r: r[0])
    assert [g[1] for g in got] == [0.1, 0.2, None] and "too big" in got[2][2]
    with ProcessExecutor(2, start_method="fork") as ex:  # both workers take items, at once
        start = time.monotonic()
        pids = {value for _, value, _ in ex.imap_unordered(pid_after_sleep, [0.5] * 4)}
        wall = time.monotonic() - start
    assert len(pids) == 2 and os.getpid() not in pids
    assert wall < 1.9, f"4 sleeps of 0.5 s on 2 workers took {wall:.2f} s (serial: 2 s)"


def test_executor_validation() -> None:
    with pytest.raises(ConfigError, match="n_workers"):
        ProcessExecutor(0)
    with pytest.raises(ConfigError, match="start_method"):
        ProcessExecutor(1, start_method="teleport")
    with pytest.raises(ConfigError, match="kind"):
        make_executor("gpu-farm")
    assert isinstance(make_executor("auto", 1), SerialExecutor)


def _wall_per_evaluation(space, executor, n: int, sleep: float = SLEEP) -> tuple[float, list]:
    objective = _sleepy_loss_factory(sleep)
    executor.client.run(_sleepy_loss_factory(0.0), {"x": 0.0}, 1.0)  # warm the workers up
    opt = BOHB(space, 1, 9, seed=0)
    start = time.monotonic()
    result = opt.optimize(objective, n_evaluations=n, executor=executor, progress=False)
    return (time.monotonic() - start) / n, result.history


def test_dask_local_cluster_four_workers_3x_faster(space) -> None:
    pytest.importorskip("distributed")
    from metakb.executors import DaskExecutor

    with DaskExecutor(1, processes=False) as one:
        per_eval_1, hist_1 = _wall_per_evaluation(space, one, 6)
    with DaskExecutor(4, processes=False) as four:
        assert four.n_workers == 4
        per_eval_4, hist_4 = _wall_per_evaluation(space, four, 16)
    assert len(hist_4) == 16 and len({r.trial_id for r in hist_4}) == 16  # nothing lost
    assert all(r.info["status"] == "ok" for r in hist_4)
    print(f"dask threads: {per_eval_1:.3f} s/eval with 1 worker, {per_eval_4:.3f} with 4, "
          f"speed-up {per_eval_1 / per_eval_4:.2f}x")
    assert per_eval_1 / per_eval_4 >= 3.0, (per_eval_1, per_eval_4)


@pytest.mark.slow
def test_dask_worker_processes_four_vs_one(space) -> None:
    pytest.importorskip("distributed")
    from metakb.executors import DaskExecutor

    with DaskExecutor(1) as one:
        per_eval_1, _ = _wall_per_evaluation(space, one, 8, sleep=1.0)
    with DaskExecutor(4) as four:
        per_eval_4, hist = _wall_per_evaluation(space, four, 32, sleep=1.0)
    assert len({r.trial_id for r in hist}) == 32
    print(f"dask processes: {per_eval_1:.3f} s/eval with 1 worker, {per_eval_4:.3f} with 4, "
          f"speed-up {per_eval_1 / per_eval_4:.2f}x")
    assert per_eval_1 / per_eval_4 >= 3.0, (per_eval_1, per_eval_4)
