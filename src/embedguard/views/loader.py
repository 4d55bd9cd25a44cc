"""The host-page loader: ``/embed.js`` and the ``/embed?url=`` redirect it points frames at.

embed.js knows nothing about provider URLs beyond the labels and hosts the registry fills
in (loader_script.py); it asks this service, which recognises the URL with the provider
registry and answers with the canonical embed page. So a provider stays one module, and the
script stays a few KB.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..loader_script import filled_loader
from ..providers import EmbedRef
from .common import error_page, language_of, services_of
from .embed import FIT_PARAMETER
from .tile import platform_link, unavailable

LOADER_ASSET = "embed.js"
MAX_QUERY_LENGTH = 2048
_LOADER_PARAMETERS = frozenset({"url", "lang", FIT_PARAMETER})


async def embed_js(request: Request) -> Response:
    services = services_of(request)
    raw = services.assets.get(LOADER_ASSET)
    if raw is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    asset = filled_loader(raw, services.registry)
    etag = asset.prepared.representation(request.headers.get("accept-encoding")).etag
    not_modified = etag is not None and etag in request.headers.get("if-none-match", "")
    return asset.prepared.response(request, not_modified=not_modified)


async def embed_redirect(request: Request) -> Response:
    """303 to the embed page a provider URL names, if it is allowed; asks no upstream."""
    if len(request.url.query) > MAX_QUERY_LENGTH:
        return error_page(request, 400)
    url = request.query_params.get("url")
    if not url:
        return error_page(request, 400)
    services = services_of(request)
    ref = services.registry.recognise(url)
    if ref is None:
        return unavailable(request)
    provider, query = ref.provider, _page_query(ref, url, request)
    embed = services.allowlist.shown(provider, ref.item_id, query)
    if embed is None:
        return unavailable(request, platform_link(provider, ref.item_id), provider)
    params = {
        **provider.passthrough_query(query),
        "lang": language_of(request),
        # Only frames that embed.js sizes load frame.js before consent.
        FIT_PARAMETER: "1",
    }
    target = f"{provider.embed_path(embed.item_id)}?{urlencode(params)}"
    return RedirectResponse(
        target, status_code=303, headers={"cache-control": "no-store", "vary": "Accept-Language"}
    )


def _page_query(ref: EmbedRef, url: str, request: Request) -> dict[str, str]:
    """Candidates for the page's own parameters; the provider keeps the valid ones. What
    the provider URL carries wins; parameters next to it (``&t=90``) fill in the rest."""
    beside = {k: v for k, v in request.query_params.items() if k not in _LOADER_PARAMETERS}
    return {**beside, **ref.provider.url_query(url)}
