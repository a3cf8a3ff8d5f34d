"""Progress bars: tqdm when installed (it is on metakb's side), a silent stand-in otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["progress"]


class _Quiet:
    """The part of tqdm's interface the learners use, doing nothing but iterate."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self._iterable = iterable

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._iterable or ())

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
             enabled: bool = True) -> Any:
    """A tqdm bar over ``iterable`` (or of ``total`` steps); a no-op stand-in when disabled."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            enabled = False
        else:
            return tqdm(iterable, total=total, desc=desc, mininterval=2.0, dynamic_ncols=True)
    return _Quiet(iterable)
