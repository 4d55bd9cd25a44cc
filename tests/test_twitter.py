"""The X (Twitter) provider: URLs, oEmbed, post text before consent, the widget after."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from embedguard import allowlist
from embedguard.providers import EmbedRef, ProviderError
from embedguard.providers.twitter import TwitterProvider
from embedguard.services import Services
from embedguard.upstream import UpstreamClient

from .fake_upstream import (
    X_AUTHOR_NAME,
    X_HANDLE,
    X_POST_404,
    X_POST_HOSTILE,
    X_POST_OK,
    X_POST_OK_2,
)
from .helpers import parse_csp, public_dns, refused

FRAME_JS = re.compile(
    r'<script src="/static/frame\.js\?v=\w+" defer data-eg-parents="[^"<>]*"></script>'
)

twitter = TwitterProvider()
ACCOUNT = f"https://x.com/{X_HANDLE}"
POST = f"https://twitter.com/{X_HANDLE}/status/{X_POST_OK}"
TIMELINE_PAGE = f"/twitter/{X_HANDLE}"
POST_PAGE = f"/twitter/{X_HANDLE}/status/{X_POST_OK}"
SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
PLATFORM = "https://platform.x.com"


def consent(client: TestClient, scope: str, next_path: str) -> Any:
    data = {"provider": "twitter", "scope": scope, "next": next_path}
    return client.post("/consent", data=data, headers=SAME_ORIGIN)


@pytest.fixture
def account(allow: Callable[..., allowlist.AddResult]) -> allowlist.AddResult:
    return allow(ACCOUNT)


@pytest.fixture
def post(
    allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult
) -> allowlist.AddResult:
    return allow(POST)


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "item_id"),
    [
        ("https://twitter.com/mswirtschaft", "mswirtschaft"),
        ("https://x.com/MSWirtschaft/", "mswirtschaft"),
        ("http://www.twitter.com/mswirtschaft?lang=de", "mswirtschaft"),
        ("https://mobile.twitter.com/ms_wirtschaft", "ms_wirtschaft"),
        (f"https://x.com/mswirtschaft/status/{X_POST_OK}", f"mswirtschaft/status/{X_POST_OK}"),
        (
            f"https://twitter.com/MSWirtschaft/status/{X_POST_OK}?s=20&t=abc",
            f"mswirtschaft/status/{X_POST_OK}",
        ),
        (
            f"https://x.com/mswirtschaft/status/{X_POST_OK}/photo/1",
            f"mswirtschaft/status/{X_POST_OK}",
        ),
        (
            f"https://twitter.com/mswirtschaft/statuses/{X_POST_OK}",
            f"mswirtschaft/status/{X_POST_OK}",
        ),
    ],
)
def test_recognises_x_urls(url: str, item_id: str) -> None:
    ref = twitter.parse_url(url)
    assert ref == EmbedRef(twitter, item_id)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/",
        "https://x.com/home",
        "https://twitter.com/i/web/status/1790000000000000001",
        "https://x.com/search?q=mittelsachsen",
        "https://x.com/this_handle_is_far_too_long",
        "https://x.com/bad-handle",
        "https://x.com/mswirtschaft/status/0179",
        "https://x.com/mswirtschaft/status/abc",
        "https://x.com/mswirtschaft/likes",
        "https://x.com.evil.example/mswirtschaft",
        "https://evil.example/x.com/mswirtschaft",
        "ftp://x.com/mswirtschaft",
        "https://[::1/mswirtschaft",
        "https://vimeo.com/76979871",
    ],
)
def test_ignores_other_urls(url: str) -> None:
    assert refused(twitter, url)


@pytest.mark.parametrize(
    ("params", "item_id"),
    [
        ({"handle": "mswirtschaft"}, "mswirtschaft"),
        ({"handle": "MSWirtschaft"}, "mswirtschaft"),
        ({"handle": "mswirtschaft", "post_id": X_POST_OK}, f"mswirtschaft/status/{X_POST_OK}"),
        ({"handle": "mswirtschaft", "post_id": "0" + X_POST_OK}, None),
        ({"handle": "mswirtschaft", "post_id": "1" * 21}, None),
        ({"handle": "ms wirtschaft"}, None),
        ({"handle": "home"}, None),
        ({"handle": ""}, None),
    ],
)
def test_route_ids_are_canonical(params: dict[str, str], item_id: str | None) -> None:
    assert twitter.item_id_from_path(params) == item_id


# --- Adding ----------------------------------------------------------------------------------


def test_adding_an_account_asks_oembed_without_script(
    account: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    embed = account.embed
    assert (embed.key, embed.title, embed.author_url) == (
        f"twitter:{X_HANDLE}",
        f"@{X_HANDLE}",
        f"https://x.com/{X_HANDLE}",
    )
    assert embed.content == ""


def test_oembed_request_keeps_the_script_out_and_asks_for_dnt(
    allow: Callable[..., allowlist.AddResult], upstream_requests: list[Any]
) -> None:
    allow(ACCOUNT)
    (request,) = upstream_requests
    assert request.path == "/oembed"
    assert request.params["omit_script"] == "1"
    assert request.params["dnt"] == "true"
    assert request.params["url"] == f"https://twitter.com/{X_HANDLE}"


def test_adding_a_post_stores_its_text(post: allowlist.AddResult) -> None:
    embed = post.embed
    assert embed.key == f"twitter:{X_HANDLE}/status/{X_POST_OK}"
    assert embed.author == X_AUTHOR_NAME
    assert embed.title == "Neue Fachkräfte-Broschüre ist da! https://t.co/abc"
    assert "<script" not in embed.content
    assert '<p lang="de" dir="ltr">Neue Fachkräfte-Broschüre ist da!' in embed.content
    # Links lose X's tracking query and open outside the embed.
    status_link = f'href="https://twitter.com/{X_HANDLE}/status/{X_POST_OK}"'
    assert status_link in embed.content
    assert "ref_src" not in embed.content
    assert 'target="_blank"' in embed.content
    assert 'rel="noopener noreferrer nofollow"' in embed.content


def test_a_post_needs_its_account_first(
    allow: Callable[..., allowlist.AddResult], services: Services, upstream_requests: list[Any]
) -> None:
    with pytest.raises(allowlist.AllowlistError, match="allow the account first"):
        allow(POST)
    assert services.store.list_embeds() == []
    assert upstream_requests == []


def test_unknown_post_stores_nothing(
    allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult, services: Services
) -> None:
    with pytest.raises(allowlist.AllowlistError, match="does not know"):
        allow(f"https://x.com/{X_HANDLE}/status/{X_POST_404}")
    assert [e.key for e in services.store.list_embeds()] == [account.embed.key]


def test_unknown_account_stores_nothing(
    allow: Callable[..., allowlist.AddResult], services: Services
) -> None:
    with pytest.raises(allowlist.AllowlistError, match="X does not know account @someoneelse"):
        allow("https://x.com/someoneelse")
    assert services.store.list_embeds() == []


def without_frame_js(page: str) -> str:
    """The page without our own frame.js tag (the height reporter every embed page loads)."""
    return FRAME_JS.sub("", page, count=1)


def test_hostile_post_is_sanitized(
    allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult, client: TestClient
) -> None:
    embed = allow(f"https://x.com/{X_HANDLE}/status/{X_POST_HOSTILE}").embed
    page = without_frame_js(client.get(f"/twitter/{X_HANDLE}/status/{X_POST_HOSTILE}").text)
    for text in (embed.content, page):
        lowered = text.lower()
        for bad in ("<script", "<iframe", "<svg", "<style", "<img", "onclick", "onerror"):
            assert bad not in lowered
        assert "javascript:" not in lowered
        assert "evil.example" not in lowered
        assert "display: none" not in lowered
    assert "Gewinnspiel!" in embed.content
    assert "Hier klicken" in page


# --- oEmbed answers the fake cannot give -------------------------------------------------------


def client_for(answers: dict[str, httpx.Response]) -> UpstreamClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return answers.get(request.headers["host"], httpx.Response(404))

    return UpstreamClient(
        twitter.upstream_hosts,
        transport=httpx.MockTransport(handler),
        read_timeout=1.0,
        resolver=public_dns,
    )


def oembed_json(**fields: Any) -> httpx.Response:
    body = {"type": "rich", "version": "1.0", "html": "<blockquote></blockquote>", **fields}
    return httpx.Response(200, json=body)


async def test_falls_back_to_publish_x_com_when_twitter_is_down() -> None:
    post_html = '<blockquote class="twitter-tweet"><p lang="de">Hallo</p></blockquote>'
    answers = {
        "publish.twitter.com": httpx.Response(503),
        "publish.x.com": oembed_json(html=post_html, author_url="https://x.com/mswirtschaft"),
    }
    async with client_for(answers) as client:
        metadata = await twitter.fetch_metadata(EmbedRef(twitter, "mswirtschaft/status/5"), client)
    assert metadata.title == "Hallo"


async def test_a_definite_no_is_not_asked_twice() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["host"])
        return httpx.Response(404)

    client = UpstreamClient(
        twitter.upstream_hosts, transport=httpx.MockTransport(handler), resolver=public_dns
    )
    async with client:
        with pytest.raises(ProviderError, match="does not know"):
            await twitter.fetch_metadata(EmbedRef(twitter, "mswirtschaft"), client)
    assert seen == ["publish.twitter.com"]


async def test_a_post_of_another_account_is_refused() -> None:
    answers = {
        "publish.twitter.com": oembed_json(
            html='<blockquote><p lang="en">Not ours</p></blockquote>',
            author_url="https://twitter.com/SomeoneElse",
        )
    }
    async with client_for(answers) as client:
        with pytest.raises(ProviderError, match="belongs to @someoneelse"):
            await twitter.fetch_metadata(EmbedRef(twitter, "mswirtschaft/status/5"), client)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"html": 5}),
        httpx.Response(200, content=b"\x00garbage", headers={"content-type": "application/json"}),
        httpx.Response(200, text="<html>", headers={"content-type": "text/html"}),
        oembed_json(html="<script>alert(1)</script>"),
    ],
)
async def test_garbage_is_a_provider_error(response: httpx.Response) -> None:
    answers = {"publish.twitter.com": response, "publish.x.com": response}
    async with client_for(answers) as client:
        with pytest.raises(ProviderError):
            await twitter.fetch_metadata(EmbedRef(twitter, "mswirtschaft/status/5"), client)


# --- Pages -------------------------------------------------------------------------------------


def test_post_placeholder_shows_the_text_and_contacts_nobody(
    client: TestClient, post: allowlist.AddResult, upstream_requests: list[Any]
) -> None:
    upstream_requests.clear()
    response = client.get(POST_PAGE)
    assert response.status_code == 200
    assert "Neue Fachkräfte-Broschüre ist da!" in response.text
    assert "platform.x.com" not in response.text
    assert "platform.twitter.com" not in response.text
    assert "<script" not in without_frame_js(response.text)
    assert "<iframe" not in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"]
    assert all("twitter" not in " ".join(s) and "x.com" not in " ".join(s) for s in policy.values())
    assert "set-cookie" not in response.headers
    assert upstream_requests == []


def test_timeline_placeholder_lists_the_picked_posts(
    client: TestClient, allow: Callable[..., allowlist.AddResult], post: allowlist.AddResult
) -> None:
    allow(f"https://x.com/{X_HANDLE}/status/{X_POST_OK_2}")
    text = client.get(TIMELINE_PAGE).text
    newest, older = text.index("Tag der Ausbildung"), text.index("Fachkräfte-Broschüre")
    assert newest < older
    assert f'href="/twitter/{X_HANDLE}/status/{X_POST_OK}?lang=de"' in text
    assert f'href="https://x.com/{X_HANDLE}"' in text


def test_timeline_placeholder_leaves_out_disabled_posts(
    client: TestClient, post: allowlist.AddResult, services: Services
) -> None:
    services.store.set_embed_enabled(post.embed.key, False)
    assert "Fachkräfte-Broschüre" not in client.get(TIMELINE_PAGE).text


def test_a_new_post_shows_up_on_the_cached_timeline(
    client: TestClient, allow: Callable[..., allowlist.AddResult], account: allowlist.AddResult
) -> None:
    assert "Fachkräfte-Broschüre" not in client.get(TIMELINE_PAGE).text
    allow(POST)
    assert "Fachkräfte-Broschüre" in client.get(TIMELINE_PAGE).text


def widget_document(page: str) -> str:
    """The sandboxed document X's script runs in, from the loaded page's srcdoc."""
    frame = re.search(r'<iframe class="script-sandbox"[^>]*>', page)
    assert frame is not None, "the widget is not in a sandboxed frame"
    sandbox = re.search(r'sandbox="([^"]*)"', frame.group(0))
    assert sandbox is not None
    assert "allow-same-origin" not in sandbox.group(1).split()
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame.group(0))
    assert srcdoc is not None
    return html.unescape(srcdoc.group(1))


def test_once_loads_the_post_widget_with_dnt(client: TestClient, post: allowlist.AddResult) -> None:
    loaded = consent(client, "once", f"{POST_PAGE}?lang=de")
    assert loaded.status_code == 200
    assert "widgets.js" not in re.sub(r'srcdoc="[^"]*"', "", loaded.text), "not in our origin"
    inner = widget_document(loaded.text)
    assert '<blockquote class="twitter-tweet post" data-dnt="true" data-lang="de"' in inner
    assert f'<script async src="{PLATFORM}/widgets.js"' in inner
    assert '<meta name="twitter:dnt" content="on">' in inner
    assert '<meta name="twitter:widgets:csp" content="on">' in inner
    assert loaded.headers["cache-control"] == "private, no-store"
    policy = parse_csp(loaded)
    assert PLATFORM in policy["script-src"]
    assert PLATFORM in policy["frame-src"]
    assert policy["default-src"] == ["'none'"]
    assert "connect-src" not in policy
    assert "set-cookie" not in loaded.headers


def test_always_loads_the_timeline_widget(client: TestClient, account: allowlist.AddResult) -> None:
    redirect = consent(client, "always", TIMELINE_PAGE)
    assert redirect.status_code == 303
    inner = widget_document(client.get(redirect.headers["location"]).text)
    assert '<a class="twitter-timeline" data-dnt="true" data-lang="de"' in inner
    assert f'href="https://x.com/{X_HANDLE}"' in inner
    assert "Stop loading X automatically" in client.get(f"{TIMELINE_PAGE}?lang=en").text


@pytest.mark.parametrize(
    "path",
    [
        f"/twitter/{X_HANDLE}/status/{X_POST_OK_2}",  # a real post nobody added
        f"/twitter/{X_HANDLE}/status/0{X_POST_OK}",
        f"/twitter/someoneelse/status/{X_POST_OK}",
        "/twitter/someoneelse",
        "/twitter/home",
        "/twitter/bad-handle",
        f"/twitter/{X_HANDLE}/status/abc",
        f"/twitter/{X_HANDLE}/status",
    ],
)
def test_anything_not_added_is_404_without_upstream(
    client: TestClient, post: allowlist.AddResult, upstream_requests: list[Any], path: str
) -> None:
    upstream_requests.clear()
    assert client.get(path).status_code == 404
    assert upstream_requests == []


def test_handles_are_case_insensitive(client: TestClient, post: allowlist.AddResult) -> None:
    assert client.get(f"/twitter/MSWirtschaft/status/{X_POST_OK}").status_code == 200


@pytest.mark.parametrize("change", ["disable", "remove"])
def test_posts_disappear_with_their_account(
    client: TestClient, post: allowlist.AddResult, services: Services, change: str
) -> None:
    key = f"twitter:{X_HANDLE}"
    if change == "disable":
        services.store.set_embed_enabled(key, False)
    else:
        services.store.remove_embed(key)
    assert client.get(POST_PAGE).status_code == 404


def test_english_placeholder(client: TestClient, post: allowlist.AddResult) -> None:
    text = client.get(f"{POST_PAGE}?lang=en").text
    assert '<html lang="en">' in text
    assert f"Post by {X_AUTHOR_NAME}" in text
    assert "Twitter International Unlimited Company" in text


def test_snippet_sizes(post: allowlist.AddResult, account: allowlist.AddResult) -> None:
    assert twitter.frame_size(post.embed) == (550, 600)
    assert twitter.frame_size(account.embed) == (550, 700)


def test_timeline_shows_the_five_newest_and_survives_odd_rows(
    client: TestClient, stored_embed: Callable[..., Any]
) -> None:
    stored_embed(f"twitter:{X_HANDLE}", title=f"@{X_HANDLE}")
    for n in range(1, 8):
        stored_embed(f"twitter:{X_HANDLE}/status/{n}", content=f"<p>Beitrag Nummer {n}.</p>")
    stored_embed(f"twitter:{X_HANDLE}/status/abc", content="<p>Kaputte Zeile</p>")
    stored_embed(f"twitter:{X_HANDLE}/status/9", content="")
    stored_embed("twitter:other/status/8", content="<p>Fremdes Konto</p>")
    response = client.get(TIMELINE_PAGE)
    assert response.status_code == 200
    shown = [n for n in range(1, 8) if f"Beitrag Nummer {n}." in response.text]
    assert shown == [3, 4, 5, 6, 7]
    assert response.text.index("Nummer 7.") < response.text.index("Nummer 3.")
    assert "Kaputte Zeile" not in response.text
    assert "Fremdes Konto" not in response.text
