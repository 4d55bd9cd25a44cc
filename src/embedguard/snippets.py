"""Copy-paste snippets for integrators: a plain iframe, or a link that embed.js upgrades."""

from __future__ import annotations

import math
from html import escape
from urllib.parse import urlencode

from .providers import Provider
from .store import Embed

DEFAULT_BASE_URL = "http://localhost:8000"


def embed_url(base_url: str, provider: Provider, embed: Embed) -> str:
    url = f"{base_url.rstrip('/')}{provider.embed_path(embed.item_id)}"
    query = provider.page_query(embed)
    return f"{url}?{urlencode(query)}" if query else url


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
    ratio = f' data-embedguard-ratio="{_ratio(embed)}"' if provider.ratio_locked else ""
    return (
        f'<a href="{escape(provider.source_url(embed))}" data-embedguard{ratio}>'
        f"{escape(title)}</a>\n"
        f'<script src="{escape(base)}/embed.js" defer></script>'
    )


def _ratio(embed: Embed) -> str:
    """``16:9`` from the item's own size, in lowest terms; 16:9 when it is unknown."""
    width, height = (embed.width, embed.height) if min(embed.width, embed.height) > 0 else (16, 9)
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"
