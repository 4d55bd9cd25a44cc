"""A logged-in admin's own visits to embed pages are not counted (staff.py), over HTTP:
the cookie login sets, what it skips, and every way it stops counting as an admin's."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from http.cookies import SimpleCookie

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import auth, staff
from embedguard.app import create_app
from embedguard.consent import COOKIE_NAME as CONSENT_COOKIE
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.signing import Signer
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
    token_for,
)

VIDEO, PAGE = "vimeo:76979871", "facebook:wirtschaft.in.mittelsachsen"
VIDEO_PATH, PAGE_PATH = "/vimeo/76979871", "/facebook/wirtschaft.in.mittelsachsen"


@pytest.fixture
def items(stored_embed: Callable[..., Embed]) -> None:
    stored_embed(VIDEO)
    stored_embed(PAGE, title="Wirtschaft in Mittelsachsen")


@pytest.fixture
def visitor(app: Starlette) -> TestClient:
    # No lifespan for this second client: it would close the shared services.
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def counts(services: Services) -> dict[tuple[str, str, str], int]:
    services.usage.flush()
    return {(r["provider"], r["embed_key"], r["event"]): r["count"] for r in services.store.usage()}


def browse(client: TestClient) -> None:
    """A visitor's whole round: views, load once, always (and the loaded page), revoke."""
    for path, provider in ((VIDEO_PATH, "vimeo"), (PAGE_PATH, "facebook")):
        assert client.get(path).status_code == 200
        once = {"provider": provider, "scope": "once", "next": path}
        assert client.post("/consent", data=once).status_code == 200
        always = client.post("/consent", data={**once, "scope": "always"})
        assert always.status_code == 303
        assert client.get(always.headers["location"]).status_code == 200
        revoked = client.post("/consent/revoke", data={"provider": provider, "next": path})
        assert revoked.status_code == 303


# What browse() counts for a visitor.
VISITOR_COUNTS = {
    (provider, key, event): 1
    for provider, key in (("vimeo", VIDEO), ("facebook", PAGE))
    for event in ("view", "load_once", "load_always", "revoke")
}


def log_out(client: TestClient) -> None:
    response = client.post("/admin/logout", data={"csrf_token": token_for(client)})
    assert response.status_code == 303


def staff_cookie(client: TestClient) -> str:
    value = client.cookies.get(staff.COOKIE_NAME)
    assert value
    return value


def parsed(set_cookie_headers: list[str]) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in set_cookie_headers:
        cookie.load(header)
    return cookie


# -- the cookie ----------------------------------------------------------------------------


def test_login_marks_the_browser_on_every_path(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    page = client.get("/admin/login")
    data = {"username": USER, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    response = client.post("/admin/login", data=data)
    assert response.status_code == 303
    cookies = parsed(response.headers.get_list("set-cookie"))
    marker = cookies[staff.COOKIE_NAME]
    assert marker["path"] == "/"
    assert marker["httponly"] is True
    assert marker["samesite"].lower() == "strict"
    assert not marker["secure"]  # plain-HTTP local use, as the session cookie
    assert 0 < int(marker["max-age"]) <= auth.ABSOLUTE_TIMEOUT
    # Nothing but what the session cookie holds too: the account, login time, fingerprint.
    claims = services.signer.unsign(marker.value, namespace=staff.NAMESPACE)
    assert claims == [USER, clock.now, admin_session(client)["pw"]]


def admin_session(client: TestClient) -> dict[str, object]:
    import base64
    import json

    raw = client.cookies[auth.SESSION_COOKIE].split(".")[0]
    data: dict[str, object] = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    return data


def _login_over(app: Starlette, base_url: str) -> SimpleCookie:
    """Log in, sending the session cookie by hand (httpx keeps Secure cookies off http)."""
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        page = client.get("/admin/login")
        session = parsed(page.headers.get_list("set-cookie"))[auth.SESSION_COOKIE].value
        data = {"username": USER, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
        cookie = {"cookie": f"{auth.SESSION_COOKIE}={session}"}
        response = client.post("/admin/login", data=data, headers=cookie)
        assert response.status_code == 303, response.text
        return parsed(response.headers.get_list("set-cookie"))


@pytest.mark.parametrize(
    ("base_url", "public_url"),
    [("https://testserver", ""), ("http://testserver", "https://einbettung.example")],
)
def test_marker_is_secure_whenever_the_session_cookie_is(
    settings: Settings, fast_hashing: None, base_url: str, public_url: str
) -> None:
    configured = replace(settings, public_url=public_url)
    services = Services.build(configured)
    set_password(services.store, USER, PASSWORD)
    cookies = _login_over(create_app(configured, services), base_url)
    assert cookies[auth.SESSION_COOKIE]["secure"] is True
    assert cookies[staff.COOKIE_NAME]["secure"] is True


def test_logout_deletes_the_marker(admin: TestClient) -> None:
    response = admin.post("/admin/logout", data={"csrf_token": token_for(admin)})
    marker = parsed(response.headers.get_list("set-cookie"))[staff.COOKIE_NAME]
    assert marker["path"] == "/" and marker["max-age"] == "0"
    assert staff.COOKIE_NAME not in admin.cookies


# -- what it skips -------------------------------------------------------------------------


def test_an_admins_browser_is_not_counted(
    admin: TestClient, services: Services, items: None
) -> None:
    """Views, load once, always and revoke on the plain embed pages, no preview marker."""
    browse(admin)
    assert counts(services) == {}
    assert services.metrics.events == {}
    assert b"embedguard_usage_events_total{" not in services.metrics.render()


def test_a_visitor_is_counted(visitor: TestClient, services: Services, items: None) -> None:
    browse(visitor)
    assert counts(services) == VISITOR_COUNTS
    assert services.metrics.events[("vimeo", "view")] == 1


def test_the_admin_gets_the_visitors_pages(
    admin: TestClient, visitor: TestClient, items: None
) -> None:
    for path in (VIDEO_PATH, PAGE_PATH, f"{VIDEO_PATH}?lang=en&t=90"):
        mine, theirs = admin.get(path), visitor.get(path)
        assert mine.status_code == theirs.status_code == 200
        assert mine.content == theirs.content
        assert staff.COOKIE_NAME not in mine.headers.get("set-cookie", "")
    data = {"provider": "vimeo", "scope": "once", "next": VIDEO_PATH}
    assert admin.post("/consent", data=data).content == visitor.post("/consent", data=data).content


def test_a_revalidation_from_the_admins_browser_is_not_counted(
    admin: TestClient, services: Services, items: None
) -> None:
    etag = admin.get(VIDEO_PATH).headers["etag"]
    assert admin.get(VIDEO_PATH, headers={"if-none-match": etag}).status_code == 304
    assert counts(services) == {}


# -- when it no longer counts as an admin's --------------------------------------------------


def forged_markers(services: Services, marker: str) -> dict[str, str]:
    other_key = Signer(("another-deployments-key-0123456789abcdef",))
    claims = [USER, services.clock(), auth.password_fingerprint("x")]
    return {
        "garbage": "forged",
        "tampered": marker[:-2] + ("AA" if not marker.endswith("AA") else "BB"),
        "foreign key": other_key.sign([USER, services.clock(), "0" * 16], namespace="staff"),
        "other namespace": services.signer.sign(claims, namespace="consent"),
        "wrong fingerprint": services.signer.sign(claims, namespace=staff.NAMESPACE),
        "no such account": services.signer.sign(
            ["niemand", services.clock(), "0" * 16], namespace=staff.NAMESPACE
        ),
        "wrong shape": services.signer.sign({"user": USER}, namespace=staff.NAMESPACE),
        "name not a string": services.signer.sign(
            [1, services.clock(), "0" * 16], namespace=staff.NAMESPACE
        ),
        "login time a bool": services.signer.sign(
            [USER, True, "0" * 16], namespace=staff.NAMESPACE
        ),
        "huge": "x" * 5000,
    }


def test_forged_markers_count_as_visitors_and_never_fail(
    admin: TestClient, app: Starlette, services: Services, items: None
) -> None:
    forged = forged_markers(services, staff_cookie(admin))
    for rounds, (name, value) in enumerate(forged.items(), start=1):
        client = TestClient(app, follow_redirects=False)
        client.cookies.set(staff.COOKIE_NAME, value)
        browse(client)  # every answer as a visitor's, never a 4xx or 5xx
        expected = {event: rounds for event in VISITOR_COUNTS}
        assert counts(services) == expected, name


def test_after_logout_the_browser_counts_again(
    admin: TestClient, app: Starlette, services: Services, items: None, clock: FakeClock
) -> None:
    copied = staff_cookie(admin)
    log_out(admin)
    clock.advance(5)
    browse(admin)
    assert counts(services) == VISITOR_COUNTS
    # A copy kept from before the logout is worthless too.
    copy = TestClient(app, follow_redirects=False)
    copy.cookies.set(staff.COOKIE_NAME, copied)
    copy.get(VIDEO_PATH)
    assert counts(services)[("vimeo", VIDEO, "view")] == 2


def test_a_logout_elsewhere_cuts_off_every_browser_of_the_account(
    admin: TestClient, app: Starlette, services: Services, items: None, clock: FakeClock
) -> None:
    other = TestClient(app, follow_redirects=False)
    log_in(other)
    clock.advance(5)
    log_out(other)
    clock.advance(5)
    browse(admin)
    assert counts(services) == VISITOR_COUNTS


def test_a_new_login_after_a_cut_off_marks_the_browser_again(
    admin: TestClient, services: Services, items: None, clock: FakeClock
) -> None:
    log_out(admin)
    clock.advance(5)
    log_in(admin)
    browse(admin)
    assert counts(services) == {}


def test_a_password_reset_ends_the_marker(
    admin: TestClient, services: Services, items: None
) -> None:
    set_password(services.store, USER, "ein-ganz-neues-passwort")
    browse(admin)
    assert counts(services) == VISITOR_COUNTS


def test_the_marker_ends_with_the_sessions_lifetime(
    admin: TestClient, services: Services, items: None, clock: FakeClock
) -> None:
    clock.advance(auth.ABSOLUTE_TIMEOUT - 60)
    admin.get(VIDEO_PATH)
    assert counts(services) == {}
    clock.advance(60)
    browse(admin)
    assert counts(services) == VISITOR_COUNTS


def test_the_consent_cookie_is_no_marker(
    visitor: TestClient, services: Services, items: None
) -> None:
    """A visitor's own signed cookie, copied under the marker's name, is a visitor's."""
    data = {"provider": "vimeo", "scope": "always", "next": VIDEO_PATH}
    consent = visitor.post("/consent", data=data).cookies[CONSENT_COOKIE]
    visitor.cookies.set(staff.COOKIE_NAME, consent)
    assert visitor.get(PAGE_PATH).status_code == 200
    assert counts(services)[("facebook", PAGE, "view")] == 1


def test_privacy_page_tells_about_the_cookie(visitor: TestClient) -> None:
    german = visitor.get("/privacy").text
    assert "Aufrufe unserer Redaktion werden nicht mitgezählt" in german
    assert "spätestens nach 8 Stunden" in german
    english = visitor.get("/privacy?lang=en").text
    assert "after 8 hours at the latest" in english
