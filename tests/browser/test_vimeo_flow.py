"""The Vimeo two-click flow in a real browser, JavaScript on and off.

Every request of every frame is recorded and anything not on loopback is aborted, so
"no request leaves embedguard's origin" is checked against what Chromium actually tried.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from embedguard.app import create_app
from embedguard.consent import COOKIE_NAME
from embedguard.settings import Settings

from ..conftest import TEST_KEYS
from ..fake_upstream import VIMEO_OK, VIMEO_OK_2
from ..helpers import seed_embeds
from ..servers import run_asgi_in_thread, upstream_map_for
from .harness import ContextFactory, RequestLog, origin_of

pytestmark = pytest.mark.browser

PLAYER = "https://player.vimeo.com/video/"
JS_MODES = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
# Not in any template: only the injected elements of the CSP test can ask for them.
INJECTED_IMG = "https://i.vimeocdn.com/x.jpg"
INJECTED_FRAME = "https://player.vimeo.com/video/1"


@dataclass(frozen=True)
class Site:
    base: str  # embedguard, e.g. http://127.0.0.1:PORT
    host: str  # the framing host page's origin, http://localhost:OTHERPORT

    def video(self, video_id: int) -> str:
        return f"{self.base}/vimeo/{video_id}"


async def _host_page(request: Request) -> HTMLResponse:
    target = html.escape(request.app.state.target)
    return HTMLResponse(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Landkreis</title>'
        f'</head><body><h1>Wirtschaft</h1><iframe src="{target}" title="Video" '
        'width="640" height="480"></iframe></body></html>'
    )


def _seed(settings: Settings) -> None:
    """Allow both videos through the allowlist, so their posters are real re-encoded files."""
    urls = [f"https://vimeo.com/{video_id}" for video_id in (VIMEO_OK, VIMEO_OK_2)]
    for result in seed_embeds(settings, urls):
        assert result.warnings == [], result.warnings
        assert result.embed.poster, "expected a real poster"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[Site]:
    host_app = Starlette(routes=[Route("/", _host_page)])
    with run_asgi_in_thread(host_app) as host_base:
        # Same machine, other origin (and other site): localhost vs 127.0.0.1.
        host = host_base.replace("127.0.0.1", "localhost")
        settings = Settings(
            secret_keys=TEST_KEYS,
            data_dir=Path(tmp_path_factory.mktemp("vimeo-flow")) / "data",
            upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
            frame_ancestors=("'self'", host),
        )
        _seed(settings)
        with run_asgi_in_thread(create_app(settings)) as base:
            host_app.state.target = f"{base}/vimeo/{VIMEO_OK}"
            yield Site(base=base, host=host)


@dataclass
class Tab:
    context: BrowserContext
    page: Page
    log: RequestLog
    statuses: dict[str, int]

    def goto(self, url: str, *, settle: bool = True) -> None:
        """`settle`: also wait until the network is quiet, so late requests are logged."""
        self.page.goto(url, wait_until="networkidle" if settle else "load")

    def click(self, button: Locator, *, settle: bool = True) -> None:
        button.click()
        self.page.wait_for_load_state("networkidle" if settle else "load")

    def player_requests(self, video_id: int | None = None) -> list[str]:
        prefix = PLAYER if video_id is None else f"{PLAYER}{video_id}?"
        return [url for url in self.log.network_urls() if url.startswith(prefix)]


def open_tab(context_factory: ContextFactory, js: bool, **options: bool) -> Tab:
    context = context_factory(java_script_enabled=js, **options)
    log = RequestLog.attach(context)
    statuses: dict[str, int] = {}

    def on_response(response: Response) -> None:
        statuses[response.url] = response.status

    context.on("response", on_response)
    return Tab(context, context.new_page(), log, statuses)


def once_button(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile("Vimeo")).and_(
        page.locator("button[value=once]")
    )


def always_button(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile("Vimeo")).and_(
        page.locator("button[value=always]")
    )


def assert_placeholder(tab: Tab, video_id: int) -> None:
    assert urlsplit(tab.page.url).path == f"/vimeo/{video_id}"
    assert once_button(tab.page).count() == 1
    assert always_button(tab.page).count() == 1
    assert tab.page.locator("iframe").count() == 0
    assert tab.player_requests() == [], tab.player_requests()
    assert tab.log.foreign(tab.page.url) == []


def assert_player_requested(tab: Tab, video_id: int) -> None:
    requests = tab.player_requests(video_id)
    assert requests, f"no player request for {video_id}: {tab.log.network_urls()}"
    assert set(requests) <= set(tab.log.blocked()), "the fence should have aborted it"
    assert parse_qs(urlsplit(requests[0]).query).get("dnt") == ["1"]
    frame = tab.page.locator("iframe")
    assert frame.count() == 1
    assert "autoplay" in (frame.get_attribute("allow") or "")
    assert frame.get_attribute("referrerpolicy") == "strict-origin-when-cross-origin"


def posters_loaded(tab: Tab, origin: str) -> list[str]:
    return [
        url
        for url, status in tab.statuses.items()
        if url.startswith(f"{origin}/posters/") and status == 200
    ]


# --- a) before consent -----------------------------------------------------------------


@JS_MODES
def test_placeholder_contacts_only_embedguard(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(site.video(VIMEO_OK))
    assert_placeholder(tab, VIMEO_OK)
    assert tab.log.foreign(site.base) == []
    assert posters_loaded(tab, site.base), tab.statuses
    assert tab.context.cookies() == []


@JS_MODES
def test_framed_placeholder_contacts_only_embedguard(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(f"{site.host}/")
    frame = tab.page.frame_locator("iframe")
    assert frame.locator("button[value=once]").count() == 1, "the frame did not render"
    leaving = [url for url in tab.log.foreign(site.base) if origin_of(url) != site.host]
    assert leaving == []
    assert f"{site.host}/" in tab.log.answered
    assert posters_loaded(tab, site.base), tab.statuses
    assert tab.context.cookies() == []


# --- b) load once ----------------------------------------------------------------------


@JS_MODES
def test_load_once_requests_player_without_cookie(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(site.video(VIMEO_OK), settle=False)
    tab.log.clear()
    tab.click(once_button(tab.page), settle=False)
    assert tab.page.url == f"{site.base}/consent", "the POST answers with the player"
    assert_player_requested(tab, VIMEO_OK)
    assert tab.context.cookies() == []

    tab.log.clear()
    tab.goto(site.video(VIMEO_OK_2))
    assert_placeholder(tab, VIMEO_OK_2)
    assert tab.context.cookies() == []


# --- c) always, and stopping it from the loaded embed ------------------------------------


@JS_MODES
def test_always_loads_other_videos_until_stopped(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(site.video(VIMEO_OK), settle=False)
    tab.click(always_button(tab.page), settle=False)
    cookies = tab.context.cookies()
    assert [c["name"] for c in cookies] == [COOKIE_NAME]
    assert cookies[0]["httpOnly"] is True
    assert cookies[0]["sameSite"] == "Lax"

    tab.log.clear()
    tab.goto(site.video(VIMEO_OK_2), settle=False)
    assert_player_requested(tab, VIMEO_OK_2)
    assert once_button(tab.page).count() == 0

    stop = tab.page.get_by_role("button", name=re.compile("Vimeo"))
    assert stop.count() == 1
    assert tab.page.locator("form[action='/consent/revoke']").count() == 1
    tab.click(stop, settle=False)
    assert tab.context.cookies() == []
    tab.log.clear()
    tab.page.reload(wait_until="networkidle")
    assert_placeholder(tab, VIMEO_OK_2)


# --- d) revoking on /consent -------------------------------------------------------------


@JS_MODES
def test_revoke_on_consent_page(site: Site, context_factory: ContextFactory, js: bool) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(site.video(VIMEO_OK), settle=False)
    tab.click(always_button(tab.page), settle=False)
    assert tab.context.cookies() != []

    tab.goto(f"{site.base}/consent", settle=False)
    tab.click(tab.page.get_by_role("button", name=re.compile("Vimeo")), settle=False)
    assert tab.context.cookies() == []
    tab.log.clear()
    tab.goto(site.video(VIMEO_OK))
    assert_placeholder(tab, VIMEO_OK)


# --- e) the CSP, not only the template, keeps a placeholder from leaking -----------------

# No promise, no event handler: with JavaScript off only this evaluate runs, and timers
# and onerror callbacks never fire.
_INJECT = """([img, frame]) => {
    const image = document.createElement("img");
    image.src = img;
    const iframe = document.createElement("iframe");
    iframe.src = frame;
    document.body.append(image, iframe);
}"""


def inject(tab: Tab) -> None:
    """Add the image and frame; return once the image request has failed."""
    with tab.page.expect_event(
        "requestfailed", predicate=lambda request: request.url == INJECTED_IMG, timeout=5000
    ):
        tab.page.evaluate(_INJECT, [INJECTED_IMG, INJECTED_FRAME])
    tab.page.wait_for_timeout(300)  # time for the frame to (not) navigate


@JS_MODES
def test_csp_refuses_injected_third_party_loads(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    tab = open_tab(context_factory, js)
    tab.goto(site.video(VIMEO_OK), settle=False)
    inject(tab)
    assert tab.log.failures.get(INJECTED_IMG) == "csp"
    # A frame refused by frame-src never becomes a network request at all.
    assert INJECTED_FRAME not in tab.log.urls
    assert tab.log.blocked() == [], "the CSP, not the loopback fence, must stop them"
    assert not {INJECTED_IMG, INJECTED_FRAME} & set(tab.log.answered)
    assert not [f.url for f in tab.page.frames if f.url.startswith("https://")]


@JS_MODES
def test_csp_check_can_fail_without_the_csp(
    site: Site, context_factory: ContextFactory, js: bool
) -> None:
    """The control for the test above: with CSP bypassed, the same injection does reach out
    (and only the fence stops it), so a missing CSP would turn that test red."""
    tab = open_tab(context_factory, js, bypass_csp=True)
    tab.goto(site.video(VIMEO_OK), settle=False)
    inject(tab)
    assert {INJECTED_IMG, INJECTED_FRAME} <= set(tab.log.blocked())
