"""The provider registry: every provider embedguard knows, by name."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from starlette.routing import compile_path

from .base import (
    EmbedCode,
    EmbedRef,
    LoadedView,
    Metadata,
    NotEmbeddable,
    Provider,
    ProviderError,
    Recipient,
    UnknownURL,
)
from .facebook import FacebookProvider
from .mastodon import MastodonProvider
from .twitter import TwitterProvider
from .vimeo import VimeoProvider
from .youtube import YouTubeProvider

__all__ = [
    "EmbedCode",
    "EmbedRef",
    "LoadedView",
    "Metadata",
    "NotEmbeddable",
    "Provider",
    "ProviderError",
    "Recipient",
    "Registry",
    "UnknownURL",
    "default_registry",
]


class Registry:
    """The registered providers, and URL recognition across all of them."""

    def __init__(self, providers: list[Provider]) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def resolve(self, url: str) -> EmbedRef:
        """The item a pasted URL names; NotEmbeddable (one line why) for anything else."""
        for provider in self._providers.values():
            ref = provider.parse_url(url)
            if ref is not None:
                return ref
        supported = ", ".join(p.label for p in self._providers.values())
        raise UnknownURL(f"not a URL embedguard can show (supported: {supported})")

    def recognise(self, url: str) -> EmbedRef | None:
        try:
            return self.resolve(url)
        except NotEmbeddable:
            return None

    def ref_for_path(self, path: str) -> EmbedRef | None:
        """Which item a page path on embedguard shows, if any."""
        for provider in self._providers.values():
            for pattern in provider.routes:
                match = _compiled(pattern).match(path.partition("?")[0])
                if match:
                    item_id = provider.item_id_from_path(match.groupdict())
                    return provider.ref(item_id) if item_id else None
        return None

    def ref_for_key(self, key: str) -> EmbedRef | None:
        """``twitter:MSWirtschaft`` as stored (``twitter:mswirtschaft``), if it is a key."""
        name, _, item_id = key.partition(":")
        found = self.ref_for_path(f"/{name}/{item_id}") if name in self._providers else None
        return found if found is not None and found.provider.name == name else None

    def canonical_key(self, key: str) -> str:
        """A key as stored; unknown keys as given."""
        found = self.ref_for_key(key)
        return found.key if found else key

    def upstream_hosts(self) -> frozenset[str]:
        return frozenset().union(*(p.upstream_hosts for p in self._providers.values()))

    def loader_kinds(self) -> list[dict[str, Any]]:
        """embed.js's table: each provider's link hosts, label, fixed ratio or frame size."""
        return [_loader_kind(p) for p in self._providers.values() if p.link_hosts]


def _loader_kind(provider: Provider) -> dict[str, Any]:
    kind: dict[str, Any] = {"hosts": list(provider.link_hosts), "label": provider.label}
    if provider.ratio_locked:
        kind["ratio"] = [16, 9]
    sizes = {
        "height": provider.frame_height,
        "postHeight": provider.post_frame_height,
        "maxWidth": provider.frame_max_width,
    }
    kind.update({name: value for name, value in sizes.items() if value})
    return kind


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return compile_path(pattern)[0]


def default_registry() -> Registry:
    return Registry(
        [
            VimeoProvider(),
            YouTubeProvider(),
            FacebookProvider(),
            TwitterProvider(),
            MastodonProvider(),
        ]
    )
