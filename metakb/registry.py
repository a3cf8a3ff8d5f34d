"""A small registry of named algorithms, one per family (a leaf: imports only :mod:`metakb.errors`).

Each family (optimizers, warm starters, importance evaluators, portfolio methods, executors)
keeps one :class:`Registry`; the CLI's ``choices``, the workflow layer and the benchmarks read
it, so adding an algorithm is one module plus one registration line (``docs/add_algorithm.md``)::

    WARM_STARTERS.register("knn", KNNWarmStarter)        # a line in the family's __init__

    @OPTIMIZERS.register("my-search")                     # or as a decorator
    class MySearch(BaseOptimizer): ...

A registry is a read-mostly mapping ``name -> object`` in registration order; ``registry[name]
= obj`` registers too (the warm starters' old ``WARM_STARTERS`` dict keeps working that way).
Registering a name twice is a ConfigError (two modules claiming one name is a bug), and
:meth:`Registry.get` names the accepted values when a name is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar, overload

from metakb.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(MutableMapping[str, T], Generic[T]):
    """Named members of one algorithm family.

    Args:
        family: what a member is, for messages (``"warm-start method"``, ``"optimizer"``).
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._items: dict[str, T] = {}

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: Any = None) -> Any:
        """Register ``obj`` as ``name``; without ``obj``, a decorator that registers its argument.

        Raises:
            ConfigError: ``name`` is not a non-empty string or is registered already.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a {self.family} name must be a non-empty string, got {name!r}")

        def add(member: T) -> T:
            if name in self._items:
                raise ConfigError(f"{self.family} {name!r} is registered twice")
            self._items[name] = member
            return member

        return add if obj is None else add(obj)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """The member ``name``; an unknown name returns ``default`` (as ``dict.get``)."""
        return self._items.get(name, default)

    def lookup(self, name: str) -> T:
        """The member ``name``.

        Raises:
            ConfigError: ``name`` is not registered (the message lists the registered names).
        """
        if name not in self._items:
            raise ConfigError(f"{self.family} must be one of {sorted(self._items)}, got {name!r}")
        return self._items[name]

    def names(self) -> list[str]:
        """The registered names, in registration order (for a CLI's ``choices``)."""
        return list(self._items)

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __setitem__(self, name: str, obj: T) -> None:
        self.register(name, obj)

    def __delitem__(self, name: str) -> None:
        del self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.family!r}, {self.names()})"
