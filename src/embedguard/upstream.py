"""The one outbound HTTP client: every upstream fetch (oEmbed JSON, preview images) goes here.

Only https URLs on an explicit host allowlist are fetched; redirects are followed by hand and
re-checked; bodies are size-limited while streaming; every failure becomes an UpstreamError.

Every host, the providers' fixed ones as well as any Mastodon instance, is also resolved and
its addresses checked before each request, redirects included, and the connection is pinned
to a checked public address (outbound.py; it costs one DNS lookup, which the connection would
have made anyway). The one exception: an origin in the upstream map (``EMBEDGUARD_UPSTREAM_MAP``)
is replaced by the operator's own configured origin, sent to as configured, unchecked (tests
and offline mirrors live on loopback or the intranet); a map is never set by default.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio

from .lazy import lazy_module
from .outbound import (
    AddressRefused,
    InvalidRedirect,
    Outbound,
    Resolver,
    UnknownHost,
    read_at_most,
)

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # on first use: see outbound.py

__all__ = ["UpstreamClient", "UpstreamError", "UpstreamResponse"]

logger = logging.getLogger("embedguard.upstream")

JSON_TYPES = frozenset({"application/json", "text/json"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Set by the client itself; callers may add e.g. Referer, but not these.
_RESERVED_HEADERS = frozenset({"host", "cookie", "accept", "accept-encoding", "user-agent"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")

Origin = tuple[str, str, int]


class UpstreamError(Exception):
    """One-line, human-readable reason (English), e.g. 'vimeo.com answered 404'."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class UpstreamResponse:
    url: str  # the real (unmapped) final URL
    status: int
    content_type: str  # lower-cased media type without parameters
    body: bytes


def _normalise_host(host: str) -> str:
    """Lower-cased ASCII (IDNA) form, parsed the same way httpx will parse request URLs."""
    if _HOST_NAME.fullmatch(host):
        return host  # already that form; the providers' fixed hosts need no parser at start
    try:
        url = httpx.URL(f"https://{host}/")
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid host name: {host!r}") from exc
    normalised = url.raw_host.decode("ascii", "replace")
    if ":" in host or url.path != "/" or url.userinfo or not _HOST_NAME.fullmatch(normalised):
        raise ValueError(f"invalid host name: {host!r}")
    return normalised


def allowed_host_set(hosts: Iterable[str]) -> frozenset[str]:
    """Host names in the form requests will carry; ValueError for anything else."""
    return frozenset(_normalise_host(h) for h in hosts)


def _origin(url: httpx.URL) -> Origin:
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    return (url.scheme, url.raw_host.decode("ascii"), port)


def _parse_origin(value: str) -> Origin:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid origin in upstream map: {value!r}") from exc
    plain = not (url.userinfo or url.query or url.fragment) and url.path in ("", "/")
    if url.scheme not in _DEFAULT_PORTS or not url.raw_host or not plain:
        raise ValueError(f"upstream map entries must be plain http(s) origins: {value!r}")
    return _origin(url)


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _host(url: httpx.URL) -> str:
    """The host as sent on the wire; ``url.host`` would decode IDNA and can raise for a
    hostile name such as ``xn--vimeo-xxx.com``."""
    return url.raw_host.decode("ascii", "replace")


def _safe_for_log(url: httpx.URL) -> str:
    # Queries can carry the embedded item's URL or hashes; keep them out of logs.
    return f"{url.scheme}://{_host(url)}{url.path}"


class UpstreamClient:
    def __init__(
        self,
        allowed_hosts: Iterable[str],
        upstream_map: Mapping[str, str] | None = None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        max_redirects: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "embedguard/0.1 (+consent proxy)",
        proxy: str = "",
        resolver: Resolver | None = None,
    ) -> None:
        self._allowed = allowed_host_set(allowed_hosts)
        self._map = {_parse_origin(k): _parse_origin(v) for k, v in (upstream_map or {}).items()}
        self._max_redirects = max_redirects
        self._deadline = connect_timeout + 2 * read_timeout
        self._outbound = Outbound(
            # Identity only: a compressed body could expand far beyond max_bytes in one chunk.
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # Only the configured proxy; the host checks here still decide what is fetched.
            proxy=proxy,
            transport=transport,
            resolver=resolver,
        )

    def scoped(self, hosts: Iterable[str]) -> UpstreamClient:
        """The same client (connections, map, limits), allowed to fetch from ``hosts`` only:
        one provider's lookup must not follow a redirect to another provider's host."""
        view = copy.copy(self)
        view._allowed = allowed_host_set(hosts)
        return view

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._outbound.aclose()

    async def get_json(
        self, url: str, *, max_bytes: int = 256 * 1024, headers: Mapping[str, str] | None = None
    ) -> Any:
        response = await self.fetch(url, accept=JSON_TYPES, max_bytes=max_bytes, headers=headers)
        try:
            return json.loads(response.body)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
            raise UpstreamError(f"{self._host_of(response.url)} sent invalid JSON") from exc

    async def get_image(self, url: str, *, max_bytes: int = 8 * 1024 * 1024) -> bytes:
        response = await self.fetch(url, accept=IMAGE_TYPES, max_bytes=max_bytes)
        return response.body

    async def fetch(
        self,
        url: str,
        *,
        accept: Collection[str],
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        real = self._check_allowed(self._parse(url))
        request_headers = self._request_headers(accept, headers)
        try:
            with anyio.fail_after(self._deadline):
                return await self._fetch_following(real, accept, max_bytes, request_headers)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise UpstreamError(f"{_host(real)} timed out") from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise UpstreamError(
                f"{_host(real)} could not be reached ({type(exc).__name__})"
            ) from exc

    async def _fetch_following(
        self, real: httpx.URL, accept: Collection[str], max_bytes: int, headers: dict[str, str]
    ) -> UpstreamResponse:
        came_from: str | None = None
        for _ in range(self._max_redirects + 1):
            logger.debug("GET %s", _safe_for_log(real))
            response = await self._send(real, headers, came_from)
            try:
                if response.status_code not in REDIRECT_STATUSES:
                    return await self._read(real, response, accept, max_bytes)
                came_from = _host(real)
                real = self._redirect_target(real, response)
            finally:
                await response.aclose()
        raise UpstreamError(f"{_host(real)} redirected too often (more than {self._max_redirects})")

    async def _send(
        self, real: httpx.URL, headers: dict[str, str], came_from: str | None
    ) -> httpx.Response:
        mapped = self._to_mapped(real)
        try:
            if mapped is not None:
                return await self._outbound.send_unchecked(mapped, headers)
            return await self._outbound.send(real, headers)
        except AddressRefused as refused:
            hop = f" (redirected from {came_from})" if came_from else ""
            raise UpstreamError(f"refusing to fetch: {refused}{hop}") from None
        except UnknownHost:
            raise UpstreamError(f"{_host(real)} could not be reached (no such host)") from None
        except InvalidRedirect as invalid:
            raise UpstreamError(str(invalid)) from invalid

    async def _read(
        self, real: httpx.URL, response: httpx.Response, accept: Collection[str], max_bytes: int
    ) -> UpstreamResponse:
        host = _host(real)
        if not 200 <= response.status_code < 300:
            raise UpstreamError(
                f"{host} answered {response.status_code}", status=response.status_code
            )
        media_type = _media_type(response)
        if media_type not in accept:
            raise UpstreamError(f"{host} sent unexpected content type {media_type or 'none'!r}")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise UpstreamError(f"{host} sent a compressed body although asked not to")
        declared = _declared_length(response)
        if declared is not None and declared > max_bytes:
            raise UpstreamError(f"{host} sent too large a body ({declared} > {max_bytes} bytes)")
        body = await read_at_most(response.aiter_bytes(), max_bytes)
        if body is None:
            raise UpstreamError(f"{host} sent too large a body (over {max_bytes} bytes)")
        return UpstreamResponse(str(real), response.status_code, media_type, body)

    def _redirect_target(self, real: httpx.URL, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("location")
        if not location:
            raise UpstreamError(f"{_host(real)} redirected without a Location")
        try:
            target = self._from_mapped(real.join(location), real)
        except (httpx.InvalidURL, ValueError) as exc:  # ValueError: e.g. invalid IDNA
            raise UpstreamError(f"{_host(real)} redirected to an invalid URL") from exc
        return self._check_allowed(target, redirected_from=_host(real))

    def _parse(self, url: str) -> httpx.URL:
        try:
            return httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise UpstreamError("refusing to fetch an invalid URL") from exc

    def _check_allowed(self, url: httpx.URL, *, redirected_from: str | None = None) -> httpx.URL:
        host = url.raw_host.decode("ascii", "replace")
        problem = None
        if url.scheme != "https":
            problem = f"scheme {url.scheme or 'none'!r} is not https"
        elif url.userinfo:
            problem = "URLs with user info are not allowed"
        elif url.port not in (None, 443):
            problem = f"port {url.port} is not allowed"
        elif host not in self._allowed:
            problem = f"host {host!r} is not allowed"
        if problem is None:
            return url.copy_with(fragment=None)
        prefix = f"{redirected_from} redirected elsewhere: " if redirected_from else ""
        raise UpstreamError(f"refusing to fetch: {prefix}{problem}")

    def _to_mapped(self, real: httpx.URL) -> httpx.URL | None:
        """The URL on the operator's replacement origin, or None when ``real`` is not mapped."""
        replacement = self._map.get(_origin(real))
        if replacement is None:
            return None
        scheme, host, port = replacement
        return real.copy_with(scheme=scheme, host=host, port=port)

    def _from_mapped(self, target: httpx.URL, current: httpx.URL) -> httpx.URL:
        """Translate an absolute URL on a replacement origin back to its real origin."""
        origin = _origin(target)
        candidates = [real for real, repl in self._map.items() if repl == origin]
        if not candidates:
            return target
        # Several real origins may share one fake upstream; prefer the one we are on.
        real = _origin(current) if _origin(current) in candidates else candidates[0]
        scheme, host, port = real
        return target.copy_with(scheme=scheme, host=host, port=None if port == 443 else port)

    @staticmethod
    def _host_of(url: str) -> str:
        return _host(httpx.URL(url))

    @staticmethod
    def _request_headers(
        accept: Collection[str], extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        headers = {k: v for k, v in (extra or {}).items() if k.lower() not in _RESERVED_HEADERS}
        headers["Accept"] = ", ".join(sorted(accept))
        return headers
