"""The embed pages: a placeholder before consent, the provider's content after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..consent import COOKIE_NAME, Consent
from ..i18n import choose_language
from ..notices import notice_texts
from ..posters import Poster
from ..prepared import Prepared
from ..preview import PARAMETER as PREVIEW_PARAMETER
from ..preview import is_preview, marker, valid_marker
from ..providers import Provider, Registry
from ..security import build_csp
from ..services import Services
from ..staff import from_staff
from ..store import Embed
from .common import language_of, services_of
from .tile import is_framed, platform_link, unavailable

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
            item_id = provider.item_id_from_path(request.path_params)
            return unavailable(request, platform_link(provider, item_id), provider)
        lang = language_of(request)
        consent = current_consent(request, services)
        if consent.allows(provider.name):
            return _loaded(request, services, provider, embed, lang, always=True)
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


def _page_path(
    provider: Provider, embed: Embed, query: Mapping[str, str], lang: str, preview: str | None
) -> str:
    """The page's own address, where its forms return to: the admin's preview marker
    stays, so what the admin does in the preview is not counted (preview.py)."""
    params = {**provider.passthrough_query(query), "lang": lang}
    if query.get(FIT_PARAMETER) == "1":
        params[FIT_PARAMETER] = "1"
    if preview is not None:
        params[PREVIEW_PARAMETER] = preview
    return f"{provider.embed_path(embed.item_id)}?{urlencode(params)}"


def _base_context(provider: Provider, embed: Embed, lang: str, page: str) -> dict[str, Any]:
    return {
        "provider": provider,
        "recipient": provider.recipient_for(embed),
        "embed": embed,
        "page_path": page,
        "source_url": provider.source_url(embed),
        "other_lang": "en" if lang == "de" else "de",
    }


def _placeholder(
    request: Request, services: Services, provider: Provider, embed: Embed, lang: str
) -> Response:
    framed = is_framed(request)
    page = placeholder_page(services, provider, embed, lang, request.query_params, framed)
    # Counted before the 304 check: a revalidation by a cache in front is a view too.
    # Not counted: the admin's preview (preview.py), a logged-in admin's browser (staff.py).
    preview = is_preview(services.signer, request.query_params.get(PREVIEW_PARAMETER), embed.key)
    if not preview and not from_staff(request, services):
        services.usage.add(provider.name, embed.key, "view")
    etag = page.representation(request.headers.get("accept-encoding")).etag
    not_modified = etag is not None and etag in request.headers.get("if-none-match", "")
    return page.response(request, not_modified=not_modified)


def placeholder_page(
    services: Services,
    provider: Provider,
    embed: Embed,
    lang: str,
    query: Mapping[str, str],
    framed: bool = False,
) -> Prepared:
    """The pre-consent page, rendered and compressed once per store generation."""
    preview = valid_marker(services.signer, query, embed.key)
    page = _page_path(provider, embed, query, lang, preview)

    def render() -> Prepared:
        context = {
            **_base_context(provider, embed, lang, page),
            **provider.placeholder_context(embed, lang, services.store.list_embeds(provider.name)),
            # Opened directly it carries no script at all; framed, only the small
            # placeholder.js ("always" chosen in another frame of the page reaches it).
            "placeholder_js": framed or f"{FIT_PARAMETER}=1" in page,
            "poster": Poster.from_json(embed.poster) if embed.poster else None,
            "notice_extra": notice_texts(services.store, provider.name)[lang],
            # Links to other embeds (an account's picked posts) stay in the preview too.
            "preview_marker_for": partial(marker, services.signer) if preview else None,
        }
        body = services.templates.render(provider.placeholder_template, lang, context).encode()
        headers = {
            "cache-control": "public, no-cache",
            "vary": "Cookie, Accept-Language, Sec-Fetch-Dest",
        }
        return Prepared(body, _HTML, headers, etag_length=20)

    return services.pages.memo(services.store.generation(), ("placeholder", page, framed), render)


def loaded_once(
    request: Request, services: Services, provider: Provider, embed: Embed, page_path: str
) -> Response:
    """The loaded page as the answer to the "load once" POST itself: no URL or token that
    another site or a later visit could open again."""
    query = dict(parse_qsl(urlsplit(page_path).query))
    lang = choose_language(query.get("lang"), request.headers.get("accept-language"))
    return _loaded(request, services, provider, embed, lang, always=False, query=query)


def _loaded(
    request: Request,
    services: Services,
    provider: Provider,
    embed: Embed,
    lang: str,
    *,
    always: bool,
    query: Mapping[str, str] | None = None,
) -> Response:
    query = request.query_params if query is None else query
    return loaded_page(services, provider, embed, lang, query, always).response(request)


def loaded_page(
    services: Services,
    provider: Provider,
    embed: Embed,
    lang: str,
    query: Mapping[str, str],
    always: bool,
) -> Prepared:
    """The page with the provider's content, rendered and compressed once per generation."""
    page = _page_path(provider, embed, query, lang, valid_marker(services.signer, query, embed.key))

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
        if view.script_document is not None:
            context["script_document"] = services.templates.render(
                view.script_document, lang, context
            )
        elif provider.consented_sources.get("script-src"):
            # Provider script must never run with the origin that serves /consent and /admin.
            raise RuntimeError(f"{provider.name} loads script outside a sandboxed document")
        body = services.templates.render(view.template, lang, context).encode()
        headers = {
            "cache-control": "private, no-store",
            "content-security-policy": build_csp(provider.consented_sources_for(embed)),
            "vary": "Cookie, Accept-Language",
        }
        return Prepared(body, _HTML, headers)

    return services.pages.memo(services.store.generation(), ("loaded", page, always), render)
