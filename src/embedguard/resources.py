"""Where the templates and static files are: inside the installed package, or beside
``src/`` in a checkout (an editable install does not copy them)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"embedguard is installed without its {name}/ directory")
