"""The host-page loader: /embed.js itself, the /embed?url= redirect, and the markup the
embed pages carry for frame.js."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from embedguard.providers import default_registry
from embedguard.security import frame_parents
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.snippets import script_snippet
from embedguard.store import Embed
from embedguard.views.loader import MAX_QUERY_LENGTH

from .conftest import with_settings

VIDEO = "76979871"
UNLISTED = "11111111"
UNLISTED_HASH = "abc123def0"
PAGE = "wirtschaft.in.mittelsachsen"
HANDLE = "mswirtschaft"
POST = "1790000000000000001"

StoredEmbed = Callable[..., Embed]


@pytest.fixture
def allowed(stored_embed: StoredEmbed) -> None:
    stored_embed(f"vimeo:{VIDEO}", width=1280, height=720)
    stored_embed(f"vimeo:{UNLISTED}", secret=UNLISTED_HASH)
    stored_embed(f"facebook:{PAGE}")
    stored_embed(f"twitter:{HANDLE}")
    stored_embed(f"twitter:{HANDLE}/status/{POST}", content="<p>Hallo</p>")


def loader(client: TestClient, url: str, **params: str) -> Any:
    return client.get("/embed", params={"url": url, **params})


# --- /embed.js ---------------------------------------------------------------------------


def test_embed_js_is_served_for_other_sites(client: TestClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert re.fullmatch(r'"[0-9a-f]{16}"', response.headers["etag"])
    body = response.text
    assert len(response.content) < 8 * 1024
    assert "a[href][data-embedguard]" in body and "embedguard:unavailable" in body
    assert "document.currentScript" in body
    assert not re.search(r"\beval\s*\(|new Function|innerHTML|import\s*\(", body)


def test_embed_js_answers_304_to_its_etag(client: TestClient) -> None:
    etag = client.get("/embed.js").headers["etag"]
    response = client.get("/embed.js", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert client.get("/embed.js", headers={"if-none-match": '"other"'}).status_code == 200


# --- /embed?url= -------------------------------------------------------------------------


@pytest.mark.usefixtures("allowed")
@pytest.mark.parametrize(
    ("url", "target"),
    [
        (f"https://vimeo.com/{VIDEO}", f"/vimeo/{VIDEO}?lang=de&fit=1"),
        (f"https://player.vimeo.com/video/{VIDEO}", f"/vimeo/{VIDEO}?lang=de&fit=1"),
        (f"https://vimeo.com/{VIDEO}#t=1m30s", f"/vimeo/{VIDEO}?t=90&lang=de&fit=1"),
        (f"https://vimeo.com/{VIDEO}?t=45", f"/vimeo/{VIDEO}?t=45&lang=de&fit=1"),
        (f"https://vimeo.com/{VIDEO}#t=never", f"/vimeo/{VIDEO}?lang=de&fit=1"),
        (
            f"https://vimeo.com/{UNLISTED}/{UNLISTED_HASH}",
            f"/vimeo/{UNLISTED}?h={UNLISTED_HASH}&lang=de&fit=1",
        ),
        (
            f"https://player.vimeo.com/video/{UNLISTED}?h={UNLISTED_HASH}",
            f"/vimeo/{UNLISTED}?h={UNLISTED_HASH}&lang=de&fit=1",
        ),
        (f"https://www.facebook.com/{PAGE}", f"/facebook/{PAGE}?lang=de&fit=1"),
        (f"https://m.facebook.com/{PAGE}/", f"/facebook/{PAGE}?lang=de&fit=1"),
        (f"https://twitter.com/{HANDLE}", f"/twitter/{HANDLE}?lang=de&fit=1"),
        (f"https://x.com/{HANDLE.upper()}", f"/twitter/{HANDLE}?lang=de&fit=1"),
        (f"https://x.com/{HANDLE}/status/{POST}", f"/twitter/{HANDLE}/status/{POST}?lang=de&fit=1"),
    ],
)
def test_allowed_urls_redirect_to_their_embed_page(
    client: TestClient, upstream_requests: list[Any], url: str, target: str
) -> None:
    response = loader(client, url)
    assert response.status_code == 303
    assert response.headers["location"] == target
    assert response.headers["cache-control"] == "no-store"
    # The page it names really is the embed's placeholder.
    assert client.get(target).status_code == 200
    assert upstream_requests == []


@pytest.mark.usefixtures("allowed")
def test_language_and_start_time_are_passed_on(client: TestClient) -> None:
    url = f"https://vimeo.com/{VIDEO}"
    assert loader(client, url, lang="en").headers["location"] == f"/vimeo/{VIDEO}?lang=en&fit=1"
    assert loader(client, url, lang="fr").headers["location"] == f"/vimeo/{VIDEO}?lang=de&fit=1"
    assert loader(client, url, t="2m").headers["location"] == f"/vimeo/{VIDEO}?t=120&lang=de&fit=1"
    english = client.get("/embed", params={"url": url}, headers={"accept-language": "en-GB"})
    assert english.headers["location"] == f"/vimeo/{VIDEO}?lang=en&fit=1"


@pytest.mark.usefixtures("allowed")
@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/12345",  # not allowed
        f"https://vimeo.com/0{VIDEO}",  # not canonical
        f"https://vimeo.com/{UNLISTED}",  # unlisted without its hash
        f"https://vimeo.com/{UNLISTED}/0000000000",  # wrong hash
        f"https://vimeo.com/{VIDEO}/{UNLISTED_HASH}",  # a hash for a public video
        "https://www.facebook.com/someone.else",
        "https://x.com/someone_else",
        f"https://x.com/{HANDLE}/status/1790000000000000999",  # post not added
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",  # no such provider
        "https://evil.example/vimeo.com/76979871",
        "javascript:alert(1)",
        "not a url at all",
        "http://[::1",
        "https://",
        "\x00\x01",
    ],
)
def test_anything_else_is_a_404_without_upstream_contact(
    client: TestClient, upstream_requests: list[Any], url: str
) -> None:
    response = loader(client, url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert upstream_requests == []


def test_disabled_embeds_and_posts_of_disabled_accounts_are_404(
    client: TestClient, stored_embed: StoredEmbed
) -> None:
    stored_embed(f"vimeo:{VIDEO}", enabled=False)
    stored_embed(f"twitter:{HANDLE}", enabled=False)
    stored_embed(f"twitter:{HANDLE}/status/{POST}")
    assert loader(client, f"https://vimeo.com/{VIDEO}").status_code == 404
    assert loader(client, f"https://x.com/{HANDLE}").status_code == 404
    assert loader(client, f"https://x.com/{HANDLE}/status/{POST}").status_code == 404


@pytest.mark.usefixtures("allowed")
def test_missing_or_overlong_url_is_a_400(client: TestClient) -> None:
    assert client.get("/embed").status_code == 400
    assert client.get("/embed?url=").status_code == 400
    long_url = f"https://vimeo.com/{VIDEO}?" + "x" * MAX_QUERY_LENGTH
    assert loader(client, long_url).status_code == 400
    padded = f"/embed?url={quote(f'https://vimeo.com/{VIDEO}')}&pad={'y' * MAX_QUERY_LENGTH}"
    assert client.get(padded).status_code == 400


def test_only_get_is_allowed(client: TestClient) -> None:
    assert client.post("/embed", data={"url": f"https://vimeo.com/{VIDEO}"}).status_code == 405
    assert client.post("/embed.js").status_code == 405


# --- what the embed pages give frame.js ---------------------------------------------------


def test_frame_parents_lists_origins_for_frame_js() -> None:
    assert frame_parents(["'self'"]) == "self"
    assert frame_parents(["https://www.example.de", "https://Example.de"]) == (
        "self https://www.example.de https://example.de"
    )
    assert frame_parents(["'self'", "https://*.example.de", "example.de:8443"]) == (
        "self https://*.example.de example.de:8443"
    )
    assert frame_parents(["'none'"]) == ""


FRAMED = {"sec-fetch-dest": "iframe"}


def loaded_once(client: TestClient, path: str) -> str:
    """The loaded page the "load once" click on ``path``'s placeholder answers with."""
    page = client.get(path)
    provider = re.search(r'name="provider" value="([^"]+)"', page.text)
    target = re.search(r'name="next" value="([^"]+)"', page.text)
    assert provider is not None and target is not None
    data = {"provider": provider.group(1), "scope": "once", "next": html.unescape(target[1])}
    loaded = client.post("/consent", data=data)
    assert loaded.status_code == 200
    return loaded.text


def frame_js_tag(page: str) -> str | None:
    found = re.search(r'<script src="/static/frame\.js\?v=[0-9a-f]+" defer [^>]*></script>', page)
    return found.group(0) if found else None


@pytest.mark.usefixtures("allowed")
def test_embed_pages_load_their_scripts_and_name_their_parents(
    settings: Settings, stored_embed: StoredEmbed
) -> None:
    from embedguard.app import create_app

    services = Services.build(
        with_settings(settings, frame_ancestors=("https://www.kreis.de", "'self'"))
    )
    parents = 'data-eg-parents="self https://www.kreis.de"'
    with TestClient(create_app(services.settings, services)) as client:
        for path in (f"/vimeo/{VIDEO}", f"/facebook/{PAGE}", f"/twitter/{HANDLE}"):
            assert "<script" not in client.get(path).text, "a directly opened placeholder"
            for framed in (client.get(path, params={"fit": "1"}), client.get(path, headers=FRAMED)):
                assert '<html lang="de">' in framed.text
                # Before consent only the small placeholder.js, which tells no parent anything.
                assert re.findall(r"<script\b[^>]*>", framed.text) == [
                    f'<script src="{services.assets.url("placeholder.js")}" defer>'
                ]
            # Loaded pages get frame.js, told which parents it may talk to.
            assert frame_js_tag(loaded_once(client, f"{path}?fit=1")) == (
                f'<script src="{services.assets.url("frame.js")}" defer {parents}></script>'
            )
        # So does the tile that tells embed.js an embed is not available.
        tile = client.get("/embed", params={"url": "https://vimeo.com/5"}, headers=FRAMED)
        assert tile.status_code == 404 and parents in (frame_js_tag(tile.text) or "")
        for path in ("/privacy", "/consent", "/vimeo/404"):
            page = client.get(path).text
            assert ".js" not in page and "data-eg-parents" not in page
        for name in ("frame.js", "placeholder.js"):
            assert client.get(f"/static/{name}").status_code == 200


@pytest.mark.usefixtures("allowed")
def test_frame_parents_follow_the_live_setting(client: TestClient, services: Services) -> None:
    def tile() -> str:
        url = "https://vimeo.com/5"
        return client.get("/embed", params={"url": url, "fit": "1"}).text

    assert 'data-eg-parents="self"' in tile()
    services.store.set_setting("frame_ancestors", "https://neu.example.de")
    assert 'data-eg-parents="self https://neu.example.de"' in tile()
    assert 'data-eg-parents="self https://neu.example.de"' in loaded_once(
        client, f"/facebook/{PAGE}"
    )


@pytest.mark.usefixtures("allowed")
def test_loaded_page_status_is_filled_by_script(client: TestClient) -> None:
    page = client.get(f"/facebook/{PAGE}")
    token = re.search(r'name="next" value="([^"]+)"', page.text)
    assert token is not None
    loaded = client.post(
        "/consent", data={"provider": "facebook", "scope": "once", "next": token.group(1)}
    )
    assert "facebook.com/plugins/page.php" in loaded.text
    status = re.search(r'<p role="status"[^>]*>([^<]*)</p>', loaded.text)
    assert status is not None
    assert status.group(1) == ""
    assert 'data-eg-status="Facebook-Inhalt geladen."' in status.group(0)


# --- the snippet ---------------------------------------------------------------------------


def test_script_snippet_marks_links_for_embed_js() -> None:
    registry = default_registry()
    vimeo, facebook = registry.get("vimeo"), registry.get("facebook")
    assert vimeo is not None and facebook is not None
    video = Embed(
        key=f"vimeo:{VIDEO}", provider="vimeo", item_id=VIDEO, title="Film", width=1280, height=720
    )
    snippet = script_snippet("https://eg.example.de/", vimeo, video)
    assert snippet == (
        f'<a href="https://vimeo.com/{VIDEO}" data-embedguard data-embedguard-ratio="16:9">'
        "Film</a>\n"
        '<script src="https://eg.example.de/embed.js" defer></script>'
    )
    portrait = Embed(key="vimeo:1", provider="vimeo", item_id="1", width=1080, height=1920)
    assert 'data-embedguard-ratio="9:16"' in script_snippet("https://eg", vimeo, portrait)
    page = Embed(key=f"facebook:{PAGE}", provider="facebook", item_id=PAGE, title="<Seite>")
    snippet = script_snippet("https://eg.example.de", facebook, page)
    assert snippet.startswith(
        f'<a href="https://www.facebook.com/{PAGE}" data-embedguard>&lt;Seite&gt;</a>'
    )
    assert "ratio" not in snippet
