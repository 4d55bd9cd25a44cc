"""Password checks off the event loop, a bounded few at a time, process-wide.

argon2id costs about 64 MiB and a second of several cores per check. The checks run in a
pool of their own whose threads run at a lower CPU priority, so visitor pages keep their
speed during a login flood; when every slot is taken a login is turned away at once (503)
instead of queueing memory and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

MAX_CONCURRENT_CHECKS = 2
# Higher is nicer; visitor pages (priority 0) win the CPU over a check.
_NICENESS = 10

_slots = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)


def _lower_priority() -> None:
    # Linux niceness is per thread, and argon2's own lane threads inherit it.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


_pool = ThreadPoolExecutor(
    max_workers=MAX_CONCURRENT_CHECKS,
    thread_name_prefix="password-check",
    initializer=_lower_priority,
)


def reserve() -> bool:
    """Take a slot for one check; False when all are taken."""
    return _slots.acquire(blocking=False)


def release() -> None:
    """Give back a reserved slot that will not be used."""
    _slots.release()


async def run_reserved(check: Callable[[], T]) -> T:
    """Run ``check`` in a reserved slot; the slot is free again when the check has ended
    (also when the request was cancelled meanwhile: the thread cannot be stopped)."""

    def run() -> T:
        try:
            return check()
        finally:
            _slots.release()

    return await asyncio.wrap_future(_pool.submit(run))
