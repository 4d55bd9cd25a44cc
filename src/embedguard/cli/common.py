"""What every ``embedguard`` command shares: the one-line error and a running service."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import anyio

from ..services import Services
from ..settings import Settings
from ..snippets import DEFAULT_BASE_URL

# What each command module's register() adds its subcommands to (generic only for mypy).
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def settings_from_env(*, demo_mode: bool = False) -> Settings:
    return Settings.from_env(os.environ, demo=demo_mode)


def with_services(work: Callable[[Services], Awaitable[int]]) -> int:
    services = Services.build(settings_from_env())

    async def run() -> int:
        try:
            return await work(services)
        finally:
            await services.aclose()

    return anyio.run(run)


def base_url(services: Services) -> str:
    return services.settings.public_url or DEFAULT_BASE_URL
