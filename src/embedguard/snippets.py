"""Copy-paste snippets for integrators: a plain iframe, or a link that embed.js upgrades."""

from __future__ import annotations

from html import escape

from .providers import Provider
from .store import Embed

DEFAULT_BASE_URL = "http://localhost:8000"


def embed_url(base_url: str, provider: Provider, embed: Embed) -> str:
    url = f"{base_url.rstrip('/')}{provider.embed_path(embed.item_id)}"
    return f"{url}?h={embed.secret}" if embed.secret else url


def iframe_snippet(base_url: str, provider: Provider, embed: Embed) -> str:
    width, height = provider.frame_size(embed)
    title = embed.display_title or f"{provider.label} {embed.item_id}"
    return (
        f'<iframe src="{escape(embed_url(base_url, provider, embed))}" '
        f'title="{escape(title)}" width="{width}" height="{height}" '
        f'style="width:100%;max-width:{width}px;height:auto;'
        f'aspect-ratio:{width}/{height};border:0" '
        'loading="lazy" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen '
        'referrerpolicy="strict-origin-when-cross-origin"></iframe>'
    )


def script_snippet(base_url: str, provider: Provider, embed: Embed) -> str:
    base = base_url.rstrip("/")
    title = embed.display_title or f"{provider.label} {embed.item_id}"
    return (
        f'<a href="{escape(provider.source_url(embed))}" data-embedguard>{escape(title)}</a>\n'
        f'<script src="{escape(base)}/embed.js" defer></script>'
    )
