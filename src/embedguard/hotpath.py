"""Plain-ASGI answers for the requests that carry the traffic.

An embed page (the placeholder and its 304, or the loaded page under "always" consent),
posters and static files are answered here from bytes and header lists prepared once
(prepared.py), plus the security headers made once per (policy, frame-ancestors): no
Request object, no routing table walk, no per-request header building. The answers are
the ones the Starlette views give, byte for byte (tests/test_hotpath.py compares them).

Anything else, and anything unusual about such a request (not GET, a body, a root path,
a load-once token, an embedguard cookie other than the consent cookie, a repeated
header, an unknown item, a storage error), goes to the full app unchanged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.convertors import Convertor
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from .consent import COOKIE_NAME, ONCE_PARAMETER, Consent
from .i18n import choose_language
from .prepared import Prepared, RawHeaders, Representation
from .preview import PARAMETER as PREVIEW_PARAMETER
from .providers import Provider
from .security import security_headers
from .services import Services
from .store import Embed
from .views.embed import loaded_page, placeholder_page

Answer = tuple[int, RawHeaders, bytes]
_Matcher = tuple[Any, dict[str, Convertor[Any]], Provider, Route | None]
# Every cookie embedguard sets starts with this; the full app reads any but consent.
_OWN_COOKIE_PREFIX = "eg_"
_MAX_REMEMBERED_CONSENTS = 4096
_MAX_REMEMBERED_PAGES = 4096
_MAX_REMEMBERED_COOKIE_LENGTH = 512


class _RequestHeaders:
    __slots__ = ("accept_encoding", "accept_language", "cookie", "framed", "if_none_match")

    def __init__(self) -> None:
        self.cookie: str | None = None
        self.accept_language: str | None = None
        self.accept_encoding: str | None = None
        self.if_none_match: str | None = None
        # Sec-Fetch-Dest: iframe (views/tile.py is_framed): framed placeholders carry a script.
        self.framed = False


def _read_headers(raw: list[tuple[bytes, bytes]]) -> _RequestHeaders | None:
    """The five headers the hot path looks at; None when the full app must decide."""
    found = _RequestHeaders()
    for name, value in raw:
        if name == b"cookie":
            if found.cookie is not None:
                return None
            found.cookie = value.decode("latin-1")
        elif name == b"accept-encoding":
            found.accept_encoding = found.accept_encoding or value.decode("latin-1")
        elif name == b"accept-language":
            if found.accept_language is None:
                found.accept_language = value.decode("latin-1")
        elif name == b"if-none-match":
            if found.if_none_match is None:
                found.if_none_match = value.decode("latin-1")
        elif name == b"sec-fetch-dest":
            found.framed = found.framed or value == b"iframe"
        elif name in (b"content-length", b"transfer-encoding"):
            return None  # a body on a GET: the body-limit middleware answers that
    return found


class HotPath:
    """Outermost middleware (inside Starlette's error handler) of create_app; it counts
    its own answers for /metrics, the rest are counted by metrics.MetricsMiddleware."""

    def __init__(
        self, app: ASGIApp, *, services: Services, routes: Sequence[BaseRoute] = ()
    ) -> None:
        self.app = app
        self.services = services
        self._metrics = services.metrics
        # The router's own Route objects, put in the scope as the router would: /metrics
        # counts requests by route name (metrics.py).
        by_path = {route.path: route for route in routes if isinstance(route, Route)}
        self._matchers: list[_Matcher] = []
        for provider in services.registry:
            for pattern in provider.routes:
                regex, _, convertors = compile_path(pattern)
                self._matchers.append((regex, convertors, provider, by_path.get(pattern)))
        self._static_route = by_path.get("/static/{path:path}")
        self._poster_route = by_path.get("/posters/{name}")
        self._consents = _ConsentMemo(services)
        # For one store generation: what each embed URL (with its Accept-Language) resolved
        # to, and the security headers per page policy.
        self._generation: object = None
        self._pages: dict[tuple[str, bytes, str | None, bool], _EmbedPage] = {}
        self._security_by_policy: dict[bytes | None, tuple[tuple[bytes, bytes], ...]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            answer = self._answer(scope)
            if answer is not None:
                status, headers, body = answer
                self._metrics.count_request(scope.get("route"), status)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: Scope) -> Answer | None:
        headers = _read_headers(scope["headers"])
        if headers is None:
            return None
        path: str = scope["path"]
        try:
            generation = self.services.store.generation()
            if generation != self._generation:
                # Pages, settings and framing origins may all have changed.
                self._pages.clear()
                self._security_by_policy.clear()
                self._generation = generation
            if path.startswith("/static/"):
                scope["route"] = self._static_route
                return self._static(path[len("/static/") :], headers)
            if path.startswith("/posters/"):
                scope["route"] = self._poster_route
                return self._poster(path[len("/posters/") :])
            return self._embed(scope, path, headers)
        except Exception:
            # Whatever went wrong (storage, say), the full app meets it again and turns it
            # into the page it always gave; nothing has been sent or counted yet.
            return None

    def _security(self, policy: bytes | None) -> tuple[tuple[bytes, bytes], ...]:
        found = self._security_by_policy.get(policy)
        if found is None:
            found = security_headers(policy, self.services.live.frame_ancestors())
            self._security_by_policy[policy] = found
        return found

    def _send(self, representation: Representation, not_modified: bool) -> Answer:
        security = self._security(representation.policy)
        if not_modified:
            return 304, [*representation.not_modified_without_policy, *security], b""
        return 200, [*representation.headers_without_policy, *security], representation.body

    def _static(self, name: str, headers: _RequestHeaders) -> Answer | None:
        asset = self.services.assets.get(name)
        if asset is None:
            return None
        chosen = asset.prepared.representation(headers.accept_encoding)
        return self._send(chosen, headers.if_none_match == chosen.etag)

    def _poster(self, name: str) -> Answer | None:
        if not name or "/" in name:
            return None
        found = self.services.posters.read(name)
        if found is None:
            return None
        body, media_type = found
        own = [
            (b"cache-control", b"public, max-age=31536000, immutable"),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", media_type.encode("latin-1")),
        ]
        return 200, [*own, *self._security(None)], body

    def _embed(self, scope: Scope, path: str, headers: _RequestHeaders) -> Answer | None:
        query_string: bytes = scope["query_string"]
        key = (path, query_string, headers.accept_language, headers.framed)
        page = self._pages.get(key)
        if page is None:
            page = self._resolve(path, query_string, headers.accept_language, headers.framed)
            if page is None:
                return None
            if len(self._pages) >= _MAX_REMEMBERED_PAGES:
                self._pages.clear()
            self._pages[key] = page
        ours, consent_cookie = _consent_cookie(headers.cookie)
        if not ours or page.full_app_decides:
            return None
        scope["route"] = page.route
        if consent_cookie and self._consents.read(consent_cookie).allows(page.provider.name):
            return self._send(page.loaded().representation(headers.accept_encoding), False)
        chosen = page.placeholder.representation(headers.accept_encoding)
        self.services.usage.add(page.provider.name, page.embed.key, "view")
        etag = chosen.etag
        return self._send(chosen, etag is not None and etag in (headers.if_none_match or ""))

    def _resolve(
        self, path: str, query_string: bytes, accept_language: str | None, framed: bool
    ) -> _EmbedPage | None:
        """What a URL shows, as the endpoint in views/embed.py decides it before consent."""
        found = self._route(path)
        if found is None:
            return None
        provider, params, route = found
        query = _query(query_string)
        services = self.services
        item_id = provider.item_id_from_path(params)
        embed = services.allowlist.shown(provider, item_id, query) if item_id else None
        if embed is None:
            return None
        lang = choose_language(query.get("lang"), accept_language)
        placeholder = placeholder_page(services, provider, embed, lang, query, framed)
        return _EmbedPage(services, provider, embed, lang, query, placeholder, route)

    def _route(self, path: str) -> tuple[Provider, dict[str, Any], Route | None] | None:
        # The embed routes come first in app.routes, so the first match here is the
        # router's too.
        for regex, convertors, provider, route in self._matchers:
            match = regex.match(path)
            if match:
                params = {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
                return provider, params, route
        return None


class _EmbedPage:
    """An embed URL resolved: its placeholder now, its loaded page when first asked for."""

    def __init__(
        self,
        services: Services,
        provider: Provider,
        embed: Embed,
        lang: str,
        query: Mapping[str, str],
        placeholder: Prepared,
        route: Route | None,
    ) -> None:
        self.route = route
        self.provider = provider
        self.embed = embed
        self.placeholder = placeholder
        # A load-once token and the admin's preview marker are for the full app to check.
        self.full_app_decides = ONCE_PARAMETER in query or PREVIEW_PARAMETER in query
        self._services = services
        self._lang = lang
        self._query = query
        self._loaded: Prepared | None = None

    def loaded(self) -> Prepared:
        if self._loaded is None:
            self._loaded = loaded_page(
                self._services, self.provider, self.embed, self._lang, self._query, True
            )
        return self._loaded


def _query(query_string: bytes) -> Mapping[str, str]:
    # As Starlette's QueryParams reads it: latin-1, blanks kept, the last value wins.
    if not query_string:
        return {}
    return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def _consent_cookie(cookie: str | None) -> tuple[bool, str | None]:
    """(whether the hot path may answer, the consent cookie's value or None): not when
    another embedguard cookie is present, the full app decides then."""
    if cookie is None or _OWN_COOKIE_PREFIX not in cookie:
        return True, None
    if len(cookie) <= _MAX_REMEMBERED_COOKIE_LENGTH:
        return _parsed_consent_cookie(cookie)
    return _parse_consent_cookie(cookie)


def _parse_consent_cookie(cookie: str) -> tuple[bool, str | None]:
    cookies = cookie_parser(cookie)
    if any(name.startswith(_OWN_COOKIE_PREFIX) and name != COOKIE_NAME for name in cookies):
        return False, None
    return True, cookies.get(COOKIE_NAME)


# A returning visitor sends the same Cookie header with every page view.
_parsed_consent_cookie = functools.lru_cache(maxsize=1024)(_parse_consent_cookie)


class _ConsentMemo:
    """Consent cookies already verified, until their lifetime ends or the store changes
    (policy version and lifetime live there): a returning visitor's page views skip the
    HMAC, base64 and JSON. Only valid cookies are remembered; bounded in size."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._generation: object = None
        self._entries: dict[str, tuple[Consent, float]] = {}

    def read(self, value: str) -> Consent:
        services = self._services
        generation = services.store.generation()
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation
        remembered = self._entries.get(value)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        codec = services.consent_codec()
        consent = codec.read_cookie(value, services.live.policy_version())
        if consent.given_at:
            if len(self._entries) >= _MAX_REMEMBERED_CONSENTS:
                del self._entries[next(iter(self._entries))]
            self._entries[value] = (consent, consent.given_at + codec.max_age)
        return consent
