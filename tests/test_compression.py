"""Compressed variants: made once, sent only where accepted, each with its own ETag."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import brotli
import pytest
from starlette.testclient import TestClient

from embedguard import compression
from embedguard.compression import preferred_codings
from embedguard.store import Embed

from .fake_upstream import VIMEO_OK

PAGE = f"/vimeo/{VIMEO_OK}"


@pytest.fixture
def video(stored_embed: Callable[..., Embed]) -> Embed:
    return stored_embed(f"vimeo:{VIMEO_OK}", width=1280, height=720)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("",)),
        ("", ("",)),
        ("gzip", ("gzip", "")),
        ("gzip, deflate, br", ("br", "gzip", "")),
        ("br;q=0.5, gzip", ("gzip", "br", "")),
        ("br;q=0, gzip;q=0", ("",)),
        ("*", ("br", "gzip", "")),
        ("*;q=0.1, br;q=0", ("gzip", "")),
        ("x-gzip", ("gzip", "")),
        ("gzip;q=banana, br;q=2", ("",)),
        ("identity", ("",)),
        ("br" + ", x" * 600, ("",)),
    ],
)
def test_preferred_codings(header: str | None, expected: tuple[str, ...]) -> None:
    assert preferred_codings(header) == expected


def raw_get(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    with client.stream("GET", path, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_placeholder_variants(client: TestClient, video: Embed) -> None:
    _, plain_headers, plain = raw_get(client, PAGE, **{"accept-encoding": "identity"})
    assert "content-encoding" not in plain_headers
    assert plain_headers["vary"] == "Cookie, Accept-Language, Sec-Fetch-Dest, Accept-Encoding"
    _, br_headers, br_body = raw_get(client, PAGE, **{"accept-encoding": "gzip, br"})
    _, gz_headers, gz_body = raw_get(client, PAGE, **{"accept-encoding": "gzip"})
    assert br_headers["content-encoding"] == "br" and gz_headers["content-encoding"] == "gzip"
    assert brotli.decompress(br_body) == plain == gzip.decompress(gz_body)
    assert len(br_body) < len(gz_body) < len(plain) / 2
    assert int(br_headers["content-length"]) == len(br_body)
    assert br_headers["vary"] == plain_headers["vary"] == gz_headers["vary"]
    etags = {plain_headers["etag"], br_headers["etag"], gz_headers["etag"]}
    assert len(etags) == 3


def test_304_only_for_the_etag_of_the_chosen_coding(client: TestClient, video: Embed) -> None:
    gz_etag = raw_get(client, PAGE, **{"accept-encoding": "gzip"})[1]["etag"]
    status, headers, body = raw_get(
        client, PAGE, **{"accept-encoding": "gzip", "if-none-match": gz_etag}
    )
    assert (status, body, headers["etag"]) == (304, b"", gz_etag)
    assert "Accept-Encoding" in headers["vary"]
    # A cache holding the gzip bytes must not get a 304 for a client without gzip.
    status, headers, _ = raw_get(
        client, PAGE, **{"accept-encoding": "identity", "if-none-match": gz_etag}
    )
    assert status == 200 and "content-encoding" not in headers


def test_stylesheet_variants(client: TestClient, video: Embed) -> None:
    page = client.get(PAGE).text
    css = page.split('href="', 1)[1].split('"', 1)[0]
    status, plain_headers, plain = raw_get(client, css, **{"accept-encoding": "identity"})
    assert status == 200 and plain_headers["etag"].strip('"') in css
    status, headers, body = raw_get(client, css, **{"accept-encoding": "br"})
    assert headers["content-encoding"] == "br" and brotli.decompress(body) == plain
    assert headers["etag"] != plain_headers["etag"]
    status, _, _ = raw_get(
        client, css, **{"accept-encoding": "br", "if-none-match": headers["etag"]}
    )
    assert status == 304


def test_compressed_once_not_per_request(
    client: TestClient, video: Embed, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = brotli.compress

    def counting(data: bytes, **options: int) -> bytes:
        calls.append(len(data))
        return real(data, **options)

    monkeypatch.setattr(brotli, "compress", counting)
    for _ in range(5):
        assert client.get(PAGE, headers={"accept-encoding": "br"}).status_code == 200
    assert len(calls) == 1


def test_posters_are_not_recompressed(client: TestClient, video: Embed) -> None:
    assert not compression.compressible("image/jpeg")
    assert compression.variants(b"x" * 1000, "image/webp") == {"": b"x" * 1000}
    assert compression.variants(b"small", "text/html") == {"": b"small"}
