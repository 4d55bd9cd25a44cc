"""Anonymous usage counts: per day, provider, embed and event, never per visitor.

Counting in memory and writing in batches keeps a database write off every page view.
Each count keeps the day it happened on (UTC), so a batch written after midnight still
lands on the right day.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from .providers import Registry
from .store import USAGE_EVENTS, Store

_SECONDS_PER_DAY = 86400
_EPOCH = date(1970, 1, 1)


def utc_day(seconds: float) -> str:
    # Every placeholder view asks; POSIX time has no leap seconds, so whole days since the
    # epoch are UTC days, and the few distinct ones are remembered.
    return _day_name(int(seconds // _SECONDS_PER_DAY))


@functools.lru_cache(maxsize=8)
def _day_name(days_since_epoch: int) -> str:
    return (_EPOCH + timedelta(days=days_since_epoch)).isoformat()


class UsageCounter:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._pending: Counter[tuple[str, str, str, str]] = Counter()
        self._lock = threading.Lock()
        # Seconds since the epoch; the service wires its own clock in, so tests set the date.
        self.clock = clock

    def add(self, provider: str, embed_key: str, event: str) -> None:
        if event not in USAGE_EVENTS:
            raise ValueError(f"unknown usage event {event!r}")
        day = utc_day(self.clock())
        with self._lock:
            self._pending[(day, provider, embed_key, event)] += 1

    def flush(self) -> None:
        """Write the pending counts; if the store refuses, keep them for the next try."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        by_day: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
        for (day, *key), n in pending.items():
            by_day[day][(key[0], key[1], key[2])] += n
        for day, counts in sorted(by_day.items()):
            try:
                self._store.add_usage(counts, day)
            except BaseException:
                with self._lock:
                    for (d, *key), n in pending.items():
                        if d >= day:
                            self._pending[(d, key[0], key[1], key[2])] += n
                raise


def revocations(
    registry: Registry, provider: str, consented: Iterable[str], next_path: str
) -> list[tuple[str, str]]:
    """The (provider, embed key) pairs one revocation counts for.

    "all" counts once for each provider the visitor had allowed, so per-provider totals add
    up; one named provider counts once. The embed is the one on the page the visitor
    returns to (the loaded embed with the "stop" control), else none ("").
    """
    names = sorted(consented) if provider == "all" else [provider]
    shown = registry.ref_for_path(next_path)
    return [(name, shown.key if shown and shown.provider.name == name else "") for name in names]
