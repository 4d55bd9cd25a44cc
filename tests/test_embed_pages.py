"""The Vimeo embed page over HTTP: placeholder, consent round-trips, headers, bad input."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard.consent import COOKIE_NAME
from embedguard.database import SQLiteDatabase
from embedguard.live_settings import LiveSettings
from embedguard.services import Services
from embedguard.store import Embed

from .fake_upstream import VIMEO_OK, VIMEO_UNLISTED, VIMEO_UNLISTED_HASH
from .helpers import parse_csp

PAGE = f"/vimeo/{VIMEO_OK}"
SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}


@pytest.fixture
def video(stored_embed: Callable[..., Embed]) -> Embed:
    return stored_embed(f"vimeo:{VIMEO_OK}", width=1280, height=720, duration=154)


def consent(client: TestClient, scope: str, next_path: str = PAGE, **extra: str) -> Any:
    data = {"provider": "vimeo", "scope": scope, "next": next_path, **extra}
    return client.post("/consent", data=data, headers=SAME_ORIGIN)


def test_placeholder_before_consent(client: TestClient, video: Embed) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert '<form class="choices" method="post" action="/consent">' in response.text
    assert 'value="once"' in response.text and 'value="always"' in response.text
    assert "player.vimeo.com" not in response.text
    assert "<iframe" not in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"]
    assert all("vimeo" not in " ".join(sources) for sources in policy.values())
    assert "frame-src" not in policy
    assert policy["frame-ancestors"] == ["'self'"]
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["etag"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_placeholder_revalidates_with_etag(client: TestClient, video: Embed) -> None:
    etag = client.get(PAGE).headers["etag"]
    assert client.get(PAGE, headers={"if-none-match": etag}).status_code == 304


def test_once_answers_with_the_player_itself(client: TestClient, video: Embed) -> None:
    loaded = consent(client, "once")
    assert loaded.status_code == 200
    assert "location" not in loaded.headers, "no URL that could be opened again"
    player = f"https://player.vimeo.com/video/{VIMEO_OK}?dnt=1&amp;autoplay=1"
    assert player in loaded.text
    assert 'allow="autoplay; fullscreen; picture-in-picture"' in loaded.text
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in loaded.text
    assert loaded.headers["cache-control"] == "private, no-store"
    assert parse_csp(loaded)["frame-src"] == ["https://player.vimeo.com"]
    assert "set-cookie" not in loaded.headers
    assert not client.cookies
    # Loading once leaves nothing behind: the page itself shows the placeholder again.
    assert "player.vimeo.com" not in client.get(PAGE).text


def test_once_shows_the_embed_that_next_names(
    client: TestClient, video: Embed, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:76979872")
    loaded = client.post(
        "/consent",
        data={"provider": "vimeo", "scope": "once", "next": "/vimeo/76979872?lang=en"},
        headers=SAME_ORIGIN,
    )
    assert "player.vimeo.com/video/76979872?" in loaded.text
    assert f"player.vimeo.com/video/{VIMEO_OK}" not in loaded.text
    assert '<html lang="en">' in loaded.text


def test_always_sets_the_consent_cookie(client: TestClient, video: Embed) -> None:
    response = consent(client, "always")
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", f"Max-Age={180 * 86400}"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()
    loaded = client.get(PAGE)
    assert "player.vimeo.com" in loaded.text
    assert 'action="/consent/revoke"' in loaded.text, "one-click stop while 'always' is active"


def test_cookie_is_secure_over_https(app: Any, video: Embed) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = client.post(
            "/consent",
            data={"provider": "vimeo", "scope": "always", "next": PAGE},
            headers={"origin": "https://testserver"},
        )
    assert "secure" in response.headers["set-cookie"].lower()


def test_revoke_brings_the_placeholder_back(client: TestClient, video: Embed) -> None:
    consent(client, "always")
    response = client.post(
        "/consent/revoke", data={"provider": "vimeo", "next": PAGE}, headers=SAME_ORIGIN
    )
    assert response.status_code == 303
    assert (
        "max-age=0" in response.headers["set-cookie"].lower()
        or "expires=" in response.headers["set-cookie"].lower()
    )
    client.cookies.clear()
    assert "player.vimeo.com" not in client.get(PAGE).text


def test_policy_version_bump_asks_again(
    client: TestClient, video: Embed, services: Services
) -> None:
    consent(client, "always")
    assert "player.vimeo.com" in client.get(PAGE).text
    services.store.set_setting("policy_version", 2)
    assert "player.vimeo.com" not in client.get(PAGE).text


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "x" * 4000, "%00%ff"])
def test_forged_cookie_counts_as_no_consent(client: TestClient, video: Embed, value: str) -> None:
    client.cookies.set(COOKIE_NAME, value)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "player.vimeo.com" not in response.text


@pytest.mark.parametrize("token", ["garbage", "eyJwIjoidmltZW8ifQ.abc.def", "x" * 5000])
def test_forged_once_token_shows_the_placeholder(
    client: TestClient, video: Embed, token: str
) -> None:
    response = client.get(PAGE, params={"consent": token})
    assert response.status_code == 200
    assert "player.vimeo.com" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "https://evil.example", "sec-fetch-site": "same-origin"},
    ],
)
@pytest.mark.parametrize("path", ["/consent", "/consent/revoke"])
def test_cross_site_posts_are_refused(
    client: TestClient, video: Embed, headers: dict[str, str], path: str
) -> None:
    data = {"provider": "vimeo", "scope": "always", "next": PAGE}
    response = client.post(path, data=data, headers=headers)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_framing_site_may_post(settings: Any, services: Services, video: Embed) -> None:
    from dataclasses import replace

    from embedguard.app import create_app

    framed = replace(settings, frame_ancestors=("https://www.example.de",))
    services.settings = framed
    services.live = LiveSettings(framed, services.store, services.pages)
    with TestClient(create_app(framed, services), follow_redirects=False) as client:
        response = client.post(
            "/consent",
            data={"provider": "vimeo", "scope": "always", "next": PAGE},
            headers={"origin": "https://www.example.de", "sec-fetch-site": "same-site"},
        )
    assert response.status_code == 303


def test_a_post_without_browser_headers_is_allowed(client: TestClient, video: Embed) -> None:
    response = client.post("/consent", data={"provider": "vimeo", "scope": "once", "next": PAGE})
    assert response.status_code == 200
    assert "player.vimeo.com" in response.text


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "vimeo/1",
        "",
        "/\x00x",
        "javascript:alert(1)",
        "/" + "a" * 3000,
    ],
)
def test_next_must_be_a_local_path(client: TestClient, video: Embed, next_path: str) -> None:
    response = consent(client, "always", next_path)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "data",
    [
        {"provider": "evil", "scope": "always", "next": PAGE},
        {"provider": "vimeo", "scope": "forever", "next": PAGE},
        {"provider": "vimeo", "next": PAGE},
        {"scope": "always", "next": PAGE},
        {"provider": "vimeo", "scope": "once", "next": "/vimeo/999"},
        {"provider": "vimeo", "scope": "once", "next": "/privacy"},
    ],
)
def test_bad_consent_forms(client: TestClient, video: Embed, data: dict[str, str]) -> None:
    response = client.post("/consent", data=data, headers=SAME_ORIGIN)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


def test_oversized_consent_body(client: TestClient, video: Embed) -> None:
    response = client.post(
        "/consent",
        content=b"provider=vimeo&next=" + b"a" * 70_000,
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/vimeo/999",
        "/vimeo/0076979871",
        "/vimeo/abc",
        "/vimeo/%D9%A1%D9%A2",
        "/vimeo/1%2F2",
        "/vimeo/" + "9" * 500,
        "/vimeo/-1",
        "/vimeo/+76979871",
    ],
)
def test_unknown_or_malformed_ids_are_404_without_upstream(
    client: TestClient, video: Embed, upstream_requests: list[Any], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "<html" in response.text
    assert upstream_requests == []


def test_disabled_video_is_404(client: TestClient, video: Embed, services: Services) -> None:
    services.store.set_embed_enabled(video.key, False)
    assert client.get(PAGE).status_code == 404


def test_unlisted_video_needs_its_hash(
    client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(f"vimeo:{VIMEO_UNLISTED}", secret=VIMEO_UNLISTED_HASH)
    page = f"/vimeo/{VIMEO_UNLISTED}"
    assert client.get(page).status_code == 404
    assert client.get(page, params={"h": "0000000000"}).status_code == 404
    assert client.get(page, params={"h": VIMEO_UNLISTED_HASH}).status_code == 200
    loaded = consent(client, "once", f"{page}?h={VIMEO_UNLISTED_HASH}")
    assert f"?h={VIMEO_UNLISTED_HASH}&amp;dnt=1" in loaded.text
    assert consent(client, "once", f"{page}?h=0000000000").status_code == 400


def test_hash_for_a_public_video_is_404(client: TestClient, video: Embed) -> None:
    assert client.get(PAGE, params={"h": "abcdef1234"}).status_code == 404


def test_start_time_reaches_the_player_and_bad_ones_are_ignored(
    client: TestClient, video: Embed
) -> None:
    assert "#t=90s" in consent(client, "once", f"{PAGE}?t=1m30s").text
    page = client.get(PAGE, params={"t": "<script>"})
    assert page.status_code == 200
    assert "script&gt;" not in page.text and "<script>" not in page.text


@pytest.mark.parametrize(
    ("params", "headers", "lang"),
    [
        ({}, {}, "de"),
        ({"lang": "en"}, {}, "en"),
        ({"lang": "xx"}, {}, "de"),
        ({}, {"accept-language": "en-GB,en;q=0.9"}, "en"),
        ({}, {"accept-language": "fr;q=1, de;q=0.2, en;q=0.5"}, "en"),
        ({}, {"accept-language": "en;q=0"}, "de"),
        ({}, {"accept-language": "x" * 5000}, "de"),
        ({}, {"accept-language": "';DROP TABLE"}, "de"),
    ],
)
def test_language(
    client: TestClient, video: Embed, params: dict[str, str], headers: dict[str, str], lang: str
) -> None:
    response = client.get(PAGE, params=params, headers=headers)
    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.text


def test_hostile_titles_are_escaped(client: TestClient, stored_embed: Callable[..., Embed]) -> None:
    stored_embed("vimeo:55555555", title='<script>alert("x")</script>', author="<b>x</b>")
    text = client.get("/vimeo/55555555").text
    assert "<script>alert" not in text
    assert "&lt;script&gt;" in text
    assert "<b>x</b>" not in text


def test_consent_overview(client: TestClient, video: Embed) -> None:
    page = client.get("/consent")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    consent(client, "always")
    page = client.get("/consent")
    assert 'name="provider" value="vimeo"' in page.text


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_broken_storage(client: TestClient, services: Services) -> None:
    services.store.close()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "reason": "database cannot be written"}


def test_static_files_are_immutable(client: TestClient, services: Services) -> None:
    url = services.assets.url("embedguard.css")
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/nope.css").status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_oversized_body_on_any_visitor_route_is_413(
    client: TestClient, video: Embed, method: str
) -> None:
    response = client.request(method, PAGE, content=b"x" * 70_000)
    assert response.status_code == 413


def test_configured_framing_origins_keep_self_last(
    settings: Any, services: Services, video: Embed
) -> None:
    from dataclasses import replace

    from embedguard.app import create_app

    framed = replace(settings, frame_ancestors=("https://www.example.de", "https://example.de"))
    services.settings = framed
    services.live = LiveSettings(framed, services.store, services.pages)
    with TestClient(create_app(framed, services)) as client:
        policy = client.get(PAGE).headers["content-security-policy"]
    assert "frame-ancestors https://www.example.de https://example.de 'self'" in policy


def test_admin_notice_text_and_description_reach_the_placeholder(
    client: TestClient, stored_embed: Callable[..., Embed], services: Services
) -> None:
    from embedguard.notices import notice_key

    stored_embed(f"vimeo:{VIMEO_OK}", description_override="Ein Film über <Fachkräfte>.")
    services.store.set_setting(
        notice_key("vimeo"), {"de": "Auch im Rathaus zu sehen.", "en": "Also at the town hall."}
    )
    german = client.get(PAGE).text
    assert "Auch im Rathaus zu sehen." in german
    assert "Ein Film über &lt;Fachkräfte&gt;." in german
    assert "Also at the town hall." in client.get(PAGE, params={"lang": "en"}).text


def test_cookie_attributes_are_spelled_as_designed(client: TestClient, video: Embed) -> None:
    cookie = consent(client, "always").headers["set-cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Path=/" in cookie


def test_wildcard_framing_origin_may_post(settings: Any, services: Services, video: Embed) -> None:
    from dataclasses import replace

    from embedguard.app import create_app

    framed = replace(settings, frame_ancestors=("https://*.example.de",))
    services.settings = framed
    services.live = LiveSettings(framed, services.store, services.pages)
    with TestClient(create_app(framed, services), follow_redirects=False) as client:
        data = {"provider": "vimeo", "scope": "always", "next": PAGE}
        ok = client.post("/consent", data=data, headers={"origin": "https://www.example.de"})
        refused = client.post("/consent", data=data, headers={"origin": "https://example.de.evil"})
    assert ok.status_code == 303
    assert refused.status_code == 403


def test_a_413_carries_the_security_headers(client: TestClient, video: Embed) -> None:
    response = client.post("/consent", content=b"x" * 70_000, headers=SAME_ORIGIN)
    assert response.status_code == 413
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_trailing_slash_is_not_redirected(client: TestClient, video: Embed) -> None:
    response = client.get(f"{PAGE}/", headers={"host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers


def test_signed_cookie_with_a_malformed_provider_list(
    client: TestClient, video: Embed, services: Services
) -> None:
    import time

    value = services.signer.sign(
        {"p": [["vimeo"], 3], "v": 1, "t": int(time.time())}, namespace="consent"
    )
    client.cookies.set(COOKIE_NAME, value)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "player.vimeo.com" not in response.text


def test_locked_storage_is_a_503_page_not_a_500(
    client: TestClient, video: Embed, services: Services
) -> None:
    from .test_admin_support import login_token

    form = {"username": "anna", "password": "wrong-password", "csrf_token": login_token(client)}
    _sqlite(services).execute("PRAGMA query_only = 1")
    try:
        response = client.post("/admin/login", data=form)
    finally:
        _sqlite(services).execute("PRAGMA query_only = 0")
    assert response.status_code == 503
    assert "<html" in response.text


def test_failing_usage_writes_do_not_take_the_service_down(
    app: Any, video: Embed, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import embedguard.app

    monkeypatch.setattr(embedguard.app, "USAGE_FLUSH_SECONDS", 0.05)
    with TestClient(app) as client:
        _sqlite(services).execute("PRAGMA query_only = 1")
        try:
            client.get(PAGE)
            time.sleep(0.3)  # several flushes fail meanwhile
            assert client.get(PAGE).status_code == 200
        finally:
            _sqlite(services).execute("PRAGMA query_only = 0")
        time.sleep(0.3)
        views = [row["count"] for row in services.store.usage() if row["event"] == "view"]
    assert views == [2]


def test_a_signed_once_url_loads_nothing(
    client: TestClient, video: Embed, services: Services
) -> None:
    # Before, "once" redirected to PAGE?consent=TOKEN, and that URL loaded the player for
    # anyone who opened it (a link from another site, a replay, after "revoke all").
    token = services.signer.sign({"p": "vimeo", "e": video.key}, namespace="once")
    for _ in range(2):
        response = client.get(PAGE, params={"consent": token})
        assert response.status_code == 200
        assert "player.vimeo.com" not in response.text


def _sqlite(services: Services) -> sqlite3.Connection:
    """The raw SQLite connection under the store, to make it read-only for a moment."""
    database = services.store._db
    assert isinstance(database, SQLiteDatabase)
    return database.connection
