"""The worker pool: a timeout, a crash, a killed worker and a memout never stop the batch.

One batch runs once for the module (worker start-up costs seconds) through a pool of one
worker, so the tasks run in order:

1. ``ok``       k-NN on lupus;
2. ``killed``   a slow random forest on magic whose worker is killed with SIGKILL mid-task;
3. ``slow``     the same slow forest, past the 3 s timeout;
4. ``missing``  a data reference to a file that does not exist (the worker survives);
5. ``huge``     an MLP with a 20000 x 20000 weight matrix under a 1.2 GB memory cap;
6. ``after``    k-NN on lupus again: the batch went on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from metakb.errors import ConfigError
from metakb.evaluation import DataRef, EvaluationTask, Protocol, WorkerPool
from metakb.spaces import get_search_space

DEFAULTS = get_search_space("sklearn-cash").defaults()
TIMEOUT = 3.0
SLOW = {**DEFAULTS["random_forest"], "random_forest:n_estimators": 500, "random_forest:max_features": "1.0",
        "random_forest:criterion": "entropy"}
# About 40 s on magic (19,020 rows) on a 2-core CI machine: a dozen times the timeout, so a faster
# machine still times out (mushroom, used before, finished inside 3 s on one).
HUGE = {**DEFAULTS["mlp"], "mlp:n_units": 20000, "mlp:n_layers": 2}  # 3.2 GB of weights


def _killer(pool: WorkerPool, key: str, record: dict[str, int], stop: threading.Event) -> None:
    """Kill the worker running task ``key`` one second after it started."""
    while not stop.is_set():
        for worker in list(pool._workers):
            task = worker.task
            if task is not None and task.key == key and time.monotonic() - worker.started > 1.0:
                record["pid"] = worker.process.pid
                os.kill(worker.process.pid, signal.SIGKILL)
                return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def batch(pmlb_dir, tmp_path_factory):
    lupus = DataRef("pmlb", path=str(pmlb_dir / "lupus"))
    magic = DataRef("pmlb", path=str(pmlb_dir / "magic"))
    missing = DataRef("file", path=str(tmp_path_factory.mktemp("pool") / "absent.csv"), target="y")
    protocol = Protocol()
    tasks = [
        EvaluationTask("ok", lupus, DEFAULTS["k_neighbors"], protocol),
        EvaluationTask("killed", magic, SLOW, protocol),
        EvaluationTask("slow", magic, SLOW, protocol),
        EvaluationTask("missing", missing, DEFAULTS["k_neighbors"], protocol),
        EvaluationTask("huge", lupus, HUGE, protocol),
        EvaluationTask("after", lupus, DEFAULTS["k_neighbors"], protocol),
    ]
    killed: dict[str, int] = {}
    stop = threading.Event()
    with WorkerPool(1, timeout=TIMEOUT, memory_mb=1200) as pool:
        thread = threading.Thread(target=_killer, args=(pool, "killed", killed, stop), daemon=True)
        thread.start()
        results = {}
        pids = {}
        done_at = {}
        for task, result in pool.map_unordered(tasks):
            results[task.key] = result
            pids[task.key] = pool._workers[0].process.pid
            done_at[task.key] = time.monotonic()
        stop.set()
        thread.join()
    return {"results": results, "order": list(results), "killed_pid": killed.get("pid"), "pids": pids,
            "done_at": done_at}


def test_every_task_gets_a_result_in_order(batch):
    assert batch["order"] == ["ok", "killed", "slow", "missing", "huge", "after"]


def test_ok_tasks_before_and_after_the_failures(batch):
    for key in ("ok", "after"):
        result = batch["results"][key]
        assert result.status == "ok", result.error
        assert 0.0 <= result.value <= 1.0
    assert batch["results"]["ok"].scores == batch["results"]["after"].scores  # seeded: same result


def test_timeout_is_recorded(batch):
    result = batch["results"]["slow"]
    assert result.status == "timeout"
    assert result.value is None
    assert f"timeout of {TIMEOUT:g} s" in result.error
    assert result.fit_seconds == pytest.approx(TIMEOUT)


def test_killed_worker_is_recorded_and_replaced(batch):
    result = batch["results"]["killed"]
    assert batch["killed_pid"] is not None, "the worker was never killed"
    assert result.status in ("crashed", "memout")
    assert "SIGKILL" in result.error or "exit code" in result.error
    assert batch["pids"]["after"] != batch["killed_pid"]  # a fresh worker took over


def test_missing_data_file_is_a_crash(batch):
    result = batch["results"]["missing"]
    assert result.status == "crashed"
    assert "DataError" in result.error and "absent.csv does not exist" in result.error


def test_allocation_past_the_memory_cap_is_a_memout(batch):
    result = batch["results"]["huge"]
    assert result.status == "memout", result.error
    assert "MemoryError" in result.error


def test_killed_and_timed_out_tasks_get_fresh_workers(batch):
    # Each failure ends its worker and starts a fresh one before the next task: the worker that
    # ran "ok", the one after the kill and the one after the timeout are three processes (a pool
    # that let the slow forest run on would answer "slow" from the killed task's worker). The
    # timeout fires no earlier than its 3 s (the gap may be longer under load: worker start-up).
    pids, done = batch["pids"], batch["done_at"]
    assert len({pids["ok"], pids["killed"], pids["slow"]}) == 3, pids
    assert done["slow"] - done["killed"] >= TIMEOUT, done


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_workers": 0}, "workers"),
    ({"timeout": 0}, "timeout"),
    ({"memory_mb": -1}, "memory"),
])
def test_pool_parameters_are_validated(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        WorkerPool(**kwargs)


def test_data_ref_kinds(tmp_path: Path):
    with pytest.raises(ConfigError, match="kind"):
        DataRef("url", path="http://x").load()
    assert DataRef("file", path="a.csv", target="y").cache_key() == "file:a.csv:y"
    assert DataRef("table", key="abc").cache_key() == "abc"


def test_a_starting_worker_is_timed_by_its_own_cpu_seconds() -> None:
    """A worker starved of CPU (a niced build on a busy machine) is not taken for a hung one:
    its start limit counts its own CPU seconds, read from /proc where there is one."""
    import os
    import sys

    from metakb.evaluation._pool import _cpu_seconds

    if not sys.platform.startswith("linux"):
        pytest.skip("CPU seconds of another process are read from /proc")
    used = _cpu_seconds(os.getpid())
    assert used is not None and used > 0
    assert _cpu_seconds(None) is None and _cpu_seconds(2**22 + 12345) is None
