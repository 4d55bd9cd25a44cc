"""outbound.py: what every outbound request shares. Names are resolved and every address
checked before anything is sent; the connection goes to a checked address; through the proxy
the local answer is still checked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from embedguard.outbound import (
    AddressRefused,
    Outbound,
    UnknownHost,
    is_public_address,
    resolve_host,
)

from .logging_proxy import logging_proxy
from .servers import run_asgi_in_thread

PUBLIC = "93.184.216.34"
PUBLIC_2 = "2606:2800:220:1:248:1893:25c8:1946"
HEADERS = {"User-Agent": "test"}


def outbound(dns: dict[str, list[str]], seen: list[httpx.Request], **options: object) -> Outbound:
    async def resolver(host: str, port: int) -> list[str]:
        if host not in dns:
            raise OSError("Name or service not known")
        return dns[host]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    options.setdefault("transport", httpx.MockTransport(handler))
    return Outbound(
        headers=HEADERS,
        connect_timeout=1.0,
        read_timeout=1.0,
        resolver=resolver,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC, True),
        (PUBLIC_2, True),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address (an IPv6-only network)
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.178.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("192.0.0.1", False),  # IETF protocol assignments
        ("198.18.0.1", False),  # benchmarking
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("fc00::1", False),
        ("fec0::1", False),  # site-local
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_the_request_goes_to_the_checked_address_under_the_name() -> None:
    seen: list[httpx.Request] = []
    client = outbound({"social.example": [PUBLIC]}, seen)
    response = await client.send(httpx.URL("https://social.example/api/oembed?x=1"), {"A": "b"})
    await response.aclose()
    await client.aclose()
    (request,) = seen
    assert request.url == httpx.URL(f"https://{PUBLIC}/api/oembed?x=1")
    assert request.headers["host"] == "social.example"
    assert request.headers["a"] == "b" and request.headers["user-agent"] == "test"
    assert request.extensions["sni_hostname"] == "social.example"


@pytest.mark.parametrize(
    ("addresses", "refused"),
    [
        (["127.0.0.1"], "127.0.0.1"),
        (["10.0.0.5"], "10.0.0.5"),
        (["169.254.169.254"], "169.254.169.254"),
        (["::1"], "::1"),
        (["fc00::5"], "fc00::5"),
        (["::ffff:192.168.1.1"], "::ffff:192.168.1.1"),
        ([PUBLIC, "10.0.0.5"], "10.0.0.5"),  # one private answer is enough to refuse
    ],
)
async def test_a_name_at_a_private_address_is_refused_before_sending(
    addresses: list[str], refused: str
) -> None:
    seen: list[httpx.Request] = []
    client = outbound({"social.example": addresses}, seen)
    with pytest.raises(AddressRefused) as caught:
        await client.send(httpx.URL("https://social.example/"), {})
    await client.aclose()
    assert str(caught.value) == f"social.example is a private address ({refused})"
    assert seen == []


async def test_unknown_names_and_ip_literals() -> None:
    seen: list[httpx.Request] = []
    client = outbound({}, seen)
    with pytest.raises(UnknownHost, match=r"^nowhere\.example: no such host$"):
        await client.send(httpx.URL("https://nowhere.example/"), {})
    with pytest.raises(AddressRefused, match=r"169\.254\.169\.254 is a private address"):
        await client.send(httpx.URL("http://169.254.169.254/latest/meta-data/"), {})
    response = await client.send(httpx.URL(f"https://{PUBLIC}/"), {})
    await response.aclose()
    await client.aclose()
    assert [str(r.url) for r in seen] == [f"https://{PUBLIC}/"]


async def test_the_next_checked_address_when_one_cannot_be_reached() -> None:
    tried: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tried.append(request.url.host)
        if request.url.host == PUBLIC_2:
            raise httpx.ConnectError("no route to host")
        return httpx.Response(200)

    client = outbound(
        {"social.example": [PUBLIC_2, PUBLIC]}, [], transport=httpx.MockTransport(handler)
    )
    response = await client.send(httpx.URL("https://social.example/"), {})
    await response.aclose()
    await client.aclose()
    assert tried == [PUBLIC_2, PUBLIC]


async def test_allow_private_is_for_the_scan_of_an_own_copy() -> None:
    seen: list[httpx.Request] = []
    client = outbound({"intern.example": ["10.0.0.5"]}, seen, allow_private=True)
    response = await client.send(httpx.URL("http://intern.example/"), {})
    await response.aclose()
    await client.aclose()
    assert str(seen[0].url) == "http://10.0.0.5/"


async def test_the_system_resolver_answers_for_loopback() -> None:
    with anyio.fail_after(5):
        assert "127.0.0.1" in await resolve_host("127.0.0.1", 80)


@pytest.fixture(scope="module")
def peer_ports() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """A loopback server that records each request's Host and the client's port."""
    seen: list[tuple[str, int]] = []

    async def page(request: Request) -> PlainTextResponse:
        assert request.client is not None
        seen.append((request.headers["host"], request.client.port))
        return PlainTextResponse("ok")

    with run_asgi_in_thread(Starlette(routes=[Route("/", page)])) as base_url:
        yield base_url, seen


async def test_a_connection_opened_for_one_name_never_carries_another(
    peer_ports: tuple[str, list[tuple[str, int]]],
) -> None:
    base_url, seen = peer_ports
    seen.clear()
    port = httpx.URL(base_url).port
    dns = {"a.example": ["127.0.0.1"], "b.example": ["127.0.0.1"]}
    client = outbound(dns, [], allow_private=True, transport=None)
    for name in ("a.example", "b.example", "a.example"):
        response = await client.send(httpx.URL(f"http://{name}:{port}/"), {})
        await response.aread()
        await response.aclose()
    await client.aclose()
    hosts = [host for host, _ in seen]
    assert hosts == [f"a.example:{port}", f"b.example:{port}", f"a.example:{port}"]
    # Pooled by address, the second request would ride the first one's connection.
    assert len({client_port for _, client_port in seen}) == 3


async def test_through_the_proxy_the_local_answer_is_still_checked() -> None:
    with logging_proxy() as (proxy_url, log):
        dns = {"intern.example": ["10.0.0.5"]}
        client = outbound(dns, [], proxy=proxy_url, transport=None)
        with pytest.raises(AddressRefused):
            await client.send(httpx.URL("http://intern.example/"), {})
        assert log == []
        # A name this machine cannot resolve is the proxy's to resolve: sent by name.
        with pytest.raises(httpx.HTTPError):
            response = await client.send(httpx.URL("http://only-the-proxy-knows.invalid/"), {})
            await response.aread()
        await client.aclose()
    assert log == ["GET http://only-the-proxy-knows.invalid/"]


def test_no_socket_is_opened_for_a_refused_name(monkeypatch: pytest.MonkeyPatch) -> None:
    connects: list[Any] = []
    original = socket.socket.connect

    def spy(sock: socket.socket, address: Any) -> None:
        connects.append(address)
        original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)

    async def main() -> None:
        client = outbound({"social.example": ["127.0.0.1"]}, [], transport=None)
        with pytest.raises(AddressRefused):
            await client.send(httpx.URL("http://social.example/"), {})
        await client.aclose()

    anyio.run(main)
    assert connects == []
