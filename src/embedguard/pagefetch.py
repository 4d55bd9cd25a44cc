"""Fetching a page of the integrator's own site, for ``embedguard scan URL``.

The upstream client (upstream.py) fetches only from the providers' hosts, so a county page
needs a fetch of its own, held to the same habits: http(s) only, no user info, timeouts and
a total deadline, a size cap while streaming, an uncompressed HTML body, redirects followed
by hand and checked again, no cookies, no proxy or credentials from the environment.

The address is typed on the server, so the fetch must not become a way into the server's
own network: every host is resolved first, every address it resolves to must be public
(no loopback, private, link-local or cloud-metadata address), and the connection goes to
the checked address, so a second DNS answer cannot slip in between check and use. A
staging copy on the intranet can be scanned when the admin allows private addresses.
Through the outbound proxy (``EMBEDGUARD_OUTBOUND_PROXY``) the check still runs, but the
proxy resolves the name itself and connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import anyio
import httpx

from .scan_files import decode_html

MAX_PAGE_BYTES = 5 * 1024 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]


class PageFetchError(Exception):
    """Why a page could not be fetched; one line naming the host."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects: relative links resolve against it
    text: str


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PageFetcher:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = resolve_host,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_redirects: int = 5,
        max_bytes: int = MAX_PAGE_BYTES,
        proxy: str = "",
    ) -> None:
        self._allow_private = allow_private
        self._proxied = bool(proxy)
        self._resolve = resolver
        self._max_redirects = max_redirects
        self._max_bytes = max_bytes
        self._deadline = connect_timeout + 2 * read_timeout
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            trust_env=False,
            proxy=proxy or None,
            headers={
                "User-Agent": "embedguard-scan/0.1",
                "Accept": "text/html, application/xhtml+xml",
                "Accept-Encoding": "identity",
            },
        )

    async def aclose(self) -> None:
        await self._client.aclose()

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
        address = await self._checked_address(url)
        pinned = url if self._proxied else url.copy_with(host=address)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        request = self._client.build_request(
            "GET", pinned, headers={"Host": url.netloc.decode("ascii")}, extensions=extensions
        )
        return await self._client.send(request, stream=True)

    async def _checked_address(self, url: httpx.URL) -> str:
        host = url.host
        port = url.port or _DEFAULT_PORTS[url.scheme]
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, port)
            except OSError:
                raise PageFetchError(f"{host}: no such host") from None
        if not addresses:
            raise PageFetchError(f"{host}: no such host")
        private = [a for a in addresses if not is_public_address(a)]
        if private and not self._allow_private:
            raise PageFetchError(
                f"{host} is a private address ({private[0]}); "
                "use --allow-private to scan a copy on your own network"
            )
        return addresses[0]

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
        body = await self._read_limited(host, response)
        return FetchedPage(str(url), decode_html(body, response.charset_encoding))

    async def _read_limited(self, host: str, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > self._max_bytes:
                raise PageFetchError(f"{host} sent more than {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        raise PageFetchError(f"not a URL: {url!r}") from None
    return _checked(parsed, url)


def _checked(url: httpx.URL, original: str) -> httpx.URL:
    if url.scheme not in _DEFAULT_PORTS or not url.host:
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
