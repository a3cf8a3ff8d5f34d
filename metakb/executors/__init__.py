"""Where evaluations run: in this process, in local worker processes, or on a Dask cluster.

All executors share one contract (:class:`Executor`): ``submit`` returns at once,
``wait_first`` returns whatever finished, ``outcome`` turns an exception into an error text.
"""

from __future__ import annotations

from typing import Any

from metakb.errors import ConfigError
from metakb.executors._base import Executor
from metakb.executors._local import ProcessExecutor, SerialExecutor
from metakb.registry import Registry

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "EXECUTORS", "make_executor"]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":  # lazy: importing distributed takes a second
        from metakb.executors._dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'metakb.executors' has no attribute {name!r}")


def _serial(n_workers: int, scheduler: str | None, **limits: Any) -> Executor:
    return SerialExecutor()


def _process(n_workers: int, scheduler: str | None, **limits: Any) -> Executor:
    return ProcessExecutor(n_workers)


def _dask(n_workers: int, scheduler: str | None, **limits: Any) -> Executor:
    from metakb.executors._dask import DaskExecutor  # lazy: distributed is an optional extra

    return DaskExecutor(n_workers, address=scheduler)


def _local(n_workers: int, scheduler: str | None, **limits: Any) -> Executor:
    from metakb.evaluation import WorkerPool  # lazy: the evaluation layer sits above executors

    return WorkerPool(n_workers, **limits)


#: Executor kind -> factory ``f(n_workers, scheduler, **limits) -> Executor``; one line each.
#: ``local`` is the evaluation worker pool (a timeout and memory cap per evaluation: ``limits``
#: ``timeout`` and ``memory_mb``); the others ignore ``limits``.
EXECUTORS: Registry[Any] = Registry("executor kind")
EXECUTORS.register("serial", _serial)
EXECUTORS.register("process", _process)
EXECUTORS.register("dask", _dask)
EXECUTORS.register("local", _local)


def make_executor(kind: str = "auto", n_workers: int = 1, scheduler: str | None = None,
                  **limits: Any) -> Executor:
    """The executor the CLI options describe.

    Args:
        kind: a name of :data:`EXECUTORS` (``"serial"``, ``"process"``, ``"dask"``,
            ``"local"``), or ``"auto"`` (Dask when a scheduler address or more than one worker
            is given, serial otherwise).
        n_workers: evaluations at once.
        scheduler: the address of an existing Dask scheduler.
        limits: per-evaluation limits of the ``local`` pool (``timeout``, ``memory_mb``).
    """
    if kind == "auto":
        kind = "dask" if scheduler or n_workers > 1 else "serial"
    if kind not in EXECUTORS:
        raise ConfigError(f"executor kind {kind!r} is unknown; expected serial, process, dask, local or auto")
    return EXECUTORS[kind](n_workers, scheduler, **limits)
