"""The Facebook provider: page URLs, no upstream contact at all, the page plugin after consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from embedguard import allowlist
from embedguard.posters import Poster
from embedguard.providers import EmbedRef
from embedguard.providers.facebook import FacebookProvider
from embedguard.services import Services

from .fake_upstream import LANDSCAPE_JPEG
from .helpers import parse_csp, refused

facebook = FacebookProvider()
SLUG = "wirtschaft.in.mittelsachsen"
PAGE_URL = f"https://www.facebook.com/{SLUG}"
PAGE = f"/facebook/{SLUG}"
SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}


@pytest.fixture
def page(allow: Callable[..., allowlist.AddResult]) -> allowlist.AddResult:
    return allow(PAGE_URL)


@pytest.mark.parametrize(
    ("url", "item_id"),
    [
        (PAGE_URL, SLUG),
        (f"https://facebook.com/{SLUG}/", SLUG),
        (f"http://m.facebook.com/{SLUG}?ref=bookmarks", SLUG),
        ("https://www.facebook.com/Wirtschaft.In.Mittelsachsen", SLUG),
        ("https://fb.com/landkreis-mittelsachsen", "landkreis-mittelsachsen"),
        ("https://www.facebook.com/profile.php?id=100064123456789", "100064123456789"),
        ("https://www.facebook.com/pages/Wirtschaft/123456789", "123456789"),
        (
            "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2F"
            f"{SLUG}&tabs=timeline&width=340&height=500",
            SLUG,
        ),
    ],
)
def test_recognises_page_urls(url: str, item_id: str) -> None:
    assert facebook.parse_url(url) == EmbedRef(facebook, item_id)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.facebook.com/",
        "https://www.facebook.com/groups/123456",
        "https://www.facebook.com/watch",
        f"https://www.facebook.com/{SLUG}/posts/123",
        "https://www.facebook.com/profile.php?id=abc",
        "https://www.facebook.com/profile.php?id=0123",
        "https://www.facebook.com/pages/Name/notanid",
        "https://www.facebook.com/a..b",
        "https://www.facebook.com/.hidden",
        "https://www.facebook.com/under_score",
        "https://www.facebook.com/0123",
        "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fevil.example%2Fx",
        "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2F"
        "plugins%2Fpage.php%3Fhref%3Dhttps%253A%252F%252Fwww.facebook.com%252Fx",
        "https://facebook.com.evil.example/page",
        "https://evil.example/facebook.com/page",
        "javascript:alert(1)//facebook.com/page",
        "https://x.com/mswirtschaft",
    ],
)
def test_ignores_other_urls(url: str) -> None:
    assert refused(facebook, url)


def test_adding_a_page_contacts_nobody(
    page: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    embed = page.embed
    assert (embed.key, embed.title, embed.enabled) == (
        f"facebook:{SLUG}",
        "Wirtschaft in Mittelsachsen",
        True,
    )
    assert upstream_requests == []
    assert Poster.from_json(embed.poster).width == 1280  # the neutral preview
    assert page.warnings == []


def test_title_and_admin_image(allow: Callable[..., allowlist.AddResult]) -> None:
    result = allow(PAGE_URL, title="Wirtschaft in Mittelsachsen", image=LANDSCAPE_JPEG)
    assert result.embed.display_title == "Wirtschaft in Mittelsachsen"
    assert result.embed.poster_custom
    refreshed = allow(PAGE_URL)
    assert refreshed.embed.poster == result.embed.poster
    assert refreshed.embed.display_title == "Wirtschaft in Mittelsachsen"


@pytest.mark.parametrize(
    ("url", "title"),
    [
        (
            "https://www.facebook.com/people/Wirtschaft-in-Mittelsachsen/100064123456789/",
            "Wirtschaft in Mittelsachsen",
        ),
        ("https://www.facebook.com/pages/Stadt-Freiberg/123456789", "Stadt Freiberg"),
        (
            "https://de-de.facebook.com/people/St%C3%A4dtisches-Museum-Freiberg/123456789",
            "Städtisches Museum Freiberg",
        ),
    ],
)
def test_a_page_known_by_its_number_is_titled_by_the_name_in_its_url(
    allow: Callable[..., allowlist.AddResult],
    client: TestClient,
    services: Services,
    url: str,
    title: str,
) -> None:
    ref = facebook.parse_url(url)
    assert ref is not None and ref.title_hint == title
    added = allow(url).embed
    assert added.title == title
    page = client.get(f"/facebook/{added.item_id}").text
    assert f'<h1 id="eg-title">{title}</h1>' in page
    assert f'data-initial="{title[0]}"' in page
    # Refreshing asks by the number alone (the URL's name is gone): the title stays.
    assert client.portal is not None
    client.portal.call(lambda: allowlist.refresh(services, added.key))
    refreshed = services.store.get_embed(added.key)
    assert refreshed is not None and refreshed.title == title


def test_a_bare_page_number_is_no_title(
    allow: Callable[..., allowlist.AddResult], client: TestClient
) -> None:
    added = allow("https://www.facebook.com/profile.php?id=100064123456789").embed
    assert added.title == ""
    page = client.get("/facebook/100064123456789").text
    assert '<h1 id="eg-title">Facebook</h1>' in page and "100064123456789</h1>" not in page


def test_placeholder_loads_nothing_from_facebook(
    client: TestClient, page: allowlist.AddResult
) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "<iframe" not in response.text
    assert "facebook.com/plugins" not in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"]
    assert "frame-src" not in policy
    assert all("facebook" not in " ".join(sources) for sources in policy.values())
    assert "set-cookie" not in response.headers
    # Fashion ID: the notice names the shared responsibility.
    english = client.get(f"{PAGE}?lang=en").text
    assert "Meta Platforms Ireland Limited" in english
    assert "jointly responsible" in english


def test_once_loads_the_page_plugin(client: TestClient, page: allowlist.AddResult) -> None:
    data = {"provider": "facebook", "scope": "once", "next": f"{PAGE}?lang=en"}
    loaded = client.post("/consent", data=data, headers=SAME_ORIGIN)
    assert loaded.status_code == 200
    assert loaded.headers["cache-control"] == "private, no-store"
    policy = parse_csp(loaded)
    assert policy["frame-src"] == ["https://www.facebook.com"]
    assert policy["script-src"] == ["'self'"]
    src = loaded.text.split('<iframe class="facebook-plugin" src="', 1)[1].split('"', 1)[0]
    url = urlsplit(src.replace("&amp;", "&"))
    assert (url.scheme, url.netloc, url.path) == ("https", "www.facebook.com", "/plugins/page.php")
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["href"] == PAGE_URL
    assert params["show_facepile"] == "false"
    assert params["locale"] == "en_GB"
    assert params["tabs"] == "timeline"
    assert 500 >= int(params["width"]) >= 180
    assert 'title="Facebook page: Wirtschaft in Mittelsachsen"' in loaded.text


@pytest.mark.parametrize(
    "path",
    ["/facebook/someone.else", "/facebook/a..b", "/facebook/-x", "/facebook/plugins", "/facebook/"],
)
def test_unknown_or_malformed_pages_are_404(
    client: TestClient, page: allowlist.AddResult, path: str
) -> None:
    assert client.get(path).status_code == 404


def test_slugs_are_case_insensitive(client: TestClient, page: allowlist.AddResult) -> None:
    assert client.get("/facebook/Wirtschaft.In.Mittelsachsen").status_code == 200


def test_disabled_page_is_404(
    client: TestClient, page: allowlist.AddResult, services: Services
) -> None:
    services.store.set_embed_enabled(page.embed.key, False)
    assert client.get(PAGE).status_code == 404
