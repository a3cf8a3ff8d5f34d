"""Executors on this machine: in-process (serial) and a pool of worker processes."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable
from typing import Any

from metakb.errors import ConfigError
from metakb.executors._base import Executor

__all__ = ["SerialExecutor", "ProcessExecutor"]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class SerialExecutor(Executor):
    """Runs each function at submission, in this process (one worker; for tests and debugging)."""

    @property
    def n_workers(self) -> int:
        return 1

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:  # the evaluation's failure is its outcome
            future.set_exception(e)
        return future

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> list[Any]:
        return [f for f in futures if f.done()]

    def outcome(self, future: Any) -> tuple[Any, str | None]:
        error = future.exception()
        return (None, _error_text(error)) if error is not None else (future.result(), None)


class ProcessExecutor(SerialExecutor):
    """A pool of ``n_workers`` worker processes (``concurrent.futures``).

    Args:
        n_workers: the number of processes.
        start_method: ``"spawn"`` (default: safe with threaded libraries), ``"forkserver"`` or
            ``"fork"``. Functions must be importable (module-level) to reach the workers.
    """

    def __init__(self, n_workers: int = 2, *, start_method: str = "spawn") -> None:
        if not (isinstance(n_workers, int) and n_workers >= 1):
            raise ConfigError(f"The 'n_workers' parameter of ProcessExecutor must be an int >= 1; "
                              f"got {n_workers!r}")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ConfigError(f"start_method {start_method!r} is not available; expected one of "
                              f"{multiprocessing.get_all_start_methods()}")
        self._n = n_workers
        self._pool = cf.ProcessPoolExecutor(
            max_workers=n_workers, mp_context=multiprocessing.get_context(start_method))

    @property
    def n_workers(self) -> int:
        return self._n

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future:
        return self._pool.submit(fn, *args, **kwargs)

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> list[Any]:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
