"""Fetching a page of the integrator's own site, for ``embedguard scan URL``.

The upstream client (upstream.py) fetches only from the providers' hosts, so a county page
needs a fetch of its own, held to the same habits: http(s) only, no user info, timeouts and
a total deadline, a size cap while streaming, an uncompressed HTML body, redirects followed
by hand and checked again, no cookies, no proxy or credentials from the environment.

The address is typed on the server, so the fetch must not become a way into the server's
own network: it goes through outbound.py, which connects only to checked public addresses
(see there, also for what the outbound proxy changes). A staging copy on the intranet can be
scanned when the admin allows private addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
from .scan_files import decode_html

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # on first use: see outbound.py

__all__ = ["FetchedPage", "PageFetchError", "PageFetcher"]

MAX_PAGE_BYTES = 5 * 1024 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = frozenset({"http", "https"})


class PageFetchError(Exception):
    """Why a page could not be fetched; one line naming the host."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects: relative links resolve against it
    text: str


class PageFetcher:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_redirects: int = 5,
        max_bytes: int = MAX_PAGE_BYTES,
        proxy: str = "",
    ) -> None:
        self._max_redirects = max_redirects
        self._max_bytes = max_bytes
        self._deadline = connect_timeout + 2 * read_timeout
        self._outbound = Outbound(
            headers={
                "User-Agent": "embedguard-scan/0.1",
                "Accept": "text/html, application/xhtml+xml",
                "Accept-Encoding": "identity",
            },
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            proxy=proxy,
            transport=transport,
            resolver=resolver,
            allow_private=allow_private,
        )

    async def aclose(self) -> None:
        await self._outbound.aclose()

    async def fetch(self, url: str) -> FetchedPage:
        current = _parse(url)
        try:
            with anyio.fail_after(self._deadline):
                for _ in range(self._max_redirects + 1):
                    response = await self._send(current)
                    try:
                        if response.status_code not in _REDIRECTS:
                            return await self._page(current, response)
                        current = _redirect_target(current, response)
                    finally:
                        await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise PageFetchError(f"{current.host} timed out") from None
        except httpx.HTTPError as error:
            reason = type(error).__name__
            raise PageFetchError(f"{current.host} could not be reached ({reason})") from None
        raise PageFetchError(f"{current.host} redirected more than {self._max_redirects} times")

    async def _send(self, url: httpx.URL) -> httpx.Response:
        try:
            return await self._outbound.send(url, {})
        except AddressRefused as refused:
            raise PageFetchError(
                f"{refused}; use --allow-private to scan a copy on your own network"
            ) from None
        except (UnknownHost, InvalidRedirect) as unreachable:
            raise PageFetchError(str(unreachable)) from None

    async def _page(self, url: httpx.URL, response: httpx.Response) -> FetchedPage:
        host = url.host
        if not 200 <= response.status_code < 300:
            raise PageFetchError(f"{host} answered {response.status_code}")
        content_type = response.headers.get("content-type", "")
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type not in HTML_TYPES:
            raise PageFetchError(f"{host} sent {media_type or 'no content type'}, not an HTML page")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise PageFetchError(f"{host} sent a compressed page although asked not to")
        body = await read_at_most(response.aiter_raw(), self._max_bytes)
        if body is None:
            raise PageFetchError(f"{host} sent more than {self._max_bytes} bytes")
        return FetchedPage(str(url), decode_html(body, response.charset_encoding))


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        raise PageFetchError(f"not a URL: {url!r}") from None
    return _checked(parsed, url)


def _checked(url: httpx.URL, original: str) -> httpx.URL:
    if url.scheme not in _SCHEMES or not url.host:
        raise PageFetchError(f"only http and https pages can be scanned: {original!r}")
    if url.userinfo:
        raise PageFetchError(f"URLs with user info are not scanned: {url.host}")
    return url.copy_with(fragment=None)


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise PageFetchError(f"{current.host} redirected without a Location")
    try:
        target = current.join(location)
    except httpx.InvalidURL:
        raise PageFetchError(f"{current.host} redirected to an invalid URL") from None
    return _checked(target, str(target))
