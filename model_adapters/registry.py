"""A typed name -> entry registry (families, backends).

Entries can be registered eagerly (a decorator) or lazily as a `"module:attribute"` string that is
imported on first `get`, so that listing what exists never imports torch, vllm or a family's code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing is not obj and not isinstance(existing, str):
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def register_lazy(self, name: str, target: str) -> None:
        """`target` is `"package.module:attribute"`, imported when `name` is first asked for."""
        if ":" not in target:
            raise ValueError(f"{self.kind} {name!r}: lazy target {target!r} is not 'module:attribute'")
        self._entries.setdefault(name, target)

    def get(self, name: str) -> T:
        try:
            entry = self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise KeyError(f"unknown {self.kind} {name!r}; available: {known}") from None
        if isinstance(entry, str):
            module, attribute = entry.split(":", 1)
            entry = getattr(importlib.import_module(module), attribute)
            self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)
