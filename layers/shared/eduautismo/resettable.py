"""The registry of per-container state: every client, memo and module cache of the layer joins it where it
is created, and is forgotten through it (see docs/ARCHITECTURE.md, "State that must be reset").

Two moments forget state:

- ``reset_all()``: tests and the local server switch databases and settings; everything is rebuilt on
  next use.
- ``restore_all()``: a SnapStart copy was just restored from the snapshot and must share nothing live
  with the other copies. An entry may do something else then (the engine keeps its dialect and drops its
  pooled sockets) or nothing (settings and pure caches survive a restore).

Only modules already imported are in the registry, so forgetting never imports SQLAlchemy or boto3 into a
function that does not use them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

R = TypeVar("R")
K = TypeVar("K")
V = TypeVar("V")

Reset = Callable[[], None]
# What an entry does after a SnapStart restore: the same as a reset, something else, or nothing.
OnRestore = Reset | Literal["reset", "keep"]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    reset: Reset
    restore: Reset | None
    covers: tuple[object, ...]


_lock = threading.Lock()
_registry: dict[str, Entry] = {}


def register(name: str, reset: Reset, *, covers: tuple[object, ...], restore: OnRestore = "reset") -> None:
    """Add (or replace, when a module is reloaded) the entry ``name``: ``reset`` forgets the objects in
    ``covers`` (the caches themselves, so a test can check that every cache has an entry)."""
    on_restore = reset if restore == "reset" else None if restore == "keep" else restore
    with _lock:
        _registry[name] = Entry(name, reset, on_restore, covers)


def entries() -> list[Entry]:
    with _lock:
        return list(_registry.values())


def reset_all() -> None:
    for entry in entries():
        entry.reset()


def restore_all() -> None:
    for entry in entries():
        if entry.restore is not None:
            entry.restore()


def once(
    *, restore: OnRestore = "reset", maxsize: int | None = 1
) -> Callable[[Callable[..., R]], _lru_cache_wrapper[R]]:
    """``functools.lru_cache`` that joins the registry: a per-container singleton (``maxsize=1``) or a
    bounded memo of a pure function."""

    def decorate(function: Callable[..., R]) -> _lru_cache_wrapper[R]:
        memoized = lru_cache(maxsize=maxsize)(function)
        register(
            f"{function.__module__}.{function.__qualname__}",
            memoized.cache_clear,
            covers=(memoized,),
            restore=restore,
        )
        return memoized

    return decorate


class Memo(Generic[K, V]):
    """A thread-safe in-process dictionary that joins the registry when it is created."""

    def __init__(self, name: str, *, restore: OnRestore = "reset") -> None:
        self._data: dict[K, V] = {}
        self._lock = threading.Lock()
        register(name, self.clear, covers=(self,), restore=restore)

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value

    def discard(self, key: K) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        """A snapshot of the keys: the memo may change while the caller iterates."""
        with self._lock:
            return iter(sorted(self._data, key=str))

    def __repr__(self) -> str:
        return f"Memo({len(self._data)} entries)"
