"""The "not (or no longer) available" tile: what a frame shows for an embed it may not show.

An unknown, disabled or removed embed answers 404 with a tile that fits any frame instead of
the site's error page, with the link to the platform where one is known. Inside a frame the
tile loads frame.js, which tells embed.js to leave the host page's link alone.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..providers import Provider
from ..store import Embed
from .common import language_of, services_of


def is_framed(request: Request) -> bool:
    """Whether the browser loads this page into a frame (Fetch Metadata; absent in old
    browsers, which then simply get no script)."""
    return request.headers.get("sec-fetch-dest") == "iframe"


def platform_link(provider: Provider | None, item_id: str | None) -> str:
    """The item's public address on its platform; '' when the id is not a canonical one."""
    if provider is None or not item_id:
        return ""
    return provider.source_url(
        Embed(key=f"{provider.name}:{item_id}", provider=provider.name, item_id=item_id)
    )


def unavailable(
    request: Request, source_url: str = "", provider: Provider | None = None
) -> Response:
    lang = language_of(request)
    context = {
        "source_url": source_url,
        "provider": provider,
        # Like placeholders: framed ones (or embed.js's, marked fit=1) get frame.js.
        "frame_js": is_framed(request) or request.query_params.get("fit") == "1",
    }
    return services_of(request).templates.response(
        "embed/unavailable.html",
        lang,
        context,
        status_code=404,
        headers={"cache-control": "no-store", "vary": "Sec-Fetch-Dest, Accept-Language"},
    )
