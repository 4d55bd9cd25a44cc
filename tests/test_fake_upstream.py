"""The fake upstream answers as tests/fake_upstream.py promises."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from .fake_upstream import (
    THUMB_HTML,
    THUMB_MISSING,
    THUMB_OK,
    THUMB_PORTRAIT,
    VIMEO_FORBIDDEN,
    VIMEO_GARBAGE,
    VIMEO_HOSTILE,
    VIMEO_HOSTILE_TITLE,
    VIMEO_OK,
    VIMEO_OK_AUTHOR,
    VIMEO_OK_TITLE,
    VIMEO_SLOW,
    VIMEO_UNLISTED,
    VIMEO_UNLISTED_HASH,
    VIMEO_VERTICAL,
    X_POST_404,
    X_POST_HOSTILE,
    X_POST_OK,
    X_POST_OK_URL,
    X_TIMELINE_URL,
    RecordedRequest,
    create_fake_upstream,
)
from .servers import run_asgi_in_thread, upstream_map_for


# Served for real (not through TestClient), the way embedguard's own tests will use it.
@pytest.fixture(scope="module")
def fake() -> Starlette:
    return create_fake_upstream(slow_seconds=0.5)


@pytest.fixture(scope="module")
def client(fake: Starlette) -> Iterator[httpx.Client]:
    with run_asgi_in_thread(fake) as base, httpx.Client(base_url=base) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_log(fake: Starlette) -> None:
    fake.state.requests.clear()


def vimeo(client: httpx.Client, url: str) -> httpx.Response:
    response: httpx.Response = client.get(f"/api/oembed.json?url={quote(url, safe='')}&width=1280")
    return response


def cdn_path(url: str) -> str:
    return url.removeprefix("https://i.vimeocdn.com")


def test_vimeo_normal_video(client: httpx.Client) -> None:
    response = vimeo(client, f"https://vimeo.com/{VIMEO_OK}")
    assert response.status_code == 200
    body = response.json()
    assert body["provider_name"] == "Vimeo"
    assert body["title"] == VIMEO_OK_TITLE
    assert body["author_name"] == VIMEO_OK_AUTHOR
    assert (body["duration"], body["width"], body["height"]) == (154, 1280, 720)
    assert body["video_id"] == VIMEO_OK
    assert body["thumbnail_url"] == THUMB_OK
    for field in ("type", "version", "author_url", "upload_date", "html", "description"):
        assert field in body


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"https://vimeo.com/{VIMEO_UNLISTED}", 404),
        (f"https://vimeo.com/{VIMEO_UNLISTED}/0000000000", 404),
        (f"https://vimeo.com/{VIMEO_UNLISTED}/{VIMEO_UNLISTED_HASH}", 200),
        (f"https://player.vimeo.com/video/{VIMEO_UNLISTED}?h={VIMEO_UNLISTED_HASH}", 200),
        (f"https://vimeo.com/{VIMEO_FORBIDDEN}", 403),
        ("https://vimeo.com/99999999", 404),
        ("https://example.com/76979871", 404),
    ],
)
def test_vimeo_statuses(client: httpx.Client, url: str, status: int) -> None:
    response = vimeo(client, url)
    assert response.status_code == status
    if status == 200:
        assert "thumbnail_url" not in response.json()


def test_vimeo_garbage_and_hostile(client: httpx.Client) -> None:
    garbage = vimeo(client, f"https://vimeo.com/{VIMEO_GARBAGE}")
    assert garbage.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):  # JSONDecodeError or UnicodeDecodeError
        json.loads(garbage.content)
    assert vimeo(client, f"https://vimeo.com/{VIMEO_HOSTILE}").json()["title"] == (
        VIMEO_HOSTILE_TITLE
    )


def test_vimeo_slow_video_is_slow(client: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.get(
            f"/api/oembed.json?url=https://vimeo.com/{VIMEO_SLOW}",
            timeout=0.05,
        )


def test_images(client: httpx.Client) -> None:
    landscape = client.get(cdn_path(THUMB_OK))
    assert landscape.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(landscape.content)).size == (1280, 720)
    vertical = vimeo(client, f"https://vimeo.com/{VIMEO_VERTICAL}").json()
    assert vertical["thumbnail_url"] == THUMB_PORTRAIT
    portrait = client.get(cdn_path(THUMB_PORTRAIT))
    assert Image.open(io.BytesIO(portrait.content)).size == (1080, 1920)
    assert client.get(cdn_path(THUMB_MISSING)).status_code == 404
    assert client.get(cdn_path(THUMB_HTML)).headers["content-type"].startswith("text/html")


def test_x_post(client: httpx.Client) -> None:
    for url in (X_POST_OK_URL, X_POST_OK_URL.replace("twitter.com", "x.com")):
        response = client.get("/oembed", params={"url": url, "omit_script": "1", "dnt": "true"})
        assert response.status_code == 200
        body = response.json()
        assert body["type"] == "rich"
        assert body["author_name"] == "Wirtschaft Mittelsachsen"
        assert body["html"].startswith('<blockquote class="twitter-tweet" data-dnt="true">')
        assert "Neue Fachkräfte-Broschüre ist da!" in body["html"]
        assert "<script" not in body["html"]
    with_script = client.get("/oembed", params={"url": X_POST_OK_URL}).json()["html"]
    assert "platform.twitter.com/widgets.js" in with_script
    assert "data-dnt" not in with_script


def test_x_hostile_missing_and_timeline(client: httpx.Client) -> None:
    base = X_POST_OK_URL.removesuffix(X_POST_OK)
    hostile = client.get("/oembed", params={"url": base + X_POST_HOSTILE, "omit_script": "1"})
    for needle in ("<script", "onclick=", "javascript:", "<iframe", "<svg onload=", "<style"):
        assert needle in hostile.json()["html"]
    assert client.get("/oembed", params={"url": base + X_POST_404}).status_code == 404
    assert client.get("/oembed", params={"url": "https://x.com/someoneelse"}).status_code == 404
    timeline = client.get("/oembed", params={"url": X_TIMELINE_URL, "omit_script": "1"})
    assert 'class="twitter-timeline"' in timeline.json()["html"]


def test_requests_are_recorded(fake: Starlette, client: httpx.Client) -> None:
    requests: list[RecordedRequest] = fake.state.requests
    assert requests == []
    client.get("/nowhere?a=1")
    vimeo(client, f"https://vimeo.com/{VIMEO_OK}")
    assert [(r.method, r.path) for r in requests] == [
        ("GET", "/nowhere"),
        ("GET", "/api/oembed.json"),
    ]
    assert requests[1].params["url"] == f"https://vimeo.com/{VIMEO_OK}"
    requests.clear()
    assert fake.state.requests == []


def test_upstream_map_for() -> None:
    mapping = json.loads(upstream_map_for("http://127.0.0.1:9000/"))
    assert mapping == {
        "https://vimeo.com": "http://127.0.0.1:9000",
        "https://i.vimeocdn.com": "http://127.0.0.1:9000",
        "https://publish.twitter.com": "http://127.0.0.1:9000",
        "https://publish.x.com": "http://127.0.0.1:9000",
        "https://www.youtube.com": "http://127.0.0.1:9000",
        "https://i.ytimg.com": "http://127.0.0.1:9000",
        "https://mastodon.example": "http://127.0.0.1:9000",
    }
