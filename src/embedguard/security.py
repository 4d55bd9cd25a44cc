"""Security headers on every response, as one pure-ASGI middleware.

Views that need more than the strict default (a consented embed, the demo host page)
set their own Content-Security-Policy built with :func:`build_csp`; this middleware adds
``frame-ancestors`` to whatever policy a response carries, so no page can forget it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Before consent a page may load only from embedguard itself: no third-party frame,
# script, image, font, preconnect or prefetch can slip through a template mistake.
STRICT_POLICY: Mapping[str, tuple[str, ...]] = {
    "default-src": ("'none'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'",),
    "form-action": ("'self'",),
    "base-uri": ("'none'",),
}


_HOST_SOURCE = re.compile(r"^(?:(https?)://)?(\*\.)?([a-z0-9.-]+)(?::(\d{1,5}))?/?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_matches_source(origin: str, source: str, own_scheme: str) -> bool:
    """Whether a browser ``Origin`` is one a CSP host-source (``https://a.de``,
    ``https://*.a.de``, ``a.de``) names; keywords such as ``'self'`` match nothing here."""
    wanted = _HOST_SOURCE.match(source.lower())
    given = re.match(r"^(https?)://([a-z0-9.-]+)(?::(\d{1,5}))?$", origin.lower())
    if not wanted or not given:
        return False
    scheme, wildcard, host, port = wanted.groups()
    origin_scheme, origin_host, origin_port = given.groups()
    # A scheme-less source means the page's own scheme (and https, its upgrade).
    if origin_scheme not in ((scheme,) if scheme else (own_scheme, "https")):
        return False
    default = str(_DEFAULT_PORTS[origin_scheme])
    if (port or default) != (origin_port or default):
        return False
    if wildcard:
        return origin_host.endswith(f".{host}")
    return origin_host == host


def frame_parents(sources: Iterable[str]) -> str:
    """The origins allowed to frame embed pages, for frame.js: CSP keywords dropped,
    ``'self'`` kept as ``self`` (the page's own origin, which only the browser knows for sure
    behind a proxy)."""
    sources = tuple(sources)
    if "'none'" in sources:
        return ""
    kept = ["self", *(s.lower() for s in sources if not s.startswith("'"))]
    return " ".join(dict.fromkeys(kept))


def build_csp(extra: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """The strict policy plus ``extra`` sources per directive."""
    directives = {name: list(sources) for name, sources in STRICT_POLICY.items()}
    for name, sources in (extra or {}).items():
        current = directives.setdefault(name, [])
        current.extend(s for s in sources if s not in current)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _with_self(sources: tuple[str, ...]) -> str:
    # embedguard may always frame its own pages (the admin's live preview, /demo);
    # 'none' stays 'none'.
    if "'none'" in sources or "'self'" in sources:
        return " ".join(sources)
    return " ".join((*sources, "'self'"))


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, frame_ancestors: Callable[[], tuple[str, ...]]) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        never_framed = scope["path"].startswith("/admin")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(MutableHeaders(scope=message), never_framed)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add_headers(self, headers: MutableHeaders, never_framed: bool) -> None:
        add_security_headers(headers, self.frame_ancestors(), never_framed)


def add_security_headers(
    headers: MutableHeaders, frame_ancestors: tuple[str, ...], never_framed: bool
) -> None:
    policy = headers.get("content-security-policy") or build_csp()
    ancestors = "'none'" if never_framed else _with_self(frame_ancestors)
    headers["content-security-policy"] = f"{policy}; frame-ancestors {ancestors}"
    headers["x-content-type-options"] = "nosniff"
    headers.setdefault("referrer-policy", "same-origin")
    if never_framed:
        headers["x-frame-options"] = "DENY"
        # A window that /admin opened or that opened /admin gets no handle on it.
        headers["cross-origin-opener-policy"] = "same-origin"


@functools.lru_cache(maxsize=64)
def security_headers(
    policy: bytes | None, frame_ancestors: tuple[str, ...]
) -> tuple[tuple[bytes, bytes], ...]:
    """What the middleware makes of a framable response's own ``policy`` (or none), as
    raw pairs that replace it: for answers that bypass the middleware (hotpath.py)."""
    headers = MutableHeaders()
    if policy is not None:
        headers.raw.append((b"content-security-policy", policy))
    add_security_headers(headers, frame_ancestors, never_framed=False)
    return tuple(headers.raw)
