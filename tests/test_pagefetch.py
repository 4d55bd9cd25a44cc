"""Fetching a county page for `embedguard scan URL` (pagefetch.py): only public addresses,
pinned to the address that was checked, redirects checked again, bounded in size and time."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import anyio
import httpx
import pytest

from embedguard.pagefetch import PageFetcher, PageFetchError

PUBLIC = "93.184.216.34"
DNS = {
    "www.landkreis.example": [PUBLIC],
    "neu.landkreis.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "intern.landkreis.example": ["10.0.0.5"],
    "gemischt.example": [PUBLIC, "127.0.0.1"],
}
PAGE = b'<html><body><iframe src="https://player.vimeo.com/video/1"></iframe></body></html>'

Handler = Callable[[httpx.Request], httpx.Response]


async def fake_dns(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError("Name or service not known")
    return DNS[host]


def fetcher(handler: Handler, seen: list[httpx.Request], **options: object) -> PageFetcher:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return PageFetcher(
        resolver=fake_dns,
        transport=httpx.MockTransport(record),
        **options,  # type: ignore[arg-type]
    )


def html(body: bytes = PAGE, **headers: str) -> httpx.Response:
    # A stream, as a real transport gives: the fetcher reads it chunk by chunk.
    stream = httpx.ByteStream(body)
    return httpx.Response(200, stream=stream, headers={"content-type": "text/html", **headers})


async def test_the_connection_goes_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []
    client = fetcher(lambda request: html(), seen)
    page = await client.fetch("https://www.landkreis.example/wirtschaft/#video")
    await client.aclose()
    assert page.url == "https://www.landkreis.example/wirtschaft/"
    assert "player.vimeo.com" in page.text
    (request,) = seen
    assert request.url == httpx.URL(f"https://{PUBLIC}/wirtschaft/")
    assert request.headers["host"] == "www.landkreis.example"
    assert request.extensions["sni_hostname"] == "www.landkreis.example"
    assert request.headers["accept-encoding"] == "identity"
    assert "cookie" not in request.headers


async def test_ipv6_hosts_and_ports_are_kept() -> None:
    seen: list[httpx.Request] = []
    client = fetcher(lambda request: html(), seen)
    await client.fetch("http://neu.landkreis.example:8080/")
    await client.aclose()
    assert str(seen[0].url) == "http://[2606:2800:220:1:248:1893:25c8:1946]:8080/"
    assert seen[0].headers["host"] == "neu.landkreis.example:8080"
    assert "sni_hostname" not in seen[0].extensions


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://intern.landkreis.example/", "intern.landkreis.example is a private address"),
        ("http://gemischt.example/", "gemischt.example is a private address (127.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private address"),
        ("http://[::1]:8000/", "::1 is a private address"),
        ("http://unbekannt.example/", "unbekannt.example: no such host"),
        ("ftp://www.landkreis.example/", "only http and https pages can be scanned"),
        ("https://admin:pw@www.landkreis.example/", "URLs with user info are not scanned"),
        ("https://", "only http and https pages can be scanned"),
    ],
)
async def test_refused_before_any_request(url: str, reason: str) -> None:
    seen: list[httpx.Request] = []
    client = fetcher(lambda request: html(), seen)
    with pytest.raises(PageFetchError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        await client.fetch(url)
    await client.aclose()
    assert seen == []


@pytest.mark.parametrize(
    "location",
    [
        "http://intern.landkreis.example/admin",
        "http://127.0.0.1:8080/",
        "http://[::ffff:a00:5]/",
        "file:///etc/passwd",
        "https://xn--vimeo-xxx.com/",  # invalid IDNA: httpx raises a ValueError reading it
    ],
)
async def test_redirects_are_checked_again(location: str) -> None:
    seen: list[httpx.Request] = []
    client = fetcher(
        lambda request: httpx.Response(302, headers={"location": location, "set-cookie": "a=1"}),
        seen,
    )
    with pytest.raises(PageFetchError):
        await client.fetch("https://www.landkreis.example/")
    await client.aclose()
    assert len(seen) == 1


async def test_redirects_on_public_hosts_are_followed_without_cookies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/":
            return httpx.Response(301, headers={"location": "/start", "set-cookie": "sid=1"})
        return html()

    client = fetcher(handler, seen)
    page = await client.fetch("https://www.landkreis.example/")
    await client.aclose()
    assert page.url == "https://www.landkreis.example/start"
    assert "cookie" not in seen[1].headers


async def test_private_addresses_when_the_admin_allows_them() -> None:
    seen: list[httpx.Request] = []
    client = fetcher(lambda request: html(), seen, allow_private=True)
    await client.fetch("http://intern.landkreis.example/")
    await client.aclose()
    assert seen[0].url.host == "10.0.0.5"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(404), "www.landkreis.example answered 404"),
        (httpx.Response(302), "redirected without a Location"),
        (httpx.Response(200, json={}), "sent application/json, not an HTML page"),
        (httpx.Response(200, content=b"x"), "sent no content type, not an HTML page"),
        (html(gzip.compress(PAGE), **{"content-encoding": "gzip"}), "sent a compressed page"),
        (html(b"x" * 2001), "sent more than 2000 bytes"),
    ],
)
async def test_unusable_answers(response: httpx.Response, reason: str) -> None:
    client = fetcher(lambda request: response, [], max_bytes=2000)
    with pytest.raises(PageFetchError, match=reason):
        await client.fetch("https://www.landkreis.example/")
    await client.aclose()


async def test_redirect_loops_end() -> None:
    seen: list[httpx.Request] = []
    client = fetcher(lambda request: httpx.Response(302, headers={"location": "/"}), seen)
    with pytest.raises(PageFetchError, match="redirected more than 5 times"):
        await client.fetch("https://www.landkreis.example/")
    await client.aclose()
    assert len(seen) == 6


async def test_slow_pages_time_out() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return html()

    client = PageFetcher(
        resolver=fake_dns,
        transport=httpx.MockTransport(slow),
        connect_timeout=0.1,
        read_timeout=0.1,
    )
    with anyio.fail_after(3), pytest.raises(PageFetchError, match="timed out"):
        await client.fetch("https://www.landkreis.example/")
    await client.aclose()


async def test_the_declared_charset_is_used() -> None:
    body = "<p>Größe</p>".encode("iso-8859-1")
    client = fetcher(
        lambda request: html(body, **{"content-type": "text/html; charset=latin-1"}), []
    )
    page = await client.fetch("https://www.landkreis.example/")
    await client.aclose()
    assert page.text == "<p>Größe</p>"
