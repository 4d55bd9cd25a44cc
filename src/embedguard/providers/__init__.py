"""The provider registry: every provider embedguard knows, by name."""

from __future__ import annotations

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

    def upstream_hosts(self) -> frozenset[str]:
        return frozenset().union(*(p.upstream_hosts for p in self._providers.values()))


def default_registry() -> Registry:
    return Registry([VimeoProvider(), FacebookProvider(), TwitterProvider()])
