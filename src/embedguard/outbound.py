"""What every outbound HTTP request shares: the providers' fetches (upstream.py) and the scan's
page fetch (pagefetch.py) both send through an ``Outbound``.

The client keeps no cookies, follows no redirect by itself (the callers check each hop),
takes no proxy or .netrc credentials from the environment, and asks for uncompressed bodies.

Connections go to public addresses only. Each request's host is resolved first; every address
it resolves to must be public: no loopback, private, shared (100.64/10), link-local (cloud
metadata at 169.254.169.254), multicast, reserved or site-local address, also none hidden in an
IPv6 form (``::ffff:10.0.0.1``, NAT64 ``64:ff9b::a00:1``, 6to4 ``2002:a00:1::``). The
connection then goes to a checked address: the URL carries the address, the Host header and
the TLS server name carry the name (so the certificate is still verified for the name), and a
second, different DNS answer between check and connect (DNS rebinding) is never asked for.
Keep-alive is off while pinning: the connection pool knows a connection by its address only,
and a connection verified for one name must not carry a request for another name there.

Through a proxy (``EMBEDGUARD_OUTBOUND_PROXY``) the proxy resolves the name and connects. The
check still runs on this machine's answer, so a name it sees at a private address is refused;
a name it cannot resolve is left to the proxy (a network whose only way out is the proxy may
have no public DNS), and what the proxy resolves is not seen here: keeping the proxy away from
internal addresses is then the proxy's own rule.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING

import anyio

from .lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    # Loaded on the first outbound request: a worker that only serves pages never needs it
    # (about 2.5 MB of imports per process).
    httpx = lazy_module("httpx")

__all__ = [
    "AddressRefused",
    "InvalidRedirect",
    "Outbound",
    "Resolver",
    "UnknownHost",
    "is_public_address",
    "read_at_most",
    "resolve_host",
]

# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# The well-known NAT64 prefix carries an IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Python 3.11 counts these as global; none of them is a public destination.
_NOT_PUBLIC_V6 = (
    ipaddress.IPv6Network("::/8"),  # IPv4-compatible and other reserved forms
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.IPv6Network("fec0::/10"),  # site-local
)


class AddressRefused(Exception):
    """The host resolves to an address outbound requests never go to."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} is a private address ({address})")
        self.host = host
        self.address = address


class InvalidRedirect(Exception):
    """The answer redirects to a URL that cannot be parsed."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} redirected to an invalid URL")
        self.host = host


class UnknownHost(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(f"{host}: no such host")
        self.host = host


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip: IPAddress = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
        elif any(ip in network for network in _NOT_PUBLIC_V6):
            return False
    return ip.is_global and not ip.is_multicast


class Outbound:
    """One hardened HTTP client and the address check every request goes through."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str],
        connect_timeout: float,
        read_timeout: float,
        proxy: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        allow_private: bool = False,
    ) -> None:
        self._proxied = bool(proxy)
        self._resolve = resolver or resolve_host
        self._allow_private = allow_private

        def make_client() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
                limits=httpx.Limits(max_keepalive_connections=20 if proxy else 0),
                follow_redirects=False,
                # A jar whose policy accepts nothing: cookies are never stored or sent.
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                proxy=proxy or None,
                trust_env=False,
                headers=dict(headers),
            )

        self._make_client = make_client
        self._made: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        # Made on the first request, so that httpx is imported only then.
        if self._made is None:
            self._made = self._make_client()
        return self._made

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.aclose()

    async def send(self, url: httpx.URL, headers: Mapping[str, str]) -> httpx.Response:
        """GET ``url`` (streamed) from one of its host's checked public addresses, in the
        resolver's order; AddressRefused or UnknownHost before anything is sent."""
        addresses = await self._checked_addresses(url)
        if self._proxied or not addresses:
            return await self.send_unchecked(url, headers)
        for address in addresses[:-1]:
            try:
                return await self._send_pinned(url, address, headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue  # the next address, one after another; the caller's deadline holds
        return await self._send_pinned(url, addresses[-1], headers)

    async def send_unchecked(self, url: httpx.URL, headers: Mapping[str, str]) -> httpx.Response:
        """GET ``url`` without the address check: only for an origin the operator named
        explicitly (``EMBEDGUARD_UPSTREAM_MAP``), and behind the proxy."""
        request = self._client.build_request("GET", url, headers=headers)
        return await self._dispatch(request, _name(url))

    async def _send_pinned(
        self, url: httpx.URL, address: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        extensions = {"sni_hostname": _name(url)} if url.scheme == "https" else {}
        request = self._client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={**headers, "Host": url.netloc.decode("ascii")},
            extensions=extensions,
        )
        return await self._dispatch(request, _name(url))

    async def _dispatch(self, request: httpx.Request, host: str) -> httpx.Response:
        try:
            return await self._client.send(request, stream=True)
        except ValueError as error:
            # httpx reads a redirect's Location even when not following it, and an invalid
            # IDNA host there (xn--vimeo-xxx.com) raises idna's UnicodeError.
            raise InvalidRedirect(host) from error

    async def _checked_addresses(self, url: httpx.URL) -> list[str]:
        host = _name(url)
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = await self._resolved(host, url.port or _DEFAULT_PORTS[url.scheme])
        if not addresses and not self._proxied:
            raise UnknownHost(host)
        private = [a for a in addresses if not is_public_address(a)]
        if private and not self._allow_private:
            raise AddressRefused(host, private[0])
        return addresses

    async def _resolved(self, host: str, port: int) -> list[str]:
        try:
            return await self._resolve(host, port)
        except (OSError, UnicodeError):
            return []


def _name(url: httpx.URL) -> str:
    """The host as sent on the wire (ASCII; IDNA already applied, no brackets)."""
    return url.raw_host.decode("ascii", "replace")


async def read_at_most(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``max_bytes`` (read while streaming,
    so an oversized answer costs no more than the cap)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            return None
        parts.append(chunk)
    return b"".join(parts)
