"""The YouTube provider: URL forms, oEmbed on its real path, a re-encoded poster, and the
privacy-enhanced player only after consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from embedguard import allowlist, snippets
from embedguard.posters import Poster
from embedguard.providers.youtube import YouTubeProvider
from embedguard.services import Services

from .fake_youtube_mastodon import (
    YOUTUBE_AUTHOR,
    YOUTUBE_HOSTILE,
    YOUTUBE_OK,
    YOUTUBE_OK_TITLE,
    YOUTUBE_PRIVATE,
    YOUTUBE_SHORT,
)
from .helpers import load_always, parse_csp, refused

youtube = YouTubeProvider()
PAGE = f"/youtube/{YOUTUBE_OK}"
PLAYER = "https://www.youtube-nocookie.com"


@pytest.fixture
def video(allow: Callable[..., allowlist.AddResult]) -> allowlist.AddResult:
    return allow(f"https://www.youtube.com/watch?v={YOUTUBE_OK}")


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={YOUTUBE_OK}",
        f"https://youtube.com/watch?v={YOUTUBE_OK}&feature=share",
        f"https://m.youtube.com/watch?feature=youtu.be&v={YOUTUBE_OK}",
        f"http://www.youtube.com/watch?v={YOUTUBE_OK}#t=30",
        f"https://youtu.be/{YOUTUBE_OK}",
        f"https://youtu.be/{YOUTUBE_OK}?si=abcDEF&t=42",
        f"https://www.youtube.com/shorts/{YOUTUBE_OK}",
        f"https://www.youtube.com/embed/{YOUTUBE_OK}?rel=0",
        f"//www.youtube.com/embed/{YOUTUBE_OK}",
        f"https://www.youtube-nocookie.com/embed/{YOUTUBE_OK}?start=10",
        f"https://youtube.com/live/{YOUTUBE_OK}",
        f"  https://WWW.YOUTUBE.COM/watch?v={YOUTUBE_OK}  ",
    ],
)
def test_recognises_video_urls(url: str) -> None:
    ref = youtube.parse_url(url)
    assert ref is not None and ref.provider is youtube
    assert ref.key == f"youtube:{YOUTUBE_OK}"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/",
        "https://www.youtube.com/@wirtschaftmittelsachsen",
        "https://www.youtube.com/channel/UC1234567890",
        "https://www.youtube.com/playlist?list=PL123",
        "https://www.youtube-nocookie.com/embed/videoseries?list=PL123",
        "https://www.youtube.com/watch?v=short",
        f"https://www.youtube.com/watch?v={YOUTUBE_OK}x",
        "https://www.youtube.com/watch?v=abc%20defghij",
        f"https://youtu.be/{YOUTUBE_OK}/extra",
        f"https://youtube.com.evil.example/watch?v={YOUTUBE_OK}",
        f"https://evil.example/youtube.com/watch?v={YOUTUBE_OK}",
        f"javascript:alert(1)//youtu.be/{YOUTUBE_OK}",
        f"ftp://youtu.be/{YOUTUBE_OK}",
    ],
)
def test_refuses_other_urls(url: str) -> None:
    assert refused(youtube, url)


@pytest.mark.parametrize(
    ("video_id", "expected"),
    [
        (YOUTUBE_OK, YOUTUBE_OK),
        (YOUTUBE_SHORT, YOUTUBE_SHORT),
        (YOUTUBE_OK.lower(), YOUTUBE_OK.lower()),  # ids are case-sensitive, not folded
        (YOUTUBE_OK + "x", None),
        (YOUTUBE_OK[:10], None),
        ("MSwirtsch0!", None),
        ("", None),
    ],
)
def test_route_ids_are_canonical(video_id: str, expected: str | None) -> None:
    assert youtube.item_id_from_path({"video_id": video_id}) == expected


def test_adding_asks_oembed_and_reencodes_the_thumbnail(
    video: allowlist.AddResult, services: Services, upstream_requests: list[Any]
) -> None:
    embed = video.embed
    assert (embed.key, embed.title, embed.author) == (
        f"youtube:{YOUTUBE_OK}",
        YOUTUBE_OK_TITLE,
        YOUTUBE_AUTHOR,
    )
    assert video.warnings == []
    poster = Poster.from_json(embed.poster)
    assert services.posters.exists(poster) and not embed.poster_custom


def test_oembed_is_asked_on_its_real_path(
    allow: Callable[..., allowlist.AddResult], upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    allow(f"https://youtu.be/{YOUTUBE_OK}")
    oembed = [r for r in upstream_requests if r.path == "/oembed"]
    assert len(oembed) == 1
    assert oembed[0].params == {
        "url": f"https://www.youtube.com/watch?v={YOUTUBE_OK}",
        "format": "json",
        "maxwidth": "1280",
    }
    assert [r.path for r in upstream_requests if r.path.startswith("/vi/")] == [
        f"/vi/{YOUTUBE_OK}/hqdefault.jpg"
    ]


@pytest.mark.parametrize(
    ("video_id", "reason"),
    [("MSunknown01", "does not know"), (YOUTUBE_PRIVATE, "refuses")],
)
def test_unconfirmed_videos_are_not_stored(
    allow: Callable[..., allowlist.AddResult], services: Services, video_id: str, reason: str
) -> None:
    with pytest.raises(allowlist.AllowlistError, match=reason):
        allow(f"https://youtu.be/{video_id}")
    assert services.store.list_embeds() == []


def test_hostile_metadata_is_neutralised(
    allow: Callable[..., allowlist.AddResult], client: TestClient, upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    result = allow(f"https://youtu.be/{YOUTUBE_HOSTILE}")
    # The thumbnail on a foreign host is never fetched: a neutral preview instead.
    assert not any(r.path.startswith("/vi/") for r in upstream_requests)
    page = client.get(f"/youtube/{YOUTUBE_HOSTILE}").text
    assert "<img src=x" not in page and "<b onclick" not in page
    assert result.embed.display_title in page or "&lt;img" in page


def test_placeholder_contacts_nobody_and_names_google(
    client: TestClient, video: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    response = client.get(f"{PAGE}?lang=en")
    assert response.status_code == 200
    assert "https://www.youtube-nocookie" not in response.text and "<iframe" not in response.text
    assert "ytimg" not in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"] and "frame-src" not in policy
    assert "Google Ireland Limited" in response.text
    assert "Gordon House, Barrow Street, Dublin 4, Ireland" in response.text
    assert "Google LLC" in response.text and "Data Privacy Framework" in response.text
    german = client.get(PAGE).text
    assert "Übermittlung an Google LLC in den USA" in german
    assert "set-cookie" not in response.headers
    assert upstream_requests == []


@pytest.mark.parametrize(
    ("lang", "lead"),
    [
        ("de", "Video von YouTube (Google, Irland/USA) – lädt erst nach Ihrer Zustimmung; "
         "dann erhält Google Ihre Daten."),
        ("en", "Video from YouTube (Google, Ireland/USA) – loads only with your consent, "
         "then Google receives your data."),
    ],
)  # fmt: skip
def test_placeholder_reads_as_a_video_from_google(
    client: TestClient, video: allowlist.AddResult, lang: str, lead: str
) -> None:
    """oEmbed gives YouTube videos no duration: the play mark and the line saying what
    this is come from the provider, not from the video's data."""
    assert video.embed.duration is None
    page = client.get(f"{PAGE}?lang={lang}").text
    assert '<span class="play" aria-hidden="true"></span>' in page
    assert "<picture>" in page and 'class="tile"' not in page
    lead_line = page.split('<p class="lead">', 1)[1].split("<a ", 1)[0]
    assert " ".join(lead_line.split()) == lead


def test_after_consent_the_nocookie_player_with_start_time(
    client: TestClient, video: allowlist.AddResult
) -> None:
    loaded = load_always(client, "youtube", f"{PAGE}?t=1m30s&lang=de")
    assert loaded.status_code == 200
    src = loaded.text.split('<iframe src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    parts = urlsplit(src)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PLAYER}/embed/{YOUTUBE_OK}"
    assert parse_qs(parts.query)["start"] == ["90"]
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in loaded.text
    policy = parse_csp(loaded)
    assert policy["frame-src"] == [PLAYER]
    assert loaded.headers["cache-control"] == "private, no-store"
    assert "Stop loading YouTube automatically" in client.get(f"{PAGE}?lang=en").text


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (f"https://youtu.be/{YOUTUBE_OK}?t=42", f"{PAGE}?t=42&lang=de&fit=1"),
        (f"https://www.youtube.com/watch?v={YOUTUBE_OK}&t=1m", f"{PAGE}?t=60&lang=de&fit=1"),
        (f"https://www.youtube.com/embed/{YOUTUBE_OK}?start=15", f"{PAGE}?t=15&lang=de&fit=1"),
        (f"https://www.youtube.com/shorts/{YOUTUBE_OK}", f"{PAGE}?lang=de&fit=1"),
        (f"https://youtu.be/{YOUTUBE_OK}?t=never", f"{PAGE}?lang=de&fit=1"),
    ],
)
def test_loader_keeps_the_start_time(
    client: TestClient, video: allowlist.AddResult, url: str, location: str
) -> None:
    response = client.get("/embed", params={"url": url})
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_snippets_keep_the_videos_shape(video: allowlist.AddResult) -> None:
    iframe = snippets.iframe_snippet("https://eg.example", youtube, video.embed)
    assert f'src="https://eg.example/youtube/{YOUTUBE_OK}"' in iframe
    link = snippets.script_snippet("https://eg.example", youtube, video.embed)
    assert 'data-embedguard-ratio="16:9"' in link
    assert f'href="https://www.youtube.com/watch?v={YOUTUBE_OK}"' in link


def test_a_short_keeps_its_portrait_shape(allow: Callable[..., allowlist.AddResult]) -> None:
    embed = allow(f"https://www.youtube.com/shorts/{YOUTUBE_SHORT}").embed
    assert (embed.width, embed.height) == (9, 16)
