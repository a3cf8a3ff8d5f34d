"""Run evaluations in worker processes, each with a wall-clock timeout and a memory cap.

A worker is a long-lived process (it keeps the last datasets it loaded); the parent hands it
one task at a time and waits. A task past its timeout gets its worker killed and is recorded
as ``timeout``; a worker that dies (a segfault, the kernel's OOM killer) is recorded as
``crashed`` or ``memout`` and replaced; a ``MemoryError`` under the address-space cap is
``memout``. None of these stops the batch.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from metakb.data import Table
from metakb.errors import ConfigError, EvaluationError
from metakb.evaluation._evaluate import EvaluationResult
from metakb.evaluation._protocol import Protocol
from metakb.executors import Executor

__all__ = ["DataRef", "EvaluationTask", "WorkerPool", "PoolFuture", "evaluate_tasks", "failure_status", "run_task"]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class DataRef:
    """Where a worker finds a dataset: a PMLB folder, a file with its target, or a table itself."""

    kind: str  # pmlb | file | table
    path: str = ""
    target: str = ""
    table: Table | None = field(default=None, compare=False, hash=False)
    key: str = ""  # identity for the worker's cache (content hash for tables)
    task: str = ""  # "regression" loads the target as numbers; "" or "classification" as labels

    def load(self) -> Table:
        """Load the dataset (in the worker), with its target as the task needs it."""
        from metakb.data import as_task_table, load_pmlb, load_table

        if self.kind == "pmlb":
            table = load_pmlb(self.path)
        elif self.kind == "file":
            table = load_table(self.path, self.target)
        else:
            table = None
        if table is not None:
            return as_task_table(table, "regression") if self.task == "regression" else table
        if self.kind == "table" and self.table is not None:
            return self.table
        raise ConfigError(f"data reference kind must be pmlb, file or table, got {self.kind!r}")

    def cache_key(self) -> str:
        """The worker's cache key of the loaded table (the task only when one is set)."""
        base = f"{self.kind}:{self.path}:{self.target}"
        return self.key or (f"{base}:{self.task}" if self.task else base)


@dataclass
class EvaluationTask:
    """One configuration on one dataset at one budget and seed; ``key`` is the caller's handle."""

    key: Hashable
    data: DataRef
    config: dict[str, Any]
    protocol: Protocol
    budget: float = 1.0
    seed: int = 0
    budget_mode: str = "rows"


def _worker_main(conn: Connection, memory_mb: int) -> None:
    """The loop of a worker process: receive ``(id, fn, args, kwargs)``, run it, send the outcome.

    The outcome is ``(id, "ok", value)``, ``(id, "memout", text)`` for a MemoryError (under
    the address-space cap) or ``(id, "error", text)`` for any other exception.
    """
    if memory_mb > 0:
        import resource

        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    import metakb.evaluation._evaluate  # noqa: F401 - import before the ready signal, not per task

    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        task_id, fn, args, kwargs = message
        try:
            conn.send((task_id, "ok", fn(*args, **kwargs)))
        except MemoryError as exc:
            _TASK_CACHE.clear()
            conn.send((task_id, "memout", f"MemoryError while loading or evaluating: {exc}"))
        except Exception as exc:  # loading failures are recorded like model failures
            conn.send((task_id, "error", f"{type(exc).__name__}: {exc}"[:2000]))


class PoolFuture:
    """The future of one function submitted to a :class:`WorkerPool`.

    ``status`` is ``ok``, ``crashed`` (the function raised, or its worker died), ``timeout``
    or ``memout`` once done; ``value`` and ``error`` hold the outcome.
    """

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.call = (fn, args, kwargs)
        self.status: str | None = None
        self.value: Any = None
        self.error: str | None = None
        self.seconds: float | None = None  # wall time of a call that timed out or killed its worker

    def done(self) -> bool:
        """Whether the outcome is known."""
        return self.status is not None

    def finish(self, status: str, value: Any = None, error: str | None = None,
               seconds: float | None = None) -> None:
        self.status, self.value, self.error, self.seconds = status, value, error, seconds


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned worker without re-running the caller's ``__main__``.

    A ``spawn`` child normally imports the parent's main script first, so a user's script
    without an ``if __name__ == "__main__":`` guard would run again inside every worker (and
    fail). The worker needs nothing of it -- its target and every task live in metakb -- so the
    main module is presented as an interactive one (no file, no spec) while the child starts,
    which is what multiprocessing does for a notebook or ``python -c``.
    """
    import sys

    main = sys.modules.get("__main__")
    saved: dict[str, Any] = {k: main.__dict__[k] for k in ("__file__", "__spec__")
                             if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


#: Wall time a starting worker may take, as a multiple of its CPU-time start limit.
_START_WALL_FACTOR = 10


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``), None where unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class _Worker:
    def __init__(self, context: Any, memory_mb: int) -> None:
        parent, child = context.Pipe()
        saved = {k: os.environ.get(k) for k in _THREAD_VARIABLES}
        os.environ.update({k: "1" for k in _THREAD_VARIABLES})  # one core per worker
        try:
            self.process = context.Process(target=_worker_main, args=(child, memory_mb), daemon=True)
            with _main_module_hidden():
                self.process.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        child.close()
        self.conn = parent
        self.task_id: int | None = None
        self.future: PoolFuture | None = None  # the call in flight (None: idle)
        self.task: Any = None  # its first argument: the EvaluationTask of a run_task call
        self.deadline = 0.0
        self.started = 0.0
        self.ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the worker has imported everything; raise if it died on the way.

        ``timeout`` counts the worker's own CPU seconds where the system tells them (Linux
        ``/proc``), so a worker started under ``nice`` on a busy machine is not taken for a
        hung one while it waits for a core; a worker that neither starts nor dies is still
        given up after ``_START_WALL_FACTOR`` times ``timeout`` of wall time.
        """
        if self.ready:
            return
        try:
            began = time.monotonic()
            while not self.conn.poll(min(5.0, timeout)):
                used = _cpu_seconds(self.process.pid)
                waited = time.monotonic() - began
                if not self.process.is_alive():
                    raise EOFError("the worker exited")
                if (used if used is not None else waited) > timeout or waited > _START_WALL_FACTOR * timeout:
                    raise EvaluationError(f"worker process did not start within {timeout:g} s "
                                          f"({waited:.0f} s waited, {used if used is not None else waited:.0f} "
                                          "s of its CPU)")
            message = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.process.join(timeout=5)
            raise EvaluationError(
                f"worker process failed to start (exit code {self.process.exitcode}); its output above "
                "says why (the worker imports only metakb, never the calling script)") from exc
        if not (isinstance(message, tuple) and message[0] == "ready"):
            raise EvaluationError(f"worker process sent {message!r} instead of its ready signal")
        self.ready = True

    def assign(self, task_id: int, task: PoolFuture, timeout: float) -> None:
        self.task_id, self.future = task_id, task
        self.task = task.call[1][0] if task.call[1] else None
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.conn.send((task_id, *task.call))

    def release(self) -> PoolFuture:
        task = self.future
        self.task_id, self.future, self.task = None, None, None
        assert task is not None
        return task

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class WorkerPool(Executor):
    """An :class:`~metakb.executors.Executor` of ``n_workers`` processes with a timeout and a
    memory cap per call.

    ``submit(fn, *args)`` queues a call (``fn`` must be importable: workers are spawned);
    :meth:`wait_first` hands calls to idle workers and waits. A call past ``timeout`` gets its
    worker killed and is done with status ``timeout``; a worker that dies (a segfault, the
    kernel's OOM killer) ends its call as ``crashed`` or ``memout`` and is replaced; a
    ``MemoryError`` is ``memout``. ``outcome`` gives ``(value, None)`` or ``(None, error)`` as
    every executor does; :func:`failure_status` tells a timeout or memout apart from a crash.

    Args:
        n_workers: worker processes (each limited to one BLAS/OpenMP thread).
        timeout: seconds of wall-clock time per call before the worker is killed.
        memory_mb: address-space cap of a worker in MiB (0: none).

    Example:
        >>> with WorkerPool(2, timeout=60) as pool:                      # doctest: +SKIP
        ...     for task, result in pool.map_unordered(tasks):
        ...         store(task.key, result)
    """

    def __init__(self, n_workers: int = 1, *, timeout: float = 60.0, memory_mb: int = 4096) -> None:
        if n_workers < 1:
            raise ConfigError(f"the number of workers must be >= 1, got {n_workers}")
        if timeout <= 0:
            raise ConfigError(f"the evaluation timeout must be > 0 seconds, got {timeout}")
        if memory_mb < 0:
            raise ConfigError(f"the memory cap must be >= 0 MiB (0: none), got {memory_mb}")
        self._n, self.timeout, self.memory_mb = n_workers, float(timeout), int(memory_mb)
        self._context = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._pending: deque[PoolFuture] = deque()
        self._next_id = 0

    @property
    def n_workers(self) -> int:
        return self._n

    def __enter__(self) -> WorkerPool:
        return self

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def _ensure_workers(self) -> None:
        while len(self._workers) < self._n:
            self._workers.append(_Worker(self._context, self.memory_mb))
        for worker in self._workers:  # started together, then awaited: startup runs in parallel
            worker.wait_ready()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        fresh = _Worker(self._context, self.memory_mb)
        fresh.wait_ready()
        self._workers[self._workers.index(worker)] = fresh

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> PoolFuture:
        """Queue ``fn(*args, **kwargs)`` for the next idle worker; return its future."""
        future = PoolFuture(fn, args, kwargs)
        self._pending.append(future)
        return future

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> list[Any]:
        """Run queued calls until one of ``futures`` is done (or ``timeout``); return the done ones."""
        stop = None if timeout is None else time.monotonic() + timeout
        self._ensure_workers()
        while True:
            done = [f for f in futures if f.done()]
            if done or (stop is not None and time.monotonic() >= stop):
                return done
            for worker in self._workers:
                if worker.future is None and self._pending:
                    self._next_id += 1
                    worker.assign(self._next_id, self._pending.popleft(), self.timeout)
            busy = [w for w in self._workers if w.future is not None]
            if not busy:
                return done
            until = min(w.deadline for w in busy) if stop is None else min(stop, *(w.deadline for w in busy))
            ready = wait([w.conn for w in busy], timeout=max(0.0, until - time.monotonic()))
            for worker in busy:
                if worker.conn in ready:
                    self._collect(worker)
                elif time.monotonic() >= worker.deadline:
                    future = worker.release()
                    self._replace(worker)
                    future.finish("timeout", seconds=self.timeout,
                                  error=f"evaluation exceeded the timeout of {self.timeout:g} s")

    def outcome(self, future: Any) -> tuple[Any, str | None]:
        """``(value, None)`` of a call that returned, else ``(None, error text)``."""
        return (future.value, None) if future.status == "ok" else (None, future.error)

    def map_unordered(self, tasks: Iterable[EvaluationTask]) -> Iterator[tuple[EvaluationTask, EvaluationResult]]:
        """Yield ``(task, result)`` as evaluations finish, in completion order (:func:`evaluate_tasks`)."""
        return evaluate_tasks(self, tasks)

    def _collect(self, worker: _Worker) -> None:
        elapsed = time.monotonic() - worker.started
        try:
            task_id, status, payload = worker.conn.recv()
        except (EOFError, OSError):
            future = worker.release()
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            self._replace(worker)
            if code == -signal.SIGKILL:
                future.finish("memout", seconds=elapsed,
                              error="worker killed by SIGKILL (the system ran out of memory?)")
            else:
                future.finish("crashed", seconds=elapsed, error=f"worker process died with exit code {code}")
            return
        if task_id != worker.task_id:  # cannot happen: one task in flight per worker
            raise RuntimeError(f"worker answered task {task_id}, expected {worker.task_id}")
        future = worker.release()
        if status == "ok":
            future.finish("ok", value=payload)
        else:
            future.finish("memout" if status == "memout" else "crashed", error=payload)


def failure_status(future: Any) -> str:
    """The status of a failed call: ``timeout``/``memout``/``crashed`` from a :class:`WorkerPool`,
    ``crashed`` from any other executor (its function raised)."""
    status = getattr(future, "status", None)
    return status if status in ("timeout", "memout") else "crashed"


def evaluate_tasks(executor: Executor, tasks: Iterable[EvaluationTask]
                   ) -> Iterator[tuple[EvaluationTask, EvaluationResult]]:
    """The one dispatch path of evaluations: ``(task, result)`` as they finish on ``executor``.

    Each task runs :func:`run_task` on a worker, ``executor.n_workers`` at a time. A call that
    fails becomes a result of status ``crashed`` (or the pool's ``timeout``/``memout``) with
    the error text: a failed evaluation is data, not an error of the caller.
    """
    pending = iter(tasks)
    in_flight: dict[Any, EvaluationTask] = {}
    while True:
        for task in pending:
            in_flight[executor.submit(run_task, task)] = task
            if len(in_flight) >= executor.n_workers:
                break
        if not in_flight:
            return
        for future in executor.wait_first(list(in_flight)):
            task = in_flight.pop(future)
            value, error = executor.outcome(future)
            if error is None:
                yield task, value
            else:
                yield task, EvaluationResult(failure_status(future), fit_seconds=getattr(future, "seconds", None),
                                             error=error[:2000])


_TASK_CACHE: dict[tuple[str, str, int], Table] = {}


def run_task(task: EvaluationTask) -> EvaluationResult:
    """Evaluate one task in the calling process (for executors such as Dask that own their workers).

    The last prepared dataset is cached per process, as in :class:`WorkerPool`'s workers. There
    is no per-evaluation timeout or memory cap here: the executor's own limits apply.
    """
    from metakb.evaluation._evaluate import evaluate_configuration, prepare_table

    key = (task.data.cache_key(), task.protocol.key(), task.seed)
    table = _TASK_CACHE.get(key)
    if table is None:
        table = prepare_table(task.data.load(), task.protocol, task.seed)
        _TASK_CACHE.clear()
        _TASK_CACHE[key] = table
    return evaluate_configuration(table, task.config, protocol=task.protocol, budget=task.budget,
                                  budget_mode=task.budget_mode, seed=task.seed, prepared=True)


def data_ref_for_pmlb(folder: str | Path) -> DataRef:
    """A reference to a PMLB dataset folder."""
    return DataRef("pmlb", path=str(folder))
