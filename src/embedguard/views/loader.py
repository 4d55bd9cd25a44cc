"""The host-page loader: ``/embed.js`` and the ``/embed?url=`` redirect it points frames at.

embed.js knows nothing about provider URLs; it asks this service, which recognises the URL
with the provider registry and answers with the canonical embed page. So a provider stays
one module, and the script stays a few KB.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..providers import EmbedRef
from .common import error_page, language_of, services_of
from .embed import FIT_PARAMETER
from .tile import platform_link, unavailable

LOADER_ASSET = "embed.js"
MAX_QUERY_LENGTH = 2048
# The URL has no version hash, so integrators get a changed script within the hour.
_LOADER_CACHE = "public, max-age=3600"


async def embed_js(request: Request) -> Response:
    asset = services_of(request).assets.get(LOADER_ASSET)
    if asset is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    etag = f'"{asset.digest}"'
    headers = {
        "cache-control": _LOADER_CACHE,
        "etag": etag,
        # Host pages on other sites load it with a plain <script src>.
        "cross-origin-resource-policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


async def embed_redirect(request: Request) -> Response:
    """303 to the embed page a provider URL names, if it is allowed; asks no upstream."""
    if len(request.url.query) > MAX_QUERY_LENGTH:
        return error_page(request, 400)
    url = request.query_params.get("url")
    if not url:
        return error_page(request, 400)
    services = services_of(request)
    ref = services.registry.recognise(url)
    provider = services.registry.get(ref.provider) if ref else None
    query = {"h": ref.secret} if ref and ref.secret else {}
    embed = services.allowlist.shown(provider, ref.item_id, query) if ref and provider else None
    if ref is None or provider is None or embed is None:
        return unavailable(request, platform_link(provider, ref.item_id if ref else None), provider)
    params = {
        **provider.passthrough_query(_page_query(ref, url, request)),
        "lang": language_of(request),
        # Only frames that embed.js sizes load frame.js before consent.
        FIT_PARAMETER: "1",
    }
    target = f"{provider.embed_path(embed.item_id)}?{urlencode(params)}"
    return RedirectResponse(
        target, status_code=303, headers={"cache-control": "no-store", "vary": "Accept-Language"}
    )


def _page_query(ref: EmbedRef, url: str, request: Request) -> dict[str, str]:
    """Candidates for the page's own parameters; the provider keeps the valid ones."""
    query = {"h": ref.secret} if ref.secret else {}
    try:
        parts = urlsplit(url)
    except ValueError:
        return query
    # A start time may come as ?t= or #t= on the provider URL, or as t= next to it.
    for source in (parts.query, parts.fragment):
        start = parse_qs(source).get("t")
        if start:
            query["t"] = start[0]
    if "t" in request.query_params:
        query["t"] = request.query_params["t"]
    return query
