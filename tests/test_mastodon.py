"""The Mastodon provider: posts of allowed accounts on any instance, the instance as the
only host admitted (fetching and CSP), sanitized text before consent, the instance's own
embed after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard import allowlist
from embedguard.providers.mastodon import MastodonProvider, canonical_instance
from embedguard.services import Services
from embedguard.upstream import UpstreamClient

from .fake_youtube_mastodon import (
    MASTODON_ACCOUNT_URL,
    MASTODON_INSTANCE,
    MASTODON_OK_TEXT,
    MASTODON_ORIGIN,
    MASTODON_POST_HOSTILE,
    MASTODON_POST_OK,
    MASTODON_POST_OK_2,
    MASTODON_POST_OTHER,
    MASTODON_POST_PRIVATE,
    MASTODON_USER,
)
from .helpers import load_always, parse_csp, refused

mastodon = MastodonProvider()
POST_URL = f"{MASTODON_ACCOUNT_URL}/{MASTODON_POST_OK}"
POST_PAGE = f"/mastodon/{MASTODON_INSTANCE}/{MASTODON_POST_OK}"
IDN = "xn--bcher-kva.example"
ACCOUNT_PAGE = f"/mastodon/{MASTODON_INSTANCE}/@{MASTODON_USER}"


@pytest.fixture
def account(allow: Callable[..., allowlist.AddResult]) -> allowlist.AddResult:
    return allow(MASTODON_ACCOUNT_URL)


@pytest.fixture
def post(
    allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult
) -> allowlist.AddResult:
    return allow(POST_URL)


@pytest.mark.parametrize(
    ("url", "item_id", "parent"),
    [
        (POST_URL, f"{MASTODON_INSTANCE}/{MASTODON_POST_OK}", f"{MASTODON_INSTANCE}/@wirtschaft"),
        (
            f"https://Mastodon.Example/@Wirtschaft/{MASTODON_POST_OK}/embed",
            f"{MASTODON_INSTANCE}/{MASTODON_POST_OK}",
            f"{MASTODON_INSTANCE}/@wirtschaft",
        ),
        (
            f"{MASTODON_ORIGIN}/users/wirtschaft/statuses/{MASTODON_POST_OK}",
            f"{MASTODON_INSTANCE}/{MASTODON_POST_OK}",
            f"{MASTODON_INSTANCE}/@wirtschaft",
        ),
        (
            f"{MASTODON_ORIGIN}/web/@wirtschaft/{MASTODON_POST_OK}",
            f"{MASTODON_INSTANCE}/{MASTODON_POST_OK}",
            f"{MASTODON_INSTANCE}/@wirtschaft",
        ),
        (MASTODON_ACCOUNT_URL, f"{MASTODON_INSTANCE}/@wirtschaft", ""),
        (f"{MASTODON_ACCOUNT_URL}/", f"{MASTODON_INSTANCE}/@wirtschaft", ""),
        (f"{MASTODON_ORIGIN}/@Wirtschaft/media", f"{MASTODON_INSTANCE}/@wirtschaft", ""),
        (f"{MASTODON_ORIGIN}/users/wirtschaft", f"{MASTODON_INSTANCE}/@wirtschaft", ""),
        ("https://social.bund.de/@BfDI", "social.bund.de/@bfdi", ""),
        (
            "https://bücher.example/@leser/12",
            "xn--bcher-kva.example/12",
            "xn--bcher-kva.example/@leser",
        ),
    ],
)
def test_recognises_post_and_account_urls(url: str, item_id: str, parent: str) -> None:
    ref = mastodon.parse_url(url)
    assert ref is not None and ref.provider is mastodon
    assert (ref.item_id, ref.parent_id) == (item_id, parent)
    assert ref.key == f"mastodon:{item_id}"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/@wirtschaft/1",
        "https://[::1]/@wirtschaft/1",
        "https://localhost/@wirtschaft/1",
        "https://mastodon.localhost/@wirtschaft/1",
        "https://mastodon.local/@wirtschaft/1",
        "https://127.1/@wirtschaft/1",
        "https://2130706433/@wirtschaft/1",
        "https://mastodon.example:8443/@wirtschaft/1",
        "https://mastodon.example:/@wirtschaft/1",
        "https://user@mastodon.example/@wirtschaft/1",
        "https://xn--vimeo-xxx.com/@wirtschaft/1",
        "https://mastodon.example/@wirtschaft@other.example/1",
        "https://mastodon.example/@wirtschaft/abc",
        "https://mastodon.example/@wirtschaft/0123",
        "https://mastodon.example/@bad!name/1",
        "https://mastodon.example/@wirtschaft/1/reblogs",
        "https://mastodon.example/about",
        "https://mastodon.example/",
        "ftp://mastodon.example/@wirtschaft/1",
    ],
)
def test_refuses_other_urls_and_hosts(url: str) -> None:
    assert refused(mastodon, url)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mastodon.social", "mastodon.social"),
        ("Mastodon.Social.", "mastodon.social"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", None),
        ("10.0.0.1", None),
        ("[::1]", None),
        ("0x7f.1", None),
        ("intranet", None),
        ("a_b.example", None),
        ("-a.example", None),
        ("a" * 64 + ".example", None),
        ("", None),
    ],
)
def test_instance_names_are_checked_strictly(value: str, expected: str | None) -> None:
    assert canonical_instance(value) == expected


def test_a_post_needs_its_account_first(
    allow: Callable[..., allowlist.AddResult], services: Services, upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    with pytest.raises(allowlist.AllowlistError, match="allow the account first"):
        allow(POST_URL)
    assert services.store.list_embeds() == [] and upstream_requests == []


def test_adding_an_account_and_a_post(
    post: allowlist.AddResult, account: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    assert account.embed.key == f"mastodon:{MASTODON_INSTANCE}/@{MASTODON_USER}"
    embed = post.embed
    assert embed.key == f"mastodon:{MASTODON_INSTANCE}/{MASTODON_POST_OK}"
    assert (embed.provider, embed.item_id) == (
        "mastodon",
        f"{MASTODON_INSTANCE}/{MASTODON_POST_OK}",
    )
    assert embed.title.startswith(MASTODON_OK_TEXT)
    assert embed.author_url == MASTODON_ACCOUNT_URL
    assert (
        "<p>" in embed.content
        and 'href="https://mastodon.example/tags/wirtschaft"' in embed.content
    )


def test_lookups_go_to_the_instance_on_its_real_paths_only(
    allow: Callable[..., allowlist.AddResult], monkeypatch: Any, upstream_requests: list[Any]
) -> None:
    scopes: list[frozenset[str]] = []
    original = UpstreamClient.scoped

    def recording(self: UpstreamClient, hosts: Any) -> UpstreamClient:
        scopes.append(frozenset(hosts))
        return original(self, hosts)

    monkeypatch.setattr(UpstreamClient, "scoped", recording)
    upstream_requests.clear()
    allow(MASTODON_ACCOUNT_URL)
    allow(POST_URL)
    assert set(scopes) == {frozenset({MASTODON_INSTANCE})}
    assert [r.path for r in upstream_requests] == [
        "/api/v1/accounts/lookup",
        "/api/oembed",
        f"/api/v1/statuses/{MASTODON_POST_OK}",
    ]
    assert upstream_requests[1].params == {"url": POST_URL}


@pytest.mark.parametrize(
    ("post_id", "reason"),
    [
        (MASTODON_POST_OTHER, "another author"),
        (MASTODON_POST_PRIVATE, "not public"),
        ("113000000000000999", "does not know"),
    ],
)
def test_unconfirmed_posts_are_not_stored(
    allow: Callable[..., allowlist.AddResult],
    account: allowlist.AddResult,
    services: Services,
    post_id: str,
    reason: str,
) -> None:
    with pytest.raises(allowlist.AllowlistError, match=reason):
        allow(f"{MASTODON_ACCOUNT_URL}/{post_id}")
    assert [e.key for e in services.store.list_embeds()] == [account.embed.key]


def test_unknown_account_is_not_stored(
    allow: Callable[..., allowlist.AddResult], services: Services
) -> None:
    with pytest.raises(allowlist.AllowlistError, match="does not know"):
        allow(f"{MASTODON_ORIGIN}/@nobody")
    assert services.store.list_embeds() == []


def test_hostile_post_is_sanitized(
    allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult, client: TestClient
) -> None:
    embed = allow(f"{MASTODON_ACCOUNT_URL}/{MASTODON_POST_HOSTILE}").embed
    page = client.get(f"/mastodon/{MASTODON_INSTANCE}/{MASTODON_POST_HOSTILE}").text
    for bad in ("<script", "alert(", "evil.example", "javascript:", "<iframe", "<img"):
        assert bad not in embed.content
        assert bad not in page.replace('<script src="/static/', "")
    assert "Gewinnspiel!" in page


def test_placeholder_shows_the_text_contacts_nobody_and_names_the_instance(
    client: TestClient, post: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    response = client.get(f"{POST_PAGE}?lang=en")
    assert response.status_code == 200
    assert MASTODON_OK_TEXT in response.text
    assert "<iframe" not in response.text and f"{POST_URL}/embed" not in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"] and "frame-src" not in policy
    assert all(MASTODON_INSTANCE not in " ".join(s) for s in policy.values())
    assert f"https://{MASTODON_INSTANCE}/privacy-policy" in response.text
    assert f"{MASTODON_INSTANCE}" in response.text
    assert "set-cookie" not in response.headers
    assert upstream_requests == []


def test_after_consent_the_instances_embed_and_only_that_host(
    client: TestClient, post: allowlist.AddResult
) -> None:
    loaded = load_always(client, "mastodon", f"{POST_PAGE}?lang=de")
    assert loaded.status_code == 200
    assert f'<iframe src="{POST_URL}/embed"' in loaded.text
    policy = parse_csp(loaded)
    assert policy["frame-src"] == [MASTODON_ORIGIN]
    assert "script-src" not in policy or policy["script-src"] == ["'self'"]
    assert loaded.headers["cache-control"] == "private, no-store"


def test_account_page_lists_the_picked_posts(
    client: TestClient, allow: Callable[..., allowlist.AddResult], post: allowlist.AddResult
) -> None:
    allow(f"{MASTODON_ACCOUNT_URL}/{MASTODON_POST_OK_2}")
    page = client.get(ACCOUNT_PAGE).text
    assert page.index("Tag der Ausbildung") < page.index(MASTODON_OK_TEXT)
    assert f'href="{POST_PAGE}?lang=de"' in page
    assert "<iframe" not in page


@pytest.mark.parametrize(
    "path",
    [
        f"/mastodon/MASTODON.EXAMPLE/{MASTODON_POST_OK}",
        f"/mastodon/{MASTODON_INSTANCE}/0{MASTODON_POST_OK}",
        f"/mastodon/{MASTODON_INSTANCE}/{MASTODON_POST_OK_2}",
        f"/mastodon/127.0.0.1/{MASTODON_POST_OK}",
        f"/mastodon/other.example/{MASTODON_POST_OK}",
        f"/mastodon/{MASTODON_INSTANCE}/@Wirtschaft",
        f"/mastodon/{MASTODON_INSTANCE}/@someoneelse",
        f"/mastodon/{MASTODON_INSTANCE}",
    ],
)
def test_anything_not_added_is_404_without_upstream(
    client: TestClient, post: allowlist.AddResult, upstream_requests: list[Any], path: str
) -> None:
    upstream_requests.clear()
    assert client.get(path).status_code == 404
    assert upstream_requests == []


def test_posts_disappear_with_their_account(
    client: TestClient, post: allowlist.AddResult, services: Services
) -> None:
    assert client.get(POST_PAGE).status_code == 200
    services.store.set_embed_enabled(f"mastodon:{MASTODON_INSTANCE}/@{MASTODON_USER}", False)
    assert client.get(POST_PAGE).status_code == 404


def test_loader_finds_the_post(client: TestClient, post: allowlist.AddResult) -> None:
    response = client.get("/embed", params={"url": f"{POST_URL}/embed"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{POST_PAGE}?lang=de&fit=1"
