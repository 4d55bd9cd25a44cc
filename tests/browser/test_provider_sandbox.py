"""X's widgets.js in Chromium runs in a sandboxed document with an opaque origin.

A compromised stand-in (served by the fake upstream in place of platform.x.com/widgets.js)
tries what a script in embedguard's own origin could do: post to /consent, read cookies and
storage, script an /admin window that an admin has open. All of it must fail, while a
well-behaved stand-in still renders its content and the frame is sized to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import BrowserContext, Frame, Page, Route
from starlette.applications import Starlette

from embedguard.app import create_app
from embedguard.consent import COOKIE_NAME, ConsentCodec
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.signing import Signer

from ..conftest import TEST_KEYS
from ..fake_upstream import (
    VIMEO_OK,
    WIDGETS_RENDERED_HEIGHT,
    WIDGETS_RENDERED_TEXT,
    X_HANDLE,
    X_POST_OK,
)
from ..helpers import seed_embeds
from ..servers import run_asgi_in_thread, upstream_map_for
from .harness import ContextFactory

pytestmark = pytest.mark.browser

USER, PASSWORD = "redaktion", "ein-langes-passwort"
TIMELINE = f"/twitter/{X_HANDLE}"
POST = f"/twitter/{X_HANDLE}/status/{X_POST_OK}"
WIDGETS = "https://platform.x.com/widgets.js"


@dataclass(frozen=True)
class Site:
    base: str
    upstream: str
    services: Services


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[Site]:
    settings = Settings(
        secret_keys=TEST_KEYS,
        data_dir=Path(tmp_path_factory.mktemp("sandbox")) / "data",
        upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
    )
    seed_embeds(
        settings,
        [
            f"https://x.com/{X_HANDLE}",
            f"https://x.com/{X_HANDLE}/status/{X_POST_OK}",
            f"https://vimeo.com/{VIMEO_OK}",
        ],
    )
    services = Services.build(settings)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    services.store.set_user(USER, hasher.hash(PASSWORD))
    with run_asgi_in_thread(create_app(settings, services)) as base:
        yield Site(base, fake_upstream[0], services)


def serve_widgets(context: BrowserContext, upstream: str, path: str) -> None:
    """platform.x.com/widgets.js, answered by the fake upstream's stand-in at ``path``."""

    def handle(route: Route) -> None:
        route.fulfill(response=route.fetch(url=f"{upstream}{path}"))

    context.route(WIDGETS, handle)  # registered after the fence, so it runs first


def page_with_widgets(context_factory: ContextFactory, site: Site, widgets_path: str) -> Page:
    """A fresh browser whose platform.x.com/widgets.js is the stand-in at ``widgets_path``."""
    context = context_factory()
    serve_widgets(context, site.upstream, widgets_path)
    return context.new_page()


def widget_frame(page: Page) -> Frame:
    page.locator("iframe.script-sandbox").wait_for(state="attached")
    for _ in range(100):
        frames = [f for f in page.frames if f.parent_frame is page.main_frame]
        if frames:
            return frames[0]
        page.wait_for_timeout(50)
    raise AssertionError("no widget frame")


def frame_holding(page: Page, selector: str) -> Frame:
    """The frame (the page itself included) where the widget script left ``selector``."""
    for _ in range(300):
        for frame in page.frames:
            if frame.locator(selector).count():
                return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no frame shows {selector}")


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login", wait_until="networkidle")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/**")


def consented_providers(context: BrowserContext, site: Site) -> frozenset[str]:
    codec = ConsentCodec(
        Signer(TEST_KEYS), lifetime_days=180, known_providers=frozenset({"vimeo", "twitter"})
    )
    value = next((c["value"] for c in context.cookies() if c["name"] == COOKIE_NAME), None)
    return codec.read_cookie(value, site.services.live.policy_version()).providers


def test_a_hostile_widgets_js_gets_nothing_of_embedguard(
    site: Site, context_factory: ContextFactory
) -> None:
    page = page_with_widgets(context_factory, site, "/hostile/widgets.js")
    context = page.context
    log_in(page, site.base)
    consent_posts: list[int] = []
    context.on(
        "response",
        lambda r: (
            consent_posts.append(r.status)
            if r.url.endswith("/consent") and r.request.method == "POST"
            else None
        ),
    )
    page.goto(f"{site.base}{TIMELINE}", wait_until="networkidle")
    page.locator("button[value=always]").click()
    page.wait_for_load_state("networkidle")
    assert consented_providers(context, site) == {"twitter"}
    consent_posts.clear()

    frame = frame_holding(page, "#hostile-report")
    report = json.loads(frame.locator("#hostile-report").inner_text())
    assert report == {
        "cookie": "blocked",
        "localStorage": "blocked",
        "sessionStorage": "blocked",
        "parent": "blocked",
        "fetch-cors": "blocked",
        "fetch-no-cors": "blocked",
        "admin-popup": "blocked",
    }
    # Had a post got out, it would carry "Origin: null", which /consent refuses (403).
    assert set(consent_posts) <= {403}, consent_posts
    assert consented_providers(context, site) == {"twitter"}, "no Vimeo consent slipped in"
    # The outer page is embedguard's own and still offers the one-click stop.
    assert page.locator("form[action='/consent/revoke'] button").count() == 1


@pytest.mark.parametrize("path", [TIMELINE, POST])
def test_a_well_behaved_widgets_js_renders_and_the_frame_fits(
    site: Site, context_factory: ContextFactory, path: str
) -> None:
    page = page_with_widgets(context_factory, site, "/widgets.js")
    page.goto(f"{site.base}{path}", wait_until="networkidle")
    page.locator("button[value=once]").click()
    page.wait_for_load_state("networkidle")
    frame = widget_frame(page)
    frame.get_by_text(WIDGETS_RENDERED_TEXT).wait_for()
    assert frame.evaluate("() => self.origin") == "null", "an opaque origin"
    element = page.locator("iframe.script-sandbox")
    page.wait_for_function(
        "(h) => document.querySelector('iframe.script-sandbox').offsetHeight >= h",
        arg=WIDGETS_RENDERED_HEIGHT,
    )
    assert element.evaluate("(f) => f.offsetHeight") < WIDGETS_RENDERED_HEIGHT + 200
    # When the widget gets smaller, so does the frame.
    frame.evaluate("() => { document.querySelector('.stand-in-widget').style.height = '200px'; }")
    page.wait_for_function(
        "() => document.querySelector('iframe.script-sandbox').offsetHeight < 400"
    )


def test_the_frame_is_sized_when_its_content_reports_before_the_page_listens(
    site: Site, context_factory: ContextFactory
) -> None:
    """The page's deferred sizing script may run after the frame has already reported."""
    page = page_with_widgets(context_factory, site, "/widgets.js")
    page.goto(f"{site.base}{POST}", wait_until="networkidle")
    held: list[Route] = []

    def hold_the_outer_copy(route: Route) -> None:
        if route.request.frame == page.main_frame:
            held.append(route)  # answered below, once the frame has reported its size
        else:
            route.fallback()

    page.context.route("**/static/sandboxed.js*", hold_the_outer_copy)
    page.locator("button[value=once]").click()
    frame = widget_frame(page)
    frame.get_by_text(WIDGETS_RENDERED_TEXT).wait_for()
    page.wait_for_timeout(300)  # the frame's first report has gone out, to no listener
    assert held, "the page's own copy of the sizing script was held back"
    for route in held:
        route.fallback()
    page.wait_for_function(
        "(h) => document.querySelector('iframe.script-sandbox').offsetHeight >= h",
        arg=WIDGETS_RENDERED_HEIGHT,
        timeout=10_000,
    )


def test_admin_pages_sever_their_opener(site: Site, context_factory: ContextFactory) -> None:
    page = context_factory().new_page()
    response = page.goto(f"{site.base}/admin/login")
    assert response is not None
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
