"""The allowlist: the embeds an admin has allowed, which of them a page may show, and
adding or refreshing one by URL (recognise it, ask the provider, make the preview).

The CLI and the admin interface both add through here, so an embed is stored the same way
whoever adds it, and nothing is stored when the provider cannot confirm the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import anyio

from .pagecache import PageCache
from .posters import Poster, PosterError, PosterStore
from .providers import EmbedRef, Metadata, NotEmbeddable, Provider, ProviderError
from .store import Embed, Store, now_iso
from .text import clean_text
from .upstream import UpstreamClient, UpstreamError

if TYPE_CHECKING:
    from .services import Services


class Allowlist:
    """Which allowed embed a page may show, from memory until the store changes."""

    def __init__(self, store: Store, cache: PageCache) -> None:
        self._store = store
        self._cache = cache

    def get(self, key: str) -> Embed | None:
        """An allowed embed (enabled or not); the placeholder's hot path."""
        return self._cache.memo(
            self._store.generation(), ("embed", key), lambda: self._store.get_embed(key)
        )

    def shown(self, provider: Provider, item_id: str, query: Mapping[str, str]) -> Embed | None:
        """The embed a page may show: allowed, enabled, its parent (a post's account)
        enabled too, and the page's parameters fitting it (a Vimeo hash). Else None."""
        embed = self.get(f"{provider.name}:{item_id}")
        if embed is None or not embed.enabled:
            return None
        parent_key = provider.parent_of(embed)
        parent = self.get(parent_key) if parent_key else None
        if parent_key and (parent is None or not parent.enabled):
            return None
        return embed if provider.accepts_query(embed, query) else None


class AllowlistError(Exception):
    """Why an embed cannot be added; one line for the admin."""


@dataclass
class AddResult:
    embed: Embed
    warnings: list[str] = field(default_factory=list)
    created: bool = True


def recognise(services: Services, url: str) -> tuple[Provider, EmbedRef]:
    if len(url) > 2048:
        raise AllowlistError("URL is too long")
    try:
        ref = services.registry.resolve(url)
    except NotEmbeddable as error:
        raise AllowlistError(str(error)) from None
    provider = ref.provider
    parent = provider.parent_key(ref)
    if parent is not None and services.store.get_embed(parent) is None:
        raise AllowlistError(f"allow the account first ({parent}), then its posts")
    return provider, ref


async def preview(services: Services, url: str) -> tuple[Provider, EmbedRef, Metadata]:
    """What the provider says about a URL, without storing anything."""
    provider, ref = recognise(services, url)
    try:
        metadata = await provider.fetch_metadata(ref, _upstream_for(services, ref))
    except ProviderError as error:
        raise AllowlistError(str(error)) from None
    return provider, ref, metadata


async def add(
    services: Services,
    url: str,
    *,
    title: str | None = None,
    image: bytes | None = None,
    actor: str = "cli",
) -> AddResult:
    provider, ref, metadata = await preview(services, url)
    existing = services.store.get_embed(ref.key)
    warnings: list[str] = []
    upstream = _upstream_for(services, ref)
    poster, custom = await _poster(services.posters, upstream, metadata, image, existing, warnings)
    embed = Embed(
        key=ref.key,
        provider=provider.name,
        item_id=ref.item_id,
        secret=ref.secret,
        # A provider that knows no title now (a Facebook page refreshed by its number
        # alone) keeps the one it had.
        title=metadata.title or (existing.title if existing else ""),
        title_override=_title_override(title, existing),
        description_override=existing.description_override if existing else "",
        description=metadata.description,
        author=metadata.author,
        author_url=metadata.author_url,
        duration=metadata.duration,
        width=metadata.width,
        height=metadata.height,
        poster=poster.to_json(),
        poster_custom=custom,
        content=metadata.content,
        status="ok",
        enabled=existing.enabled if existing else True,
        refreshed_at=now_iso(),
    )
    saved = services.store.save_embed(embed, actor=actor)
    return AddResult(saved, warnings, created=existing is None)


def _title_override(title: str | None, existing: Embed | None) -> str:
    if title is not None:
        return clean_text(title, 300)
    return existing.title_override if existing else ""


async def refresh(services: Services, key: str, *, actor: str = "cli") -> AddResult:
    """Ask the provider again; an item that is gone keeps its data and is marked so."""
    existing = services.store.get_embed(key)
    provider = services.registry.get(existing.provider) if existing else None
    if existing is None or provider is None:
        raise AllowlistError(f"no embed {key!r}")
    url = provider.source_url(existing)
    try:
        return await add(services, url, actor=actor)
    except AllowlistError as error:
        marked = replace(existing, status="gone", refreshed_at=now_iso())
        services.store.save_embed(marked, actor=actor)
        raise error


def _upstream_for(services: Services, ref: EmbedRef) -> UpstreamClient:
    """The client restricted to this item's provider: a redirect to another provider's
    host is refused like any other host."""
    return services.upstream.scoped(ref.provider.upstream_hosts_for(ref))


async def _poster(
    posters: PosterStore,
    upstream: UpstreamClient,
    metadata: Metadata,
    image: bytes | None,
    existing: Embed | None,
    warnings: list[str],
) -> tuple[Poster, bool]:
    if image is not None:
        try:
            return await anyio.to_thread.run_sync(posters.ingest, image), True
        except PosterError as error:
            raise AllowlistError(f"preview image refused: {error}") from None
    if existing is not None and existing.poster_custom and existing.poster:
        return Poster.from_json(existing.poster), True
    if metadata.thumbnail_url:
        try:
            data = await upstream.get_image(metadata.thumbnail_url)
            return await anyio.to_thread.run_sync(posters.ingest, data), False
        except (UpstreamError, PosterError) as error:
            reason = error.reason if isinstance(error, UpstreamError) else str(error)
            warnings.append(f"preview image unavailable ({reason}); using a neutral preview")
    return await anyio.to_thread.run_sync(_neutral, posters, metadata), False


def _neutral(posters: PosterStore, metadata: Metadata) -> Poster:
    width = 1280
    height = max(32, min(4096, round(width * metadata.height / max(metadata.width, 1))))
    return posters.neutral(metadata.title or "preview", width=width, height=height)
