"""An executor on a ``dask.distributed`` cluster: a ``LocalCluster`` or an existing scheduler.

Workers need metakb (and whatever the objective imports) installed; functions travel with
cloudpickle, so closures work. Results come back to the caller, which stores them (one writer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metakb.errors import ConfigError, NetworkError
from metakb.executors._base import Executor

__all__ = ["DaskExecutor"]


class DaskExecutor(Executor):
    """Run evaluations on Dask workers, asynchronously.

    Args:
        n_workers: start a ``LocalCluster`` with this many single-threaded workers (ignored
            with ``address``).
        address: the scheduler of an existing cluster (``tcp://host:8786``); its workers'
            threads are the slots.
        processes: LocalCluster workers as processes (True) or threads in this process.
        timeout: seconds to wait for the scheduler.

    Raises:
        NetworkError: the scheduler at ``address`` does not answer.
    """

    def __init__(self, n_workers: int | None = None, *, address: str | None = None,
                 processes: bool = True, timeout: float = 30.0) -> None:
        from distributed import Client, LocalCluster

        if address is None and not (isinstance(n_workers, int) and n_workers >= 1):
            raise ConfigError(f"The 'n_workers' parameter of DaskExecutor must be an int >= 1 "
                              f"without an address; got {n_workers!r}")
        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                         processes=processes, dashboard_address=None)
            self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as e:
                raise NetworkError(f"Dask scheduler {address!r} did not answer in {timeout} s; "
                                   "expected a running scheduler") from e

    @property
    def n_workers(self) -> int:
        workers = self.client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> list[Any]:
        from distributed import wait

        done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        return list(done)

    def outcome(self, future: Any) -> tuple[Any, str | None]:
        if future.status == "error":
            error = future.exception()
            return None, f"{type(error).__name__}: {error}"
        if future.status == "cancelled":
            return None, "CancelledError: the Dask task was cancelled (worker lost?)"
        return future.result(), None

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
