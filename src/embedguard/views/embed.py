"""The embed pages: a placeholder before consent, the provider's content after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..consent import COOKIE_NAME, ONCE_PARAMETER, Consent
from ..notices import notice_texts
from ..posters import Poster
from ..prepared import Prepared
from ..providers import Provider, Registry
from ..security import build_csp
from ..services import Services
from ..store import Embed
from .common import error_page, language_of, services_of

Endpoint = Callable[[Request], Awaitable[Response]]
_HTML = "text/html; charset=utf-8"


def embed_routes(registry: Registry) -> list[Route]:
    return [
        Route(pattern, _endpoint_for(provider), name=f"embed_{provider.name}_{index}")
        for provider in registry
        for index, pattern in enumerate(provider.routes)
    ]


def current_consent(request: Request, services: Services) -> Consent:
    codec = services.consent_codec()
    return codec.read_cookie(request.cookies.get(COOKIE_NAME), services.live.policy_version())


def _endpoint_for(provider: Provider) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        embed = _allowed_embed(provider, services, request)
        if embed is None:
            return error_page(request, 404)
        lang = language_of(request)
        consent = current_consent(request, services)
        once_token = request.query_params.get(ONCE_PARAMETER)
        if consent.allows(provider.name):
            return _loaded(request, services, provider, embed, lang, always=True)
        if once_token and services.consent_codec().once_allows(
            once_token, provider.name, embed.key
        ):
            return _loaded(request, services, provider, embed, lang, always=False)
        return _placeholder(request, services, provider, embed, lang)

    endpoint.__name__ = f"embed_{provider.name}"
    return endpoint


def _allowed_embed(provider: Provider, services: Services, request: Request) -> Embed | None:
    """The enabled embed this URL names; None (a 404, no upstream call) for anything else."""
    item_id = provider.item_id_from_path(request.path_params)
    if item_id is None:
        return None
    return services.allowlist.shown(provider, item_id, request.query_params)


# Set by /embed for frames that embed.js sizes; it survives the consent round-trip.
FIT_PARAMETER = "fit"


def _page_path(provider: Provider, embed: Embed, query: Mapping[str, str], lang: str) -> str:
    params = {**provider.passthrough_query(query), "lang": lang}
    if query.get(FIT_PARAMETER) == "1":
        params[FIT_PARAMETER] = "1"
    return f"{provider.embed_path(embed.item_id)}?{urlencode(params)}"


def _base_context(provider: Provider, embed: Embed, lang: str, page: str) -> dict[str, Any]:
    return {
        # A placeholder opened directly carries no script at all; frame.js (sizing for
        # embed.js, the load announcement and focus) comes with sized or loaded pages.
        "frame_js": f"{FIT_PARAMETER}=1" in page,
        "provider": provider,
        "recipient": provider.recipient,
        "embed": embed,
        "page_path": page,
        "source_url": provider.source_url(embed),
        "other_lang": "en" if lang == "de" else "de",
    }


def _placeholder(
    request: Request, services: Services, provider: Provider, embed: Embed, lang: str
) -> Response:
    page = placeholder_page(services, provider, embed, lang, request.query_params)
    services.usage.add(provider.name, embed.key, "view")
    etag = page.representation(request.headers.get("accept-encoding")).etag
    not_modified = etag is not None and etag in request.headers.get("if-none-match", "")
    return page.response(request, not_modified=not_modified)


def placeholder_page(
    services: Services, provider: Provider, embed: Embed, lang: str, query: Mapping[str, str]
) -> Prepared:
    """The pre-consent page, rendered and compressed once per store generation."""
    page = _page_path(provider, embed, query, lang)

    def render() -> Prepared:
        context = {
            **_base_context(provider, embed, lang, page),
            **provider.placeholder_context(embed, lang, services.store.list_embeds(provider.name)),
            "poster": Poster.from_json(embed.poster) if embed.poster else None,
            "notice_extra": notice_texts(services.store, provider.name)[lang],
        }
        body = services.templates.render(provider.placeholder_template, lang, context).encode()
        headers = {"cache-control": "public, no-cache", "vary": "Cookie, Accept-Language"}
        return Prepared(body, _HTML, headers, etag_length=20)

    return services.pages.memo(services.store.generation(), ("placeholder", page), render)


def _loaded(
    request: Request,
    services: Services,
    provider: Provider,
    embed: Embed,
    lang: str,
    *,
    always: bool,
) -> Response:
    return loaded_page(services, provider, embed, lang, request.query_params, always).response(
        request
    )


def loaded_page(
    services: Services,
    provider: Provider,
    embed: Embed,
    lang: str,
    query: Mapping[str, str],
    always: bool,
) -> Prepared:
    """The page with the provider's content, rendered and compressed once per generation."""
    page = _page_path(provider, embed, query, lang)

    def render() -> Prepared:
        # Everything the page shows comes from the embed and the page path (which holds
        # the passthrough parameters), so it is cached like the placeholder.
        view = provider.loaded_view(embed, query, lang)
        context = {
            **_base_context(provider, embed, lang, page),
            **view.context,
            "always": always,
            "frame_js": True,
        }
        body = services.templates.render(view.template, lang, context).encode()
        headers = {
            "cache-control": "private, no-store",
            "content-security-policy": build_csp(provider.consented_sources),
            "vary": "Cookie, Accept-Language",
        }
        return Prepared(body, _HTML, headers)

    return services.pages.memo(services.store.generation(), ("loaded", page, always), render)
