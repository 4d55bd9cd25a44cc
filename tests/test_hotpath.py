"""The hot path (hotpath.py) answers exactly as the full app does, and without it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from embedguard import auth, staff
from embedguard.consent import COOKIE_NAME
from embedguard.hotpath import HotPath
from embedguard.posters import Poster
from embedguard.services import Services
from embedguard.store import Embed

from .fake_upstream import VIMEO_OK

PAGE = f"/vimeo/{VIMEO_OK}"
SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
# Any embedguard cookie besides the consent cookie sends a request to the full app.
FULL_APP = "eg_test=1"


@pytest.fixture
def video(stored_embed: Callable[..., Embed], services: Services) -> Embed:
    poster = services.posters.neutral("test", width=1280, height=720)
    return stored_embed(f"vimeo:{VIMEO_OK}", width=1280, height=720, poster=poster.to_json())


def always_cookie(client: TestClient) -> str:
    data = {"provider": "vimeo", "scope": "always", "next": PAGE}
    response = client.post("/consent", data=data, headers=SAME_ORIGIN)
    value = response.cookies.get(COOKIE_NAME)
    assert value
    return value


def without_date(response: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k != "date"]


def same_answer(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    """GET path once through the hot path and once through the full app; they must agree."""
    cookie = headers.get("cookie")
    full_cookie = f"{cookie}; {FULL_APP}" if cookie else FULL_APP
    hot = client.get(path, headers=headers)
    full = client.get(path, headers={**headers, "cookie": full_cookie})
    assert hot.status_code == full.status_code
    assert sorted(without_date(hot)) == sorted(without_date(full))
    assert hot.content == full.content
    return hot


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br", "gzip, deflate, br"])
@pytest.mark.parametrize("query", ["", "?lang=en", "?t=90&lang=de", "?lang=xx&fit=1"])
def test_placeholder_is_the_full_apps(
    client: TestClient, video: Embed, encoding: str, query: str
) -> None:
    headers = {"accept-encoding": encoding, "accept-language": "en-GB,en;q=0.8"}
    first = same_answer(client, PAGE + query, headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    revalidated = same_answer(client, PAGE + query, {**headers, "if-none-match": etag})
    assert revalidated.status_code == 304


@pytest.mark.parametrize("dest", ["iframe", "document"])
def test_framed_placeholder_is_the_full_apps(client: TestClient, video: Embed, dest: str) -> None:
    # Framed placeholders carry placeholder.js, others none: the hot path must tell them apart.
    first = same_answer(client, PAGE, {"sec-fetch-dest": dest, "accept-encoding": "identity"})
    assert ("placeholder.js" in first.text) == (dest == "iframe")
    assert "frame.js" not in first.text


def test_admin_preview_is_not_counted_by_the_hot_path(
    client: TestClient, services: Services, video: Embed
) -> None:
    from embedguard.preview import preview_url

    services.usage.flush()
    preview = client.get(preview_url(PAGE, services.signer, video.key))
    assert preview.status_code == 200
    services.usage.flush()
    assert not [row for row in services.store.usage() if row["event"] == "view"]


def test_an_admins_browser_gets_the_visitors_answers_uncounted(
    client: TestClient, services: Services, video: Embed
) -> None:
    """The staff cookie (staff.py) sends the request to the full app, which answers byte
    for byte as the hot path does for a visitor, and does not count it."""
    services.store.set_user("redaktion", "stored-hash")
    claims = ["redaktion", time.time(), auth.password_fingerprint("stored-hash")]
    marker = f"{staff.COOKIE_NAME}={services.signer.sign(claims, namespace=staff.NAMESPACE)}"
    consent = f"{COOKIE_NAME}={always_cookie(client)}"
    client.cookies.clear()
    services.usage.flush()
    for cookie in ("", f"{consent}; "):
        headers = {"accept-encoding": "br"} | ({"cookie": cookie} if cookie else {})
        visitor = client.get(PAGE, headers=headers)  # the hot path
        admin = client.get(PAGE, headers={**headers, "cookie": f"{cookie}{marker}"})
        assert admin.status_code == visitor.status_code == 200
        assert sorted(without_date(admin)) == sorted(without_date(visitor))
        assert admin.content == visitor.content
    services.usage.flush()
    assert [r["count"] for r in services.store.usage() if r["event"] == "view"] == [1]


@pytest.mark.parametrize("encoding", ["identity", "br"])
def test_loaded_page_is_the_full_apps(client: TestClient, video: Embed, encoding: str) -> None:
    cookie = f"{COOKIE_NAME}={always_cookie(client)}"
    loaded = same_answer(client, PAGE, {"accept-encoding": encoding, "cookie": cookie})
    assert "player.vimeo.com/video/" in loaded.text
    assert loaded.headers["cache-control"] == "private, no-store"


def test_static_and_posters_are_the_full_apps(client: TestClient, video: Embed) -> None:
    page = client.get(PAGE, headers={"accept-encoding": "identity"}).text
    css = page.split('href="', 1)[1].split('"', 1)[0]
    assert css.startswith("/static/embed.css?v=")
    for encoding in ("identity", "gzip", "br"):
        answer = same_answer(client, css, {"accept-encoding": encoding})
        same_answer(
            client, css, {"accept-encoding": encoding, "if-none-match": answer.headers["etag"]}
        )
    poster = Poster.from_json(video.poster)
    for name in (poster.filename(480, "jpg"), poster.filename(1280, "webp"), "0" * 20 + "-480.jpg"):
        same_answer(client, f"/posters/{name}", {})
    same_answer(client, "/static/nothing.css", {})
    same_answer(client, "/vimeo/999", {})


def test_hot_path_answers_without_the_full_app(services: Services, video: Embed) -> None:
    calls: list[str] = []

    async def full_app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope.get("path", scope["type"]))
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    asset = services.assets.url("embedguard.css")
    poster = Poster.from_json(video.poster).filename(480, "jpg")
    client = TestClient(HotPath(full_app, services=services), base_url="http://testserver")
    for path in (PAGE, f"{PAGE}?lang=en", asset, f"/posters/{poster}"):
        assert client.get(path).status_code == 200, path
    assert calls == []
    # Anything unusual goes to the full app.
    for path, headers in (
        (f"{PAGE}?consent=token", {}),
        (PAGE, {"cookie": "eg_admin=x"}),
        (PAGE, {"cookie": f"{COOKIE_NAME}=x; eg_staff=x"}),
        ("/vimeo/999", {}),
        ("/consent", {}),
    ):
        assert client.get(path, headers=headers).status_code == 599
    assert client.head(PAGE).status_code == 599
    assert client.request("GET", PAGE, content=b"x").status_code == 599
    assert calls == [PAGE, PAGE, PAGE, "/vimeo/999", "/consent", PAGE, PAGE]


def test_remembered_consent_ends_with_its_lifetime(
    client: TestClient, services: Services, video: Embed, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = {"cookie": f"{COOKIE_NAME}={always_cookie(client)}"}
    assert "player.vimeo.com/video/" in client.get(PAGE, headers=cookie).text
    later = time.time() + services.settings.consent_days * 86400 + 10
    monkeypatch.setattr(time, "time", lambda: later)
    assert 'value="once"' in client.get(PAGE, headers=cookie).text


def test_remembered_consent_ends_with_a_policy_bump(
    client: TestClient, services: Services, video: Embed
) -> None:
    cookie = {"cookie": f"{COOKIE_NAME}={always_cookie(client)}"}
    assert "player.vimeo.com/video/" in client.get(PAGE, headers=cookie).text
    services.store.set_setting("policy_version", services.live.policy_version() + 1)
    assert 'value="once"' in client.get(PAGE, headers=cookie).text


def test_forged_consent_cookie_is_no_consent(client: TestClient, video: Embed) -> None:
    cookie = always_cookie(client)
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    for _ in range(2):
        page = client.get(PAGE, headers={"cookie": f"{COOKIE_NAME}={forged}"})
        assert 'value="once"' in page.text


def test_hot_path_answers_are_counted_under_their_route(
    client: TestClient, services: Services, video: Embed
) -> None:
    css = services.assets.url("embedguard.css")
    poster = Poster.from_json(video.poster).filename(480, "jpg")
    for path in (PAGE, PAGE, css, f"/posters/{poster}"):
        assert client.get(path).status_code == 200
    counts = services.metrics.requests
    assert counts[("embed_vimeo_0", 200)] == 2
    assert counts[("static", 200)] == 1
    assert counts[("poster", 200)] == 1
