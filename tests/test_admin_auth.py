"""Admin login, sessions, throttling and CSRF, over HTTP."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie

import pytest
from starlette.testclient import TestClient

from embedguard import auth, login_throttle
from embedguard.services import Services
from embedguard.store import Embed
from embedguard.users import set_password

from .test_admin_support import (
    PASSWORD,
    USER,
    FakeClock,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    csrf_from,
    fast_hashing,  # noqa: F401
    log_in,
    login_token,
    token_for,
)

KEY = "vimeo:76979871"
GET_ROUTES = [
    "/admin/",
    "/admin/embeds/add",
    f"/admin/embeds/{KEY}",
    f"/admin/embeds/{KEY}/remove",
    "/admin/settings",
    "/admin/texts",
    "/admin/usage",
    "/admin/audit",
]
POST_ROUTES = [
    "/admin/logout",
    "/admin/embeds/add",
    f"/admin/embeds/{KEY}/remove",
    f"/admin/embeds/{KEY}/enable",
    f"/admin/embeds/{KEY}/disable",
    f"/admin/embeds/{KEY}/refresh",
    f"/admin/embeds/{KEY}/edit",
    "/admin/settings",
    "/admin/settings/ask-again",
    "/admin/texts/notices",
    "/admin/texts/privacy",
]
# Forms that would change something if the CSRF check were missing.
CHANGING_POSTS = {
    f"/admin/embeds/{KEY}/remove": {},
    f"/admin/embeds/{KEY}/disable": {},
    f"/admin/embeds/{KEY}/edit": {"revision": "1", "title": "Hijacked", "description": ""},
    "/admin/settings": {"consent_days": "7", "frame_ancestors": "https://evil.example"},
    "/admin/settings/ask-again": {},
    "/admin/texts/notices": {"notice.vimeo.de": "Gekapert", "do": "save"},
    "/admin/embeds/add": {"url": "https://vimeo.com/76979872", "step": "confirm"},
}


def _cookie(response_header: str) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response_header)
    return cookie


def _failed_login(
    client: TestClient, name: str = USER, password: str = "falsch-falsch-falsch"
) -> int:
    data = {"username": name, "password": password, "csrf_token": login_token(client)}
    return client.post("/admin/login", data=data).status_code


# -- unauthenticated ----------------------------------------------------------------------


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_admin_page_sends_strangers_to_the_login(
    client: TestClient, stored_embed: Callable[..., Embed], path: str
) -> None:
    stored_embed(KEY)
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=/admin/")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_admin_action_sends_strangers_to_the_login_and_changes_nothing(
    client: TestClient, services: Services, stored_embed: Callable[..., Embed], path: str
) -> None:
    stored_embed(KEY)
    before = (services.store.list_embeds(), services.store.all_settings())
    audit_before = services.store.audit_log()
    response = client.post(path, data=CHANGING_POSTS.get(path, {}))
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/"
    assert (services.store.list_embeds(), services.store.all_settings()) == before
    assert services.store.audit_log() == audit_before


def test_bare_admin_path_leads_to_the_admin(client: TestClient) -> None:
    response = client.get("/admin")
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"].endswith("/admin/")


# -- logging in and out -------------------------------------------------------------------


def test_login_page_is_german_first_never_framed_and_sets_a_strict_cookie(
    client: TestClient,
) -> None:
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    cookie = _cookie(response.headers["set-cookie"])[auth.SESSION_COOKIE]
    assert cookie["path"] == "/admin"
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert not cookie["secure"]  # plain-HTTP local use
    assert "English" in response.text


def test_session_cookie_is_secure_over_https(app: object) -> None:
    with TestClient(app, base_url="https://testserver") as https_client:  # type: ignore[arg-type]
        response = https_client.get("/admin/login")
    assert _cookie(response.headers["set-cookie"])[auth.SESSION_COOKIE]["secure"] is True


def test_login_with_right_password_opens_the_admin_and_is_audited(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    log_in(client)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert USER in page.text
    assert services.store.audit_log(action="user.login")[0]["actor"] == USER


def test_login_redirects_to_the_page_asked_for_but_never_off_the_admin(
    client: TestClient, account: str, clock: FakeClock
) -> None:
    for wanted, expected in (
        ("/admin/settings", "/admin/settings"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("/consent", "/admin/"),
    ):
        client.cookies.clear()
        page = client.get("/admin/login", params={"next": wanted})
        response = client.post(
            "/admin/login",
            data={
                "username": USER,
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
                "next": wanted,
            },
        )
        assert response.headers["location"] == expected


@pytest.mark.parametrize(
    ("name", "password"),
    [(USER, "falsch-falsch-falsch"), ("niemand", PASSWORD), ("", ""), ("A" * 500, "x" * 5000)],
)
def test_wrong_credentials_are_refused_with_one_message(
    client: TestClient, account: str, clock: FakeClock, name: str, password: str
) -> None:
    data = {"username": name, "password": password, "csrf_token": login_token(client)}
    response = client.post("/admin/login", data=data)
    assert response.status_code == 401
    assert "Benutzername oder das Passwort ist falsch" in response.text
    assert client.get("/admin/").status_code == 303


def test_login_without_or_with_a_forged_csrf_token_is_refused(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    login_token(client)
    for token in (None, "forged", services.signer.sign("x", namespace="once")):
        data = {"username": USER, "password": PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        assert client.post("/admin/login", data=data).status_code == 403
    assert client.get("/admin/").status_code == 303


def test_logout_ends_the_session(admin: TestClient, services: Services) -> None:
    response = admin.post("/admin/logout", data={"csrf_token": token_for(admin)})
    assert response.status_code == 303
    assert admin.get("/admin/").status_code == 303
    assert services.store.audit_log(action="user.logout")[0]["actor"] == USER


def test_a_cookie_copied_before_logout_is_worthless(
    admin: TestClient, services: Services, clock: FakeClock
) -> None:
    copied = dict(admin.cookies)
    admin.post("/admin/logout", data={"csrf_token": token_for(admin)})
    clock.advance(5)
    admin.cookies.clear()
    for name, value in copied.items():
        admin.cookies.set(name, value, path="/admin")
    assert admin.get("/admin/").status_code == 303
    log_in(admin)
    assert admin.get("/admin/").status_code == 200, "a new login works at once"


def test_a_password_reset_ends_existing_sessions(admin: TestClient, services: Services) -> None:
    assert admin.get("/admin/").status_code == 200
    set_password(services.store, USER, "ein-ganz-neues-passwort")
    assert admin.get("/admin/").status_code == 303


# -- session expiry -----------------------------------------------------------------------


def test_session_expires_after_idle_time(admin: TestClient, clock: FakeClock) -> None:
    clock.advance(auth.IDLE_TIMEOUT - 120)
    assert admin.get("/admin/").status_code == 200  # activity keeps it alive
    clock.advance(auth.IDLE_TIMEOUT - 120)
    assert admin.get("/admin/").status_code == 200
    clock.advance(auth.IDLE_TIMEOUT + 1)
    response = admin.get("/admin/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


def test_session_expires_after_absolute_time_despite_activity(
    admin: TestClient, clock: FakeClock
) -> None:
    elapsed = 0
    while elapsed + auth.IDLE_TIMEOUT // 2 < auth.ABSOLUTE_TIMEOUT:
        clock.advance(auth.IDLE_TIMEOUT // 2)
        elapsed += auth.IDLE_TIMEOUT // 2
        assert admin.get("/admin/").status_code == 200
    clock.advance(auth.ABSOLUTE_TIMEOUT - elapsed)
    assert admin.get("/admin/").status_code == 303


def test_expired_session_cannot_post_either(
    admin: TestClient, services: Services, clock: FakeClock
) -> None:
    token = token_for(admin, "/admin/settings")
    clock.advance(auth.IDLE_TIMEOUT + 1)
    response = admin.post(
        "/admin/settings",
        data={"csrf_token": token, "consent_days": "9", "frame_ancestors": ""},
    )
    assert response.status_code == 303
    assert services.store.get_setting("consent_days") is None


# -- throttling ---------------------------------------------------------------------------


def test_five_failures_for_one_account_lock_it_for_fifteen_minutes(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    for _ in range(login_throttle.MAX_PAIR_FAILURES):
        assert _failed_login(client) == 401
    assert _failed_login(client) == 429
    # Even the right password waits: the lock must not reveal it.
    assert _failed_login(client, password=PASSWORD) == 429
    clock.advance(login_throttle.WINDOW - 5)
    assert _failed_login(client, password=PASSWORD) == 429
    clock.advance(10)
    log_in(client)


@pytest.mark.parametrize("name", ["Admin", "a@b.de", "ANNA "])
def test_names_that_cannot_exist_are_throttled_too(
    client: TestClient, services: Services, account: str, clock: FakeClock, name: str
) -> None:
    for _ in range(login_throttle.MAX_PAIR_FAILURES):
        assert _failed_login(client, name=name) == 401
    assert _failed_login(client, name=name) == 429


def test_account_lock_does_not_lock_other_accounts(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    set_password(services.store, "zweite", "noch-ein-langes-passwort")
    for _ in range(login_throttle.MAX_PAIR_FAILURES):
        _failed_login(client)
    assert _failed_login(client) == 429
    log_in(client, "zweite", "noch-ein-langes-passwort")


def test_many_failures_from_one_client_across_accounts_are_throttled(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    for i in range(login_throttle.MAX_CLIENT_FAILURES):
        assert _failed_login(client, name=f"rate{i}") == 401
    assert _failed_login(client, name="another") == 429
    assert _failed_login(client, password=PASSWORD) == 429
    clock.advance(login_throttle.WINDOW + 1)
    log_in(client)


def test_throttle_stores_no_client_address(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    _failed_login(client)
    rows = services.store._query("SELECT subject FROM login_failures")
    subjects = sorted(row["subject"] for row in rows)
    key = login_throttle.client_key(services.settings.secret_keys)
    own = login_throttle.client_subject("testclient", key)
    assert subjects == sorted(["global", own, f"user:{USER}", f"pair:user:{USER}|{own}"])
    assert own.startswith("client:")
    assert not any("testclient" in subject for subject in subjects)
    assert login_throttle.client_subject("127.0.0.1", key) != own


def test_success_clears_the_account_failures(
    client: TestClient, account: str, clock: FakeClock
) -> None:
    for _ in range(login_throttle.MAX_PAIR_FAILURES - 1):
        _failed_login(client)
    log_in(client)
    client.cookies.clear()
    for _ in range(login_throttle.MAX_PAIR_FAILURES - 1):
        assert _failed_login(client) == 401


# -- CSRF on every state change -----------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CHANGING_POSTS))
@pytest.mark.parametrize("token", ["missing", "wrong", "other-namespace", "other-session"])
def test_state_changes_need_a_valid_csrf_token(
    admin: TestClient,
    app: object,
    services: Services,
    stored_embed: Callable[..., Embed],
    path: str,
    token: str,
    upstream_requests: list[object],
) -> None:
    stored_embed(KEY)
    data = dict(CHANGING_POSTS[path])
    if token == "wrong":
        data["csrf_token"] = token_for(admin)[:-2] + "xx"
    elif token == "other-namespace":
        data["csrf_token"] = services.signer.sign(admin_csrf_secret(admin), namespace="once")
    elif token == "other-session":
        # No lifespan for this second client: it would close the shared services.
        data["csrf_token"] = login_token(TestClient(app))  # type: ignore[arg-type]
    before = (services.store.list_embeds(), services.store.all_settings())
    audit_before = services.store.audit_log()
    response = admin.post(path, data=data)
    assert response.status_code == 403
    assert (services.store.list_embeds(), services.store.all_settings()) == before
    assert services.store.audit_log() == audit_before
    assert upstream_requests == []


def admin_csrf_secret(client: TestClient) -> str:
    import base64
    import json

    raw = client.cookies[auth.SESSION_COOKIE].split(".")[0]
    data = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    return str(data["csrf"])
