from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest

from embedguard.upstream import UpstreamClient, UpstreamError, UpstreamResponse

from .helpers import PUBLIC_ADDRESS, public_dns

ALLOWED = ["vimeo.com", "i.vimeocdn.com", "publish.twitter.com"]
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """MockTransport handler that records every request it sees."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def json_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"title": "Hello", "path": request.url.path})


def make_client(handler: Handler, **kwargs: Any) -> tuple[UpstreamClient, Recorder]:
    recorder = Recorder(handler)
    kwargs.setdefault("resolver", public_dns)
    client = UpstreamClient(ALLOWED, transport=httpx.MockTransport(recorder), **kwargs)
    return client, recorder


class ChunkStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


# --- allowlist -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://vimeo.com/api/oembed.json",
        "http://127.0.0.1/",
        "https://127.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "file:///etc/passwd",
        "ftp://vimeo.com/x",
        "https://evil.com/",
        "https://vimeo.com.evil.com/",
        "https://evil.com#@vimeo.com",
        "https://evil.com?@vimeo.com",
        "https://vimeo.com\\@evil.com/",
        "https://user@vimeo.com/",
        "https://user:pw@vimeo.com/",
        "https://vimeo.com:8443/",
        "https://vimeo.com:80/",
        "https://vimeo.com./",
        "https://player.vimeo.com/video/1",
        "https://vim%65o.com/",
        "//vimeo.com/x",
        "/api/oembed.json",
        "",
        "https://",
        "https://vimeo.com:99999/",
    ],
)
async def test_disallowed_urls_never_touch_the_network(url: str) -> None:
    client, recorder = make_client(json_ok)
    async with client:
        with pytest.raises(UpstreamError) as info:
            await client.get_json(url)
    assert recorder.requests == []
    assert info.value.status is None
    assert "\n" not in info.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/api/oembed.json?url=x",
        "https://VIMEO.COM/api/oembed.json?url=x",
        "https://vimeo.com:443/api/oembed.json?url=x",
        "https://vimeo.com/api/oembed.json?url=x#frag",
    ],
)
async def test_allowed_urls_are_fetched(url: str) -> None:
    client, recorder = make_client(json_ok)
    async with client:
        data = await client.get_json(url)
    assert data == {"title": "Hello", "path": "/api/oembed.json"}
    assert len(recorder.requests) == 1
    (sent,) = recorder.requests
    assert (sent.url.scheme, sent.url.host, sent.url.port, sent.url.fragment) == (
        "https",
        PUBLIC_ADDRESS,  # the checked address; the name goes in Host and the TLS server name
        None,
        "",
    )
    assert sent.headers["host"] == "vimeo.com"
    assert sent.extensions["sni_hostname"] == "vimeo.com"


async def test_idna_hosts_are_normalised() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={}))
    client = UpstreamClient(
        ["Bücher.example"], transport=httpx.MockTransport(recorder), resolver=public_dns
    )
    async with client:
        await client.get_json("https://bücher.example/a")
        await client.get_json("https://xn--bcher-kva.example/b")
    assert [r.headers["host"] for r in recorder.requests] == ["xn--bcher-kva.example"] * 2


@pytest.mark.parametrize(
    "host", ["exa mple.com", "vimeo.com/x", "u@vimeo.com", "vimeo.com:443", "vimeo.com.", ""]
)
def test_invalid_allowed_host_is_a_config_error(host: str) -> None:
    with pytest.raises(ValueError):
        UpstreamClient([host])


@pytest.mark.parametrize("value", ["http://127.0.0.1:9000/sub", "ftp://x", "http://u@h", "nope"])
def test_invalid_upstream_map_is_a_config_error(value: str) -> None:
    with pytest.raises(ValueError):
        UpstreamClient(ALLOWED, {"https://vimeo.com": value})


# --- request shape -------------------------------------------------------------------------


async def test_headers_and_no_cookies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={}, headers={"set-cookie": "vuid=tracking; Domain=vimeo.com; Path=/"}
        )

    client, recorder = make_client(handler, user_agent="test-agent/1")
    async with client:
        extra = {"Referer": "https://www.example.de/", "Cookie": "a=b", "User-Agent": "x"}
        await client.get_json("https://vimeo.com/a", headers=extra)
        await client.get_json("https://vimeo.com/b")
    first, second = recorder.requests
    assert first.headers["user-agent"] == "test-agent/1"
    assert first.headers["referer"] == "https://www.example.de/"
    assert first.headers["accept"] == "application/json, text/json"
    assert first.headers["accept-encoding"] == "identity"
    assert "cookie" not in first.headers
    assert "cookie" not in second.headers
    assert "referer" not in second.headers


async def test_image_accept_header_and_body() -> None:
    client, recorder = make_client(
        lambda r: httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})
    )
    async with client:
        assert await client.get_image("https://i.vimeocdn.com/video/1_640.jpg") == b"\x89PNG"
    assert recorder.requests[0].headers["accept"] == "image/gif, image/jpeg, image/png, image/webp"


async def test_fetch_returns_response_details() -> None:
    client, _ = make_client(
        lambda r: httpx.Response(
            203, content=b"{}", headers={"content-type": "Application/JSON; charset=UTF-8"}
        )
    )
    async with client:
        response = await client.fetch(
            "https://vimeo.com/x?y=1", accept={"application/json"}, max_bytes=10
        )
    assert response == UpstreamResponse("https://vimeo.com/x?y=1", 203, "application/json", b"{}")


# --- mapping -------------------------------------------------------------------------------


async def test_mapping_applies_after_allowlist_and_keeps_path_and_query() -> None:
    recorder = Recorder(json_ok)
    client = UpstreamClient(
        ALLOWED,
        {"https://vimeo.com": "http://127.0.0.1:9000", "https://evil.com": "http://127.0.0.1:9000"},
        transport=httpx.MockTransport(recorder),
    )
    async with client:
        response = await client.fetch(
            "https://vimeo.com/api/oembed.json?url=a%2Fb", accept={"application/json"}, max_bytes=99
        )
        with pytest.raises(UpstreamError):
            await client.get_json("https://evil.com/api/oembed.json")
        with pytest.raises(UpstreamError):
            await client.get_json("http://127.0.0.1:9000/api/oembed.json")
    assert [str(r.url) for r in recorder.requests] == [
        "http://127.0.0.1:9000/api/oembed.json?url=a%2Fb"
    ]
    assert response.url == "https://vimeo.com/api/oembed.json?url=a%2Fb"


# --- redirects -----------------------------------------------------------------------------


def redirect_then_json(location: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return httpx.Response(302, headers={"location": location})
        return json_ok(request)

    return handler


@pytest.mark.parametrize(
    ("location", "final"),
    [
        ("/final?q=1", "https://vimeo.com/final?q=1"),
        ("final", "https://vimeo.com/final"),
        ("https://publish.twitter.com/final", "https://publish.twitter.com/final"),
    ],
)
async def test_redirect_within_allowed_hosts(location: str, final: str) -> None:
    client, recorder = make_client(redirect_then_json(location))
    async with client:
        response = await client.fetch(
            "https://vimeo.com/start", accept={"application/json"}, max_bytes=1000
        )
    assert response.url == final
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.com/final",
        "http://vimeo.com/final",
        "//evil.com/final",
        "https://vimeo.com:444/final",
        "https://user@vimeo.com/final",
        "http://127.0.0.1/final",
        "file:///etc/passwd",
    ],
)
async def test_redirect_elsewhere_is_refused(location: str) -> None:
    client, recorder = make_client(redirect_then_json(location))
    async with client:
        with pytest.raises(UpstreamError, match="redirected elsewhere"):
            await client.get_json("https://vimeo.com/start")
    assert len(recorder.requests) == 1


async def test_redirect_without_location() -> None:
    client, _ = make_client(lambda r: httpx.Response(301))
    async with client:
        with pytest.raises(UpstreamError, match="without a Location"):
            await client.get_json("https://vimeo.com/start")


async def test_redirect_to_replacement_origin_is_translated_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return httpx.Response(302, headers={"location": "http://127.0.0.1:9000/final?x=1"})
        return json_ok(request)

    recorder = Recorder(handler)
    mapping = {
        "https://publish.twitter.com": "http://127.0.0.1:9000",
        "https://vimeo.com": "http://127.0.0.1:9000",
    }
    client = UpstreamClient(ALLOWED, mapping, transport=httpx.MockTransport(recorder))
    async with client:
        response = await client.fetch(
            "https://vimeo.com/start", accept={"application/json"}, max_bytes=1000
        )
    assert response.url == "https://vimeo.com/final?x=1"
    assert [str(r.url) for r in recorder.requests] == [
        "http://127.0.0.1:9000/start",
        "http://127.0.0.1:9000/final?x=1",
    ]


async def test_redirect_loop_is_capped() -> None:
    client, recorder = make_client(
        lambda r: httpx.Response(302, headers={"location": r.url.path}), max_redirects=3
    )
    async with client:
        with pytest.raises(UpstreamError, match="redirected too often"):
            await client.get_json("https://vimeo.com/loop")
    assert len(recorder.requests) == 4  # the request plus three redirects


async def test_zero_redirects_allowed() -> None:
    client, recorder = make_client(redirect_then_json("/final"), max_redirects=0)
    async with client:
        with pytest.raises(UpstreamError, match="redirected too often"):
            await client.get_json("https://vimeo.com/start")
    assert len(recorder.requests) == 1


# --- status, type, size, JSON --------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404, 418, 500, 304])
async def test_non_2xx_status_is_an_error_carrying_status(status: int) -> None:
    client, _ = make_client(lambda r: httpx.Response(status, json={"error": "no"}))
    async with client:
        with pytest.raises(UpstreamError) as info:
            await client.get_json("https://vimeo.com/api/oembed.json")
    assert info.value.status == status
    assert info.value.reason == f"vimeo.com answered {status}"


@pytest.mark.parametrize(
    "content_type", ["text/html", "", "application/json-evil", "image/svg+xml"]
)
async def test_wrong_content_type(content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    client, _ = make_client(lambda r: httpx.Response(200, content=b"{}", headers=headers))
    async with client:
        with pytest.raises(UpstreamError, match="content type"):
            await client.get_json("https://vimeo.com/x")


async def test_svg_is_not_an_image_we_accept() -> None:
    svg = {"content-type": "image/svg+xml"}
    client, _ = make_client(lambda r: httpx.Response(200, content=b"<svg/>", headers=svg))
    async with client:
        with pytest.raises(UpstreamError, match="content type"):
            await client.get_image("https://i.vimeocdn.com/x.svg")


async def test_text_json_is_accepted() -> None:
    client, _ = make_client(
        lambda r: httpx.Response(200, content=b"[1]", headers={"content-type": "text/json"})
    )
    async with client:
        assert await client.get_json("https://vimeo.com/x") == [1]


async def test_oversized_by_content_length_is_refused_before_reading() -> None:
    stream = ChunkStream([b"x" * 100])
    client, _ = make_client(
        lambda r: httpx.Response(
            200, stream=stream, headers={"content-type": "image/png", "content-length": "100"}
        )
    )
    async with client:
        with pytest.raises(UpstreamError, match="too large"):
            await client.fetch("https://vimeo.com/x", accept={"image/png"}, max_bytes=99)
    assert stream.sent == 0


@pytest.mark.parametrize("content_length", [None, "10"])
async def test_oversized_by_stream_is_aborted(content_length: str | None) -> None:
    stream = ChunkStream([b"x" * 60] * 100)
    headers = {"content-type": "image/png"}
    if content_length is not None:
        headers["content-length"] = content_length
    client, _ = make_client(lambda r: httpx.Response(200, stream=stream, headers=headers))
    async with client:
        with pytest.raises(UpstreamError, match="too large"):
            await client.fetch("https://vimeo.com/x", accept={"image/png"}, max_bytes=100)
    assert stream.sent == 2  # stopped right after the limit was crossed


async def test_body_exactly_at_limit_is_fine() -> None:
    client, _ = make_client(
        lambda r: httpx.Response(
            200, stream=ChunkStream([b"x" * 50] * 2), headers={"content-type": "image/png"}
        )
    )
    async with client:
        response = await client.fetch("https://vimeo.com/x", accept={"image/png"}, max_bytes=100)
    assert response.body == b"x" * 100


async def test_compressed_body_is_refused() -> None:
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    client, _ = make_client(lambda r: httpx.Response(200, content=b"\x1f\x8b", headers=headers))
    async with client:
        with pytest.raises(UpstreamError, match="compressed"):
            await client.get_json("https://vimeo.com/x")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b"", b"[" * 100_000])
async def test_invalid_json(body: bytes) -> None:
    headers = {"content-type": "application/json"}
    client, _ = make_client(lambda r: httpx.Response(200, content=body, headers=headers))
    async with client:
        with pytest.raises(UpstreamError, match=r"vimeo\.com sent invalid JSON"):
            await client.get_json("https://vimeo.com/x")


# --- transport failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "match"),
    [
        (httpx.ConnectTimeout("slow"), "timed out"),
        (httpx.ReadTimeout("slow"), "timed out"),
        (httpx.ConnectError("refused"), "could not be reached"),
        (httpx.RemoteProtocolError("garbage"), "could not be reached"),
    ],
)
async def test_httpx_errors_become_upstream_errors(exc: Exception, match: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client, _ = make_client(handler)
    async with client:
        with pytest.raises(UpstreamError, match=match):
            await client.get_json("https://vimeo.com/x")


async def test_overall_deadline() -> None:
    class Trickle(httpx.AsyncByteStream):
        # Each chunk arrives within the read timeout, but the whole body never ends.
        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                await anyio.sleep(0.05)
                yield b"x"

    client, _ = make_client(
        lambda r: httpx.Response(200, stream=Trickle(), headers={"content-type": "image/png"}),
        connect_timeout=0.1,
        read_timeout=0.1,
    )
    started = time.monotonic()
    async with client:
        with pytest.raises(UpstreamError, match=r"vimeo\.com timed out"):
            await client.fetch("https://vimeo.com/x", accept={"image/png"}, max_bytes=10**9)
    assert time.monotonic() - started < 1.0


# --- against a real local HTTP server ------------------------------------------------------


class FakeUpstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/api/oembed.json"):
            body = b'{"title": "Real server", "query": "%s"}' % self.path.encode()
            self._send(200, "application/json", body)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header(
                "Location", f"http://{self.headers['Host']}/api/oembed.json?via=redirect"
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.0)
            self._send(200, "application/json", b"{}")
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout test)
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_local_server_through_mapping(local_origin: str) -> None:
    async with UpstreamClient(ALLOWED, {"https://vimeo.com": local_origin}) as client:
        data = await client.get_json(
            "https://vimeo.com/api/oembed.json?url=https%3A%2F%2Fvimeo.com%2F1"
        )
        assert data == {
            "title": "Real server",
            "query": "/api/oembed.json?url=https%3A%2F%2Fvimeo.com%2F1",
        }
        response = await client.fetch(
            "https://vimeo.com/redirect", accept={"application/json"}, max_bytes=1000
        )
        assert response.url == "https://vimeo.com/api/oembed.json?via=redirect"
        with pytest.raises(UpstreamError) as info:
            await client.get_json("https://vimeo.com/missing")
        assert info.value.status == 404


async def test_local_server_slow_response_times_out(local_origin: str) -> None:
    mapping = {"https://vimeo.com": local_origin}
    started = time.monotonic()
    async with UpstreamClient(ALLOWED, mapping, connect_timeout=0.2, read_timeout=0.2) as client:
        with pytest.raises(UpstreamError, match=r"vimeo\.com timed out"):
            await client.get_json("https://vimeo.com/slow")
    assert time.monotonic() - started < 0.9


async def test_unmapped_real_host_connection_refused_is_upstream_error(local_origin: str) -> None:
    # Map to a port nothing listens on: connection errors must not leak as httpx exceptions.
    closed = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    port = closed.server_address[1]
    closed.server_close()
    async with UpstreamClient(ALLOWED, {"https://vimeo.com": f"http://127.0.0.1:{port}"}) as client:
        with pytest.raises(UpstreamError, match="could not be reached"):
            await client.get_json("https://vimeo.com/api/oembed.json")
