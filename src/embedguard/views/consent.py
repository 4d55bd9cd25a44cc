"""Giving, viewing and revoking consent.

Only embedguard's own pages (and the sites allowed to frame them) may post here: a
third-party page must not be able to force or clear a visitor's consent.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..consent import COOKIE_NAME, ONCE_PARAMETER, Consent
from ..preview import is_preview_path
from ..providers import Provider
from ..security import origin_matches_source
from ..services import Services
from ..staff import from_staff
from ..store import Embed
from ..usage import revocations
from .common import (
    error_page,
    form_text,
    language_of,
    read_form,
    safe_next,
    services_of,
)
from .embed import current_consent, loaded_once

SCOPES = ("once", "always")
# Spelled "Lax" as docs/ARCHITECTURE.md gives the cookie; Starlette passes it through as is.
SAME_SITE: Literal["lax"] = "Lax"  # type: ignore[assignment]


def is_cross_site(request: Request, services: Services) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    if services.settings.public_url:
        parts = urlsplit(services.settings.public_url)
        own.add(f"{parts.scheme}://{parts.netloc}")
    if origin in own:
        return False
    sources = services.live.frame_ancestors()
    return not any(origin_matches_source(origin, s, request.url.scheme) for s in sources)


async def give_consent(request: Request) -> Response:
    services = services_of(request)
    if is_cross_site(request, services):
        return error_page(request, 403)
    form = await read_form(request)
    provider_name, scope = form_text(form, "provider"), form_text(form, "scope")
    next_path = safe_next(form_text(form, "next"))
    provider = services.registry.get(provider_name or "")
    if provider is None or scope not in SCOPES or next_path is None:
        return error_page(request, 400)
    if scope == "once":
        embed = _shown_at(services, provider, next_path)
        if embed is None:
            return error_page(request, 400)
        if not _not_counted(request, services, next_path, embed.key):
            services.usage.add(provider.name, embed.key, "load_once")
        return loaded_once(request, services, provider, embed, next_path)
    consent = current_consent(request, services).with_provider(
        provider.name, services.live.policy_version()
    )
    shown_key = _key_at(services, next_path)
    if not _not_counted(request, services, next_path, shown_key):
        services.usage.add(provider.name, shown_key, "load_always")
    response = RedirectResponse(_with_param(next_path, ONCE_PARAMETER, None), status_code=303)
    _set_cookie(request, response, services, consent)
    return response


async def revoke_consent(request: Request) -> Response:
    services = services_of(request)
    if is_cross_site(request, services):
        return error_page(request, 403)
    form = await read_form(request)
    provider_name = form_text(form, "provider") or "all"
    next_path = safe_next(form_text(form, "next") or "/consent")
    if next_path is None or (provider_name != "all" and provider_name not in services.registry):
        return error_page(request, 400)
    given = current_consent(request, services)
    remaining = given.without(None if provider_name == "all" else provider_name)
    if not _not_counted(request, services, next_path, _key_at(services, next_path)):
        for name, key in revocations(services.registry, provider_name, given.providers, next_path):
            services.usage.add(name, key, "revoke")
    response = RedirectResponse(_with_param(next_path, ONCE_PARAMETER, None), status_code=303)
    if remaining.providers:
        _set_cookie(request, response, services, remaining)
    else:
        response.delete_cookie(
            COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite=SAME_SITE
        )
    return response


async def consent_overview(request: Request) -> Response:
    services = services_of(request)
    lang = language_of(request)
    consent = current_consent(request, services)
    states = [(provider, consent.allows(provider.name)) for provider in services.registry]
    return services.templates.response(
        "consent.html",
        lang,
        {
            "states": states,
            "consent": consent,
            "consent_days": services.live.consent_days(),
            "other_lang": "en" if lang == "de" else "de",
        },
        headers={"cache-control": "private, no-store"},
    )


def _not_counted(request: Request, services: Services, next_path: str, shown_key: str) -> bool:
    """Clicks in the admin's live preview of the embed ``shown_key`` that the page at
    ``next_path`` shows (preview.py), and from a logged-in admin's browser (staff.py)."""
    from_preview = bool(shown_key) and is_preview_path(services.signer, next_path, shown_key)
    return from_preview or from_staff(request, services)


def _key_at(services: Services, path: str) -> str:
    """The key of the embed the page at ``path`` shows, '' for any other page."""
    shown = services.registry.ref_for_path(path)
    return shown.key if shown else ""


def _shown_at(services: Services, provider: Provider, path: str) -> Embed | None:
    """The embed of ``provider`` that the page at ``path`` shows, if it shows one."""
    shown = services.registry.ref_for_path(path)
    if shown is None or shown.provider is not provider:
        return None
    query = dict(parse_qsl(urlsplit(path).query))
    return services.allowlist.shown(provider, shown.item_id, query)


def _set_cookie(request: Request, response: Response, services: Services, consent: Consent) -> None:
    response.set_cookie(
        COOKIE_NAME,
        services.consent_codec().cookie_value(consent),
        max_age=services.live.consent_days() * 86400,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite=SAME_SITE,
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _with_param(path: str, name: str, value: str | None) -> str:
    """``path`` with query parameter ``name`` set to ``value`` (removed when None)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    if value is not None:
        query.append((name, value))
    encoded = urlencode(query)
    return parts.path + (f"?{encoded}" if encoded else "")
