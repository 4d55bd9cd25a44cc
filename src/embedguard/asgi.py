"""The service as an ASGI app for any server, settings from the environment:

    uvicorn --factory embedguard.asgi:create
    gunicorn -k uvicorn.workers.UvicornWorker embedguard.asgi:app
    granian --interface asgi embedguard.asgi:app

``app`` is built when first asked for, so importing the module costs nothing; each
worker process builds its own (its own database connection, caches and counters).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from starlette.applications import Starlette


def create() -> Starlette:
    """A new app from the environment (a bad or missing setting raises SettingsError)."""
    from .app import create_app
    from .cli.serve import PUBLIC_URL_WARNING
    from .settings import Settings

    settings = Settings.from_env(os.environ)
    if not settings.public_url:
        logging.getLogger("embedguard").warning(PUBLIC_URL_WARNING)
    return create_app(settings)


_app: Starlette | None = None


def __getattr__(name: str) -> Any:
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = create()
    return _app
