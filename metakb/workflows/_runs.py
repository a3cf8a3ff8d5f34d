"""The clock and heartbeat of a stored run (build, optimize): the workflow layer's, since it
writes to the knowledge base."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

__all__ = ["RunClock"]


class RunClock:
    """The run's wall seconds over all its sessions, and its heartbeat while it runs.

    A background thread says every ``interval`` seconds that the run is alive, so that a run
    whose evaluations take minutes is not taken for a dead one (``KnowledgeBase.stale_runs``).
    """

    def __init__(self, kb: Any, run_id: str, spent: float, interval: float = 60.0) -> None:
        self.kb, self.run_id, self.spent, self.interval = kb, run_id, spent, interval
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def elapsed(self) -> float:
        """Seconds spent by this run, earlier sessions included."""
        return self.spent + (time.monotonic() - self._start)

    def __enter__(self) -> RunClock:
        self._start = time.monotonic()
        if self.kb.path != ":memory:":
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):  # a missed beat only delays staleness
                self.kb.heartbeat(self.run_id)
