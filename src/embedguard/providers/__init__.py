"""The provider registry: every provider embedguard knows, by name."""

from __future__ import annotations

import functools
import re

from starlette.routing import compile_path

from .base import EmbedRef, LoadedView, Metadata, Provider, ProviderError, Recipient
from .facebook import FacebookProvider
from .twitter import TwitterProvider
from .vimeo import VimeoProvider

__all__ = [
    "EmbedRef",
    "LoadedView",
    "Metadata",
    "Provider",
    "ProviderError",
    "Recipient",
    "Registry",
    "default_registry",
]


class Registry:
    """The registered providers, and URL recognition across all of them."""

    def __init__(self, providers: list[Provider]) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._providers.values())

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def recognise(self, url: str) -> EmbedRef | None:
        for provider in self._providers.values():
            ref = provider.parse_url(url)
            if ref is not None:
                return ref
        return None

    def key_for_path(self, path: str) -> tuple[Provider, str] | None:
        """Which provider and canonical embed key a page path on embedguard shows, if any."""
        for provider in self._providers.values():
            for pattern in provider.routes:
                match = _compiled(pattern).match(path.partition("?")[0])
                if match:
                    item_id = provider.item_id_from_path(match.groupdict())
                    return (provider, f"{provider.name}:{item_id}") if item_id else None
        return None

    def canonical_key(self, key: str) -> str:
        """``twitter:MSWirtschaft`` as stored (``twitter:mswirtschaft``); unknown keys as given."""
        name, _, item_id = key.partition(":")
        found = self.key_for_path(f"/{name}/{item_id}") if name in self._providers else None
        return found[1] if found else key

    def upstream_hosts(self) -> frozenset[str]:
        return frozenset().union(*(p.upstream_hosts for p in self._providers.values()))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return compile_path(pattern)[0]


def default_registry() -> Registry:
    return Registry([VimeoProvider(), FacebookProvider(), TwitterProvider()])
