"""What /healthz checks: the database takes writes, the data directory takes a file and
has the configured free space. Each problem is one short reason without paths."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .services import Services

_PROBE_BYTES = b"embedguard health probe\n"


def problem(services: Services) -> str | None:
    """None when healthy, else why not (blocking: call it in a worker thread)."""
    data_dir = services.settings.data_dir
    if not services.store.healthy():
        return "database cannot be written"
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        return "data directory is missing"
    if free < services.settings.min_free_bytes:
        return "data directory is low on free space"
    if not _can_write(data_dir):
        return "data directory cannot be written"
    if not services.posters.healthy():
        return "poster directory cannot be written"
    return None


def _can_write(directory: Path) -> bool:
    """A real write with fsync, so a full disk or read-only mount shows here first."""
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".healthz-") as probe:
            probe.write(_PROBE_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError:
        return False
    return True
