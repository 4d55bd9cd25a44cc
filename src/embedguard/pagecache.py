"""A small in-process cache for rendered pre-consent pages and live settings.

Entries depend only on what the store holds (plus the key), so the whole cache is
dropped whenever the store's generation moves on; size is capped, oldest out first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class PageCache:
    def __init__(self, max_entries: int = 2048) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._generation: Hashable = None
        self._max_entries = max_entries

    def memo(self, generation: Hashable, key: Hashable, factory: Callable[[], T]) -> T:
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation
        try:
            self._entries.move_to_end(key)
            return self._entries[key]  # type: ignore[no-any-return]
        except KeyError:
            value = factory()
            self._entries[key] = value
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
            return value
