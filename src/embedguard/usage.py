"""Anonymous usage counts: per day, provider, embed and event, never per visitor.

Counting in memory and writing in batches keeps a database write off every page view.
"""

from __future__ import annotations

import threading
from collections import Counter

from .store import USAGE_EVENTS, Store


class UsageCounter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, provider: str, embed_key: str, event: str) -> None:
        if event not in USAGE_EVENTS:
            raise ValueError(f"unknown usage event {event!r}")
        with self._lock:
            self._pending[(provider, embed_key, event)] += 1

    def flush(self) -> None:
        """Write the pending counts; if the store refuses, keep them for the next try."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        try:
            self._store.add_usage(pending)
        except BaseException:
            with self._lock:
                self._pending.update(pending)
            raise
