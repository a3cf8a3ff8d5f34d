"""The executor contract: run independent evaluations, hand back each result as it arrives.

An executor has ``n_workers`` slots. ``submit(fn, *args)`` returns a future at once;
``wait_first(futures)`` blocks until at least one is done and returns the done ones;
``outcome(future)`` gives ``(value, None)`` or ``(None, "ErrorType: message")`` for an
evaluation that raised (a failed evaluation is a result, not an error of the caller). The
optimizer loop (:meth:`metakb.optimizers.BaseOptimizer.optimize`) and ``metakb build`` keep
``n_workers`` evaluations in flight and store each result as it arrives (one writer).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["Executor"]


class Executor(abc.ABC):
    """Runs functions on ``n_workers`` workers, asynchronously."""

    @property
    @abc.abstractmethod
    def n_workers(self) -> int:
        """How many evaluations may run at once."""

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Start ``fn(*args, **kwargs)``; return its future without waiting."""

    @abc.abstractmethod
    def wait_first(self, futures: list[Any], timeout: float | None = None) -> list[Any]:
        """Block until at least one future is done (or ``timeout``); return the done ones."""

    @abc.abstractmethod
    def outcome(self, future: Any) -> tuple[Any, str | None]:
        """``(value, None)``, or ``(None, error text)`` when the function raised."""

    def close(self) -> None:  # noqa: B027 - executors without resources need nothing
        """Release workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def imap_unordered(self, fn: Callable[..., Any], items: Iterable[Any]
                       ) -> Iterator[tuple[Any, Any, str | None]]:
        """``(item, value, error)`` for each item, as they finish, ``n_workers`` at a time."""
        pending = iter(items)
        in_flight: dict[Any, Any] = {}
        while True:
            for item in pending:
                in_flight[self.submit(fn, item)] = item
                if len(in_flight) >= self.n_workers:
                    break
            if not in_flight:
                return
            for future in self.wait_first(list(in_flight)):
                item = in_flight.pop(future)
                value, error = self.outcome(future)
                yield item, value, error
