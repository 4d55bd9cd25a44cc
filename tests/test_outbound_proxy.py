"""EMBEDGUARD_OUTBOUND_PROXY: every upstream fetch goes through it, and every check stays."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from embedguard import allowlist
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.upstream import UpstreamClient, UpstreamError

from .fake_upstream import VIMEO_OK
from .logging_proxy import logging_proxy
from .servers import free_port, run_asgi_in_thread

OEMBED = f"https://vimeo.com/api/oembed.json?url=https://vimeo.com/{VIMEO_OK}"


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    with logging_proxy() as running:
        yield running


async def test_embed_add_goes_through_the_proxy(
    settings: Settings, proxy: tuple[str, list[str]], fake_upstream: tuple[str, Starlette]
) -> None:
    proxy_url, log = proxy
    services = Services.build(replace(settings, outbound_proxy=proxy_url))
    try:
        result = await allowlist.add(services, f"https://vimeo.com/{VIMEO_OK}")
    finally:
        await services.aclose()
    assert result.embed.title and result.embed.poster
    fake = fake_upstream[0]
    assert any(line.startswith(f"GET {fake}/api/oembed.json?") for line in log), log
    assert any(line.startswith(f"GET {fake}/") and "oembed" not in line for line in log), (
        "the preview image too"
    )


async def test_disallowed_hosts_never_reach_the_proxy(proxy: tuple[str, list[str]]) -> None:
    proxy_url, log = proxy
    async with UpstreamClient(["vimeo.com"], proxy=proxy_url) as client:
        for url in ("https://evil.example/", "http://vimeo.com/", "https://vimeo.com:8443/"):
            with pytest.raises(UpstreamError, match="refusing"):
                await client.get_json(url)
    assert log == []


def _hostile_upstream() -> Starlette:
    async def redirect(request: Request) -> Response:
        return RedirectResponse("https://evil.example/steal", status_code=302)

    async def big(request: Request) -> Response:
        return Response(b"{" + b" " * 5000 + b"}", media_type="application/json")

    async def html(request: Request) -> Response:
        return Response("<html></html>", media_type="text/html")

    return Starlette(
        routes=[Route("/redirect", redirect), Route("/big", big), Route("/html", html)]
    )


async def test_upstream_checks_still_apply_behind_the_proxy(
    proxy: tuple[str, list[str]],
) -> None:
    proxy_url, log = proxy
    with run_asgi_in_thread(_hostile_upstream()) as hostile:
        mapping = {"https://vimeo.com": hostile}
        async with UpstreamClient(["vimeo.com"], mapping, proxy=proxy_url) as client:
            with pytest.raises(UpstreamError, match="redirected elsewhere"):
                await client.get_json("https://vimeo.com/redirect")
            with pytest.raises(UpstreamError, match="too large"):
                await client.get_json("https://vimeo.com/big", max_bytes=1024)
            with pytest.raises(UpstreamError, match="content type"):
                await client.get_json("https://vimeo.com/html")
    assert log == [f"GET {hostile}/redirect", f"GET {hostile}/big", f"GET {hostile}/html"], (
        "the redirect target was never requested"
    )


async def test_an_unreachable_proxy_is_an_upstream_error() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with UpstreamClient(["vimeo.com"], {"https://vimeo.com": dead}, proxy=dead) as client:
        with pytest.raises(UpstreamError, match="could not be reached"):
            await client.get_json(OEMBED)


async def test_https_upstreams_are_tunnelled_with_connect(
    proxy: tuple[str, list[str]], fake_upstream: tuple[str, Starlette]
) -> None:
    proxy_url, log = proxy
    # https through the proxy is a CONNECT tunnel; the fake speaks plain HTTP, so the TLS
    # handshake inside the tunnel fails (and certificates are still verified).
    tls_origin = fake_upstream[0].replace("http://", "https://")
    mapping = {"https://vimeo.com": tls_origin}
    async with UpstreamClient(["vimeo.com"], mapping, proxy=proxy_url) as client:
        with pytest.raises(UpstreamError, match="could not be reached"):
            await client.get_json(OEMBED)
    assert log == [f"CONNECT {tls_origin.removeprefix('https://')}"]
