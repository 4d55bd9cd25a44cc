"""The Vimeo provider: URL recognition, oEmbed metadata, posters, and hostile upstreams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from embedguard import allowlist
from embedguard.posters import Poster
from embedguard.providers.vimeo import VimeoProvider, parse_start_time
from embedguard.services import Services

from .fake_upstream import (
    VIMEO_FORBIDDEN,
    VIMEO_GARBAGE,
    VIMEO_HOSTILE,
    VIMEO_OK,
    VIMEO_OK_TITLE,
    VIMEO_SLOW,
    VIMEO_THUMB_WRONG_TYPE,
    VIMEO_UNLISTED,
    VIMEO_UNLISTED_HASH,
    VIMEO_VERTICAL,
)

vimeo = VimeoProvider()


@pytest.mark.parametrize(
    ("url", "item_id", "secret"),
    [
        ("https://vimeo.com/76979871", "76979871", ""),
        ("http://www.vimeo.com/76979871/", "76979871", ""),
        ("https://vimeo.com/76979871/abc123def0", "76979871", "abc123def0"),
        ("https://player.vimeo.com/video/76979871", "76979871", ""),
        ("https://player.vimeo.com/video/76979871?h=abc123def0&badge=0", "76979871", "abc123def0"),
        ("https://vimeo.com/channels/staffpicks/76979871", "76979871", ""),
        ("https://vimeo.com/groups/mittelsachsen/videos/76979871", "76979871", ""),
        ("  https://vimeo.com/76979871  ", "76979871", ""),
    ],
)
def test_recognises_vimeo_urls(url: str, item_id: str, secret: str) -> None:
    ref = vimeo.parse_url(url)
    assert ref is not None
    assert (ref.provider, ref.item_id, ref.secret) == (vimeo, item_id, secret)
    assert ref.key == f"vimeo:{item_id}"


@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/",
        "https://vimeo.com/about",
        "https://vimeo.com/0076979871",
        "https://vimeo.com.evil.example/76979871",
        "https://evil.example/vimeo.com/76979871",
        "ftp://vimeo.com/76979871",
        "javascript:alert(1)//vimeo.com/1",
        "https://vimeo.com/76979871/NOT-A-HASH!",
        "https://player.vimeo.com/video/76979871?h=<script>",
        "https://vimeo.com/" + "1" * 40,
        "https://vimeo.com/١٢٣",
        "http://[::1",
        "",
    ],
)
def test_refuses_other_urls(url: str) -> None:
    assert vimeo.parse_url(url) is None


def test_url_recognition_round_trips() -> None:
    ref = vimeo.parse_url("https://vimeo.com/76979871/abc123def0")
    assert ref is not None
    from embedguard.store import Embed

    embed = Embed(key=ref.key, provider="vimeo", item_id=ref.item_id, secret=ref.secret)
    assert vimeo.parse_url(vimeo.source_url(embed)) == ref
    assert vimeo.item_id_from_path({"item_id": ref.item_id}) == ref.item_id


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("1m30s", 90),
        ("1h2m3s", 3723),
        ("0", None),
        ("", None),
        ("abc", None),
        ("-5", None),
        ("1m30", 90),
        ("99h", None),
        ("1.5", None),
    ],
)
def test_start_time(value: str, seconds: int | None) -> None:
    assert parse_start_time(value) == seconds


def test_add_fetches_metadata_and_poster(
    allow: Callable[..., allowlist.AddResult], services: Services
) -> None:
    result = allow(f"https://vimeo.com/{VIMEO_OK}")
    embed = result.embed
    assert result.warnings == []
    assert (embed.key, embed.title, embed.duration) == (f"vimeo:{VIMEO_OK}", VIMEO_OK_TITLE, 154)
    assert (embed.width, embed.height) == (1280, 720)
    poster = Poster.from_json(embed.poster)
    assert len(poster.widths) >= 2, "srcset needs at least two widths"
    assert services.posters.exists(poster)
    assert services.store.get_embed(embed.key) == embed


def test_poster_is_served_immutable(allow: Callable[..., allowlist.AddResult], client: Any) -> None:
    poster = Poster.from_json(allow(f"https://vimeo.com/{VIMEO_OK}").embed.poster)
    for fmt, media_type in (("jpg", "image/jpeg"), ("webp", "image/webp")):
        response = client.get(f"/posters/{poster.filename(poster.widths[0], fmt)}")
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/posters/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/posters/0123456789abcdef0123-480.jpg").status_code == 404


def test_vertical_video_keeps_its_aspect(allow: Callable[..., allowlist.AddResult]) -> None:
    embed = allow(f"https://vimeo.com/{VIMEO_VERTICAL}").embed
    assert (embed.width, embed.height) == (1080, 1920)
    poster = Poster.from_json(embed.poster)
    assert poster.height > poster.width


def test_unlisted_video_gets_a_neutral_preview(allow: Callable[..., allowlist.AddResult]) -> None:
    result = allow(f"https://vimeo.com/{VIMEO_UNLISTED}/{VIMEO_UNLISTED_HASH}")
    assert result.embed.secret == VIMEO_UNLISTED_HASH
    assert Poster.from_json(result.embed.poster).width > 0


def test_failed_thumbnail_stores_with_a_warning(allow: Callable[..., allowlist.AddResult]) -> None:
    result = allow(f"https://vimeo.com/{VIMEO_THUMB_WRONG_TYPE}")
    assert result.warnings and "neutral" in result.warnings[0]
    assert result.embed.poster


@pytest.mark.parametrize(
    ("video_id", "reason"),
    [
        (999999, "does not know"),
        (VIMEO_FORBIDDEN, "refuses"),
        (VIMEO_GARBAGE, "invalid JSON"),
        (VIMEO_SLOW, "timed out"),
        (VIMEO_UNLISTED, "does not know"),
    ],
)
def test_unconfirmed_videos_are_not_stored(
    allow: Callable[..., allowlist.AddResult], services: Services, video_id: int, reason: str
) -> None:
    with pytest.raises(allowlist.AllowlistError, match=reason):
        allow(f"https://vimeo.com/{video_id}")
    assert services.store.list_embeds() == []
    assert services.store.audit_log() == []


def test_hostile_metadata_is_neutralised(
    allow: Callable[..., allowlist.AddResult], client: Any
) -> None:
    embed = allow(f"https://vimeo.com/{VIMEO_HOSTILE}").embed
    assert embed.author_url == "", "javascript: links are dropped"
    page = client.get(f"/vimeo/{VIMEO_HOSTILE}").text
    assert "<script>alert" not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "file:///etc/passwd",
        "http://169.254.169.254/latest",
        "https://example.com/video/1",
        "not a url",
        "https://vimeo.com/" + "9" * 3000,
    ],
)
def test_unsupported_urls_are_refused(
    allow: Callable[..., allowlist.AddResult],
    services: Services,
    upstream_requests: list[Any],
    url: str,
) -> None:
    with pytest.raises(allowlist.AllowlistError):
        allow(url)
    assert services.store.list_embeds() == []
    assert upstream_requests == []


def test_refresh_marks_a_vanished_video(
    allow: Callable[..., allowlist.AddResult], services: Services, client: Any
) -> None:
    from dataclasses import replace

    embed = allow(f"https://vimeo.com/{VIMEO_OK}").embed
    services.store.save_embed(replace(embed, key="vimeo:999999", item_id="999999"))
    with pytest.raises(allowlist.AllowlistError):
        client.portal.call(lambda: allowlist.refresh(services, "vimeo:999999"))
    gone = services.store.get_embed("vimeo:999999")
    assert gone is not None and gone.status == "gone"
