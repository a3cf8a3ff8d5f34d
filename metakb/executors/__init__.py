"""Where evaluations run: in this process, in local worker processes, or on a Dask cluster.

All executors share one contract (:class:`Executor`): ``submit`` returns at once,
``wait_first`` returns whatever finished, ``outcome`` turns an exception into an error text.
"""

from __future__ import annotations

from typing import Any

from metakb.errors import ConfigError
from metakb.executors._base import Executor
from metakb.executors._local import ProcessExecutor, SerialExecutor

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor"]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":  # lazy: importing distributed takes a second
        from metakb.executors._dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'metakb.executors' has no attribute {name!r}")


def make_executor(kind: str = "auto", n_workers: int = 1, scheduler: str | None = None
                  ) -> Executor:
    """The executor the CLI options describe.

    Args:
        kind: ``"serial"``, ``"process"``, ``"dask"``, or ``"auto"`` (Dask when a scheduler
            address or more than one worker is given, serial otherwise).
        n_workers: evaluations at once.
        scheduler: the address of an existing Dask scheduler.
    """
    if kind == "auto":
        kind = "dask" if scheduler or n_workers > 1 else "serial"
    if kind == "serial":
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(n_workers)
    if kind == "dask":
        from metakb.executors._dask import DaskExecutor

        return DaskExecutor(n_workers, address=scheduler)
    raise ConfigError(f"executor kind {kind!r} is unknown; expected serial, process, dask or auto")
