"""Several embedguard frames on one host page, as the county's articles have them.

- "Always" in one frame loads every other frame of that provider within a second; revoking
  in one frame turns them all back into placeholders (JavaScript on). Without JavaScript the
  others follow on the next page view.
- A loaded video fills its frame exactly; our controls lie over it.
- A provider that does not answer gets our own message, not an empty frame.
- An embed that may not be shown is a small 404 tile that fits the frame.
- The host page does not jump: cumulative layout shift through load, consent and loading
  stays within 0.05 (Layout Instability API).

The host page runs on 127.0.0.1 on another port: another origin, but the same site, as a
subdomain deployment would be (so the "always" cookie sticks).
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Frame, Page, Route
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route as StarletteRoute

from embedguard import demo
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings

from ..conftest import TEST_KEYS
from ..servers import run_asgi_in_thread
from .harness import AxeRunner, ContextFactory, format_violations

pytestmark = pytest.mark.browser

VIDEOS = ("/vimeo/76979871", "/vimeo/76979872")
FACEBOOK = "/facebook/wirtschaft.in.mittelsachsen"
CLS_BUDGET = 0.05
WITHIN = 1.0  # seconds for "always" and revoke to reach the other frames
SHIFTS = """
window.__shift = 0;
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__shift += entry.value;
    window.__shifts.push([Math.round(entry.startTime), entry.value.toFixed(3),
      entry.sources.map((s) => (s.node ? s.node.nodeName : "?") + " y " +
        s.previousRect.y + "->" + s.currentRect.y).join(", ")]);
  }
}).observe({type: "layout-shift", buffered: true});
"""


@dataclass(frozen=True)
class Site:
    base: str
    host: str


def _iframe(src: str, title: str, width: int, height: int) -> str:
    # The README's snippet: the frame keeps its shape at any width.
    return (
        f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="{width}" '
        f'height="{height}" style="width:100%;max-width:{width}px;height:auto;'
        f'aspect-ratio:{width}/{height};border:0;display:block"></iframe>'
    )


async def _two_videos(request: Request) -> HTMLResponse:
    base = request.app.state.base
    frames = "".join(
        f"<p>Video {n}</p>{_iframe(f'{base}{path}', f'Video {n}', 640, 360)}"
        for n, path in enumerate(VIDEOS, 1)
    )
    frames += _iframe(f"{base}{FACEBOOK}", "Facebook", 500, 700)
    return _page("Zwei Videos", frames)


async def _everything(request: Request) -> HTMLResponse:
    base = html.escape(request.app.state.base)
    text = "<p>" + "Ein Absatz Text, wie ihn ein Artikel hat. " * 8 + "</p>"
    body = (
        f"{text}{_iframe(request.app.state.base + VIDEOS[0], 'Video', 640, 360)}{text}"
        f'<p><a href="https://vimeo.com/76979872" data-embedguard data-embedguard-ratio="16:9">'
        f"Fachkräfte</a></p>{text}"
        '<p><a href="https://www.facebook.com/wirtschaft.in.mittelsachsen" data-embedguard>'
        f"Facebook</a></p>{text}"
        f'<p><a href="https://x.com/mswirtschaft" data-embedguard>X</a></p>{text}'
        '<p><a href="https://x.com/mswirtschaft/status/1790000000000000002" data-embedguard>'
        f"Beitrag</a></p>{text}"
    )
    # As the README advises: in <head>, without defer, so links become frames before paint.
    return _page("Alles", body, head=f'<script src="{base}/embed.js"></script>')


async def _single(request: Request) -> HTMLResponse:
    src = request.app.state.base + request.query_params["path"]
    width, height = int(request.query_params["w"]), int(request.query_params["h"])
    frame = (
        f'<iframe src="{html.escape(src)}" title="Eingebettet" '
        f'style="width:{width}px;height:{height}px;border:0;display:block"></iframe>'
    )
    return _page("Ein Rahmen", frame, width=width)


def _page(title: str, body: str, head: str = "", width: int = 760) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{head}</head><body style="margin:20px;max-width:{width}px"><h1>{title}</h1>{body}'
        "</body></html>"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    host_app = Starlette(
        routes=[
            StarletteRoute("/two", _two_videos),
            StarletteRoute("/everything", _everything),
            StarletteRoute("/single", _single),
        ]
    )
    with run_asgi_in_thread(host_app) as host:
        settings = Settings(
            secret_keys=TEST_KEYS,
            data_dir=Path(tmp_path_factory.mktemp("together")) / "data",
            frame_ancestors=(host,),
        )
        services = Services.build(settings)
        demo.seed(services)
        with run_asgi_in_thread(create_app(settings, services)) as base:
            host_app.state.base = base
            yield Site(base=base, host=host)


def _frame(page: Page, path: str) -> Frame:
    for frame in page.frames:
        if path in frame.url and frame is not page.main_frame:
            return frame
    raise AssertionError(f"no frame for {path}: {[f.url for f in page.frames]}")


def _loaded(frame: Frame) -> bool:
    return bool(frame.evaluate("() => !!document.querySelector('main.loaded')"))


def _wait(check: object, timeout: float) -> float:
    """Seconds until ``check()`` is true; fails after ``timeout`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():  # type: ignore[operator]
                return time.monotonic() - start
        except Exception:  # a frame that is navigating answers nothing
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def _open_two(site: Site, context_factory: ContextFactory, *, js: bool = True) -> Page:
    context = context_factory(java_script_enabled=js, viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto(f"{site.host}/two", wait_until="networkidle")
    for path in (*VIDEOS, FACEBOOK):
        _frame(page, path).locator("button[value=once]").wait_for()
    return page


def test_always_and_revoke_reach_the_other_frames_within_a_second(
    site: Site, context_factory: ContextFactory
) -> None:
    page = _open_two(site, context_factory)
    first = _frame(page, VIDEOS[0])
    first.locator("button[value=always]").click()
    _wait(lambda: _loaded(_frame(page, VIDEOS[0])), 5)
    took = _wait(lambda: _loaded(_frame(page, VIDEOS[1])), 5)
    assert took <= WITHIN, f"the second video loaded {took:.2f} s after the first"
    # Another provider's frame is not touched.
    page.wait_for_timeout(300)
    assert not _loaded(_frame(page, FACEBOOK))
    assert _frame(page, FACEBOOK).locator("button[value=always]").is_visible()
    # The frame that was not clicked did not take the focus.
    assert page.evaluate("() => document.activeElement?.title") != "Video 2"

    # Revoking in the second frame turns the first back into a placeholder.
    _frame(page, VIDEOS[1]).locator(".ctl form button").click()
    _wait(lambda: not _loaded(_frame(page, VIDEOS[1])), 5)
    took = _wait(lambda: not _loaded(_frame(page, VIDEOS[0])), 5)
    assert took <= WITHIN, f"the first video went back {took:.2f} s after the second"
    _frame(page, VIDEOS[0]).locator("button[value=always]").wait_for()
    assert page.context.cookies() == []


def test_without_javascript_the_other_frames_follow_on_the_next_view(
    site: Site, context_factory: ContextFactory
) -> None:
    page = _open_two(site, context_factory, js=False)
    _frame(page, VIDEOS[0]).locator("button[value=always]").click()
    _wait(lambda: _loaded(_frame(page, VIDEOS[0])), 5)
    page.wait_for_timeout(1500)
    assert not _loaded(_frame(page, VIDEOS[1]))  # nothing breaks, it just waits
    page.reload(wait_until="networkidle")
    for path in VIDEOS:
        _wait(lambda path=path: _loaded(_frame(page, path)), 5)
    assert not _loaded(_frame(page, FACEBOOK))


@pytest.mark.parametrize(("width", "height"), [(280, 158), (640, 360), (1280, 720)])
def test_a_loaded_video_fills_its_frame_exactly(
    site: Site, context_factory: ContextFactory, width: int, height: int
) -> None:
    context = context_factory(viewport={"width": width + 40, "height": height + 200})
    page = context.new_page()
    path = quote(VIDEOS[0], safe="/")
    page.goto(f"{site.host}/single?path={path}&w={width}&h={height}", wait_until="networkidle")
    frame = _frame(page, VIDEOS[0])
    frame.locator("button[value=once]").click()
    # "Once" answers the click's POST with the page itself: the frame's URL is /consent now.
    _wait(lambda: _loaded(page.main_frame.child_frames[0]), 5)
    frame = page.main_frame.child_frames[0]
    frame.wait_for_load_state("load")  # its stylesheets applied, not an iframe's default 300x150
    box = frame.evaluate(
        """() => { const r = document.querySelector("main.loaded > iframe").getBoundingClientRect();
        return [r.left, r.top, r.width, r.height, innerWidth, innerHeight,
                document.scrollingElement.scrollHeight]; }"""
    )
    left, top, got_width, got_height, view_width, view_height, scroll_height = box
    assert (left, top) == (0, 0)
    assert (got_width, got_height) == (view_width, view_height) == (width, height)
    assert got_width / got_height == pytest.approx(width / height, rel=0.01)
    assert scroll_height <= view_height
    # Revoking and the privacy information stay one click away, over the player.
    assert frame.locator(".ctl a[href^='/privacy']").is_visible()
    assert frame.locator(".ctl a[href^='/consent']").is_visible()


def test_a_provider_that_does_not_answer_gets_our_own_message(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    context = context_factory(viewport={"width": 800, "height": 600})
    page = context.new_page()
    hanging: list[Route] = []
    page.route("https://player.vimeo.com/**", lambda route: hanging.append(route))  # no answer
    page.goto(f"{site.base}{VIDEOS[0]}?lang=de", wait_until="load")
    page.locator("button[value=once]").click()
    page.locator("main.loaded").wait_for()
    note = page.locator("[data-eg-unreachable]")
    note.wait_for(state="visible", timeout=15_000)
    assert "Vimeo antwortet gerade nicht" in note.inner_text()
    assert note.locator("a").get_attribute("href") == "https://vimeo.com/76979871"
    assert hanging, "the player was never asked for"
    violations = axe(page)
    assert violations == [], format_violations(violations)
    for route in hanging:
        route.abort()


@pytest.mark.parametrize(("width", "height"), [(280, 158), (640, 360)])
@pytest.mark.parametrize("path", ["/vimeo/1", "/vimeo/123"])
def test_an_unavailable_embed_is_a_small_tile_that_fits_the_frame(
    site: Site,
    context_factory: ContextFactory,
    axe: AxeRunner,
    path: str,
    width: int,
    height: int,
) -> None:
    page = context_factory(viewport={"width": width, "height": height}).new_page()
    response = page.goto(f"{site.base}{path}?lang=de")
    assert response is not None and response.status == 404
    heading = page.locator("main h1")
    assert heading.inner_text() == "Dieser Inhalt ist nicht (mehr) verfügbar"
    assert page.locator("header, nav, footer").count() == 0
    fits = page.evaluate("() => document.scrollingElement.scrollHeight <= innerHeight")
    assert fits
    violations = axe(page)
    assert violations == [], format_violations(violations)
    box = heading.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_the_host_page_does_not_jump(site: Site, context_factory: ContextFactory) -> None:
    context = context_factory(viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.add_init_script(SHIFTS)
    page.goto(f"{site.host}/everything", wait_until="networkidle")
    frames = page.locator("iframe")
    assert frames.count() == 5
    for index in range(frames.count()):
        element = frames.nth(index)
        element.scroll_into_view_if_needed()
        frame = element.element_handle().content_frame()
        assert frame is not None
        frame.locator("button[value=once]").click()
        frame.locator("main.loaded").wait_for()
    page.wait_for_timeout(1000)
    shift = page.evaluate("() => window.__shift")
    assert shift <= CLS_BUDGET, (
        f"layout shift {shift:.3f}: {page.evaluate('() => window.__shifts')}"
    )
