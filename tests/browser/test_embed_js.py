"""embed.js on a host page of another site, and our scripts inside the frames it makes.

The host page runs on localhost, embedguard on 127.0.0.1 (other origin, other site), and
only the host's origin is allowed to frame embedguard. A second host page on a third
origin, not allowed, checks that frame.js talks to allowed parents only.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import ElementHandle, Frame, Page
from playwright.sync_api import Route as BrowserRoute
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from embedguard.app import create_app
from embedguard.settings import Settings

from ..conftest import TEST_KEYS
from ..fake_upstream import VIMEO_OK, VIMEO_OK_TITLE, X_HANDLE
from ..helpers import seed_embeds
from ..servers import run_asgi_in_thread, upstream_map_for
from .harness import ContextFactory, RequestLog

pytestmark = pytest.mark.browser

FACEBOOK_SLUG = "wirtschaft.in.mittelsachsen"
LINKS = {
    "page": (f"https://www.facebook.com/{FACEBOOK_SLUG}", "Unsere Facebook-Seite", ""),
    "account": (f"https://x.com/{X_HANDLE}", "Beiträge auf X", ""),
    "video": (f"https://vimeo.com/{VIMEO_OK}", VIMEO_OK_TITLE, "16:9"),
}
SEED_URLS = (f"https://vimeo.com/{VIMEO_OK}", LINKS["page"][0], LINKS["account"][0])
# The heights embed.js reserves for pages and timelines (they do not follow their content,
# so the host page never moves).
RESERVED_HEIGHT = {"page": 600, "account": 640}
UNAVAILABLE_MESSAGE = "embedguard:unavailable"
NOT_ALLOWED = "https://vimeo.com/111111"
# Collects what reaches the top window, before any page script runs.
RECORD_MESSAGES = """
window.__messages = [];
window.addEventListener("message", (event) => {
  window.__messages.push({origin: event.origin, data: event.data});
});
"""


@dataclass(frozen=True)
class Site:
    base: str  # embedguard
    host: str  # the allowed host page's origin
    stranger: str  # an origin that is not allowed to frame embedguard


def _link(name: str) -> str:
    href, text, ratio = LINKS[name]
    ratio_attribute = f' data-embedguard-ratio="{ratio}"' if ratio else ""
    return (
        f'<p><a id="{name}" href="{html.escape(href)}" data-embedguard{ratio_attribute}>'
        f"{html.escape(text)}</a></p>"
    )


async def _host_page(request: Request) -> HTMLResponse:
    base = html.escape(request.app.state.base)
    links = "".join(_link(name) for name in LINKS)
    return HTMLResponse(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Landkreis</title>'
        f"</head><body><h1>Wirtschaft in Mittelsachsen</h1>{links}"
        f'<script src="{base}/embed.js" defer></script></body></html>'
    )


async def _framing_page(request: Request) -> HTMLResponse:
    """A page that frames one embedguard page directly."""
    src = html.escape(request.app.state.base + request.query_params["path"])
    return HTMLResponse(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Rahmen</title>'
        f'</head><body><iframe src="{src}" title="Eingebettet" '
        'style="width:600px;height:500px;border:0"></iframe></body></html>'
    )


async def _mixed_page(request: Request) -> HTMLResponse:
    """One link embedguard may show, one it may not."""
    base = html.escape(request.app.state.base)
    return HTMLResponse(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Landkreis</title>'
        f'<script src="{base}/embed.js" defer></script></head><body><h1>Gemischt</h1>'
        f"{_link('video')}"
        f'<p><a id="gone" href="{NOT_ALLOWED}" data-embedguard>Nicht freigegeben</a></p>'
        "</body></html>"
    )


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[Site]:
    host_app = Starlette(
        routes=[
            Route("/", _host_page),
            Route("/frame", _framing_page),
            Route("/mixed", _mixed_page),
        ]
    )
    with run_asgi_in_thread(host_app) as host_base:
        # One host server, two origins: localhost:P is allowed, 127.0.0.1:P is not.
        host = host_base.replace("127.0.0.1", "localhost")
        settings = Settings(
            secret_keys=TEST_KEYS,
            data_dir=Path(tmp_path_factory.mktemp("embed-js")) / "data",
            upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
            frame_ancestors=(host,),
        )
        seed_embeds(settings, SEED_URLS)
        with run_asgi_in_thread(create_app(settings)) as base:
            host_app.state.base = base
            yield Site(base=base, host=host, stranger=host_base)


def open_page(
    context_factory: ContextFactory, *, js: bool = True, **options: Any
) -> tuple[Page, RequestLog]:
    context = context_factory(
        java_script_enabled=js, viewport={"width": 800, "height": 900}, **options
    )
    log = RequestLog.attach(context)
    return context.new_page(), log


def frame_of(page: Page, name: str) -> tuple[ElementHandle, Frame]:
    """The iframe embed.js put before link `name`, and the frame it shows."""
    element = page.locator(f"p:has(> #{name}) > iframe")
    handle = element.element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return handle, frame


def frame_height(element: ElementHandle) -> float:
    height: float = element.evaluate("(frame) => frame.getBoundingClientRect().height")
    return height


def document_scrolls(frame: Frame) -> bool:
    scrolls: bool = frame.evaluate(
        "() => document.documentElement.scrollHeight > window.innerHeight + 1"
    )
    return scrolls


def host_page(site: Site, context_factory: ContextFactory) -> tuple[Page, RequestLog]:
    page, log = open_page(context_factory)
    page.goto(f"{site.host}/", wait_until="networkidle")
    for name in LINKS:
        frame_of(page, name)[1].locator("button[value=once]").wait_for()
    return page, log


def test_links_become_frames_showing_the_placeholder(
    site: Site, context_factory: ContextFactory
) -> None:
    page, log = host_page(site, context_factory)
    assert page.locator("iframe").count() == len(LINKS)
    for name, (href, text, _) in LINKS.items():
        element, frame = frame_of(page, name)
        assert frame.url.startswith(f"{site.base}/"), frame.url
        assert frame.locator("form[action='/consent'] button").count() == 2
        assert element.get_attribute("title") == text
        assert element.get_attribute("loading") == "lazy"
        assert element.get_attribute("allow") == "autoplay; fullscreen; picture-in-picture"
        assert element.get_attribute("allowfullscreen") is not None
        assert element.get_attribute("referrerpolicy") == "strict-origin-when-cross-origin"
        # The link stays, visible, below its frame.
        link = page.locator(f"#{name}")
        assert link.is_visible() and link.get_attribute("href") == href
        link_box, frame_box = link.bounding_box(), element.bounding_box()
        assert link_box and frame_box and link_box["y"] >= frame_box["y"] + frame_box["height"]
    assert frame_of(page, "video")[1].url.startswith(f"{site.base}/vimeo/{VIMEO_OK}?lang=de")
    assert frame_of(page, "page")[1].url.startswith(f"{site.base}/facebook/{FACEBOOK_SLUG}?")
    # Nothing but the host page and embedguard was even tried.
    assert log.hosts() == {"localhost", "127.0.0.1"}, log.network_urls()
    assert log.blocked() == []
    assert page.context.cookies() == []


def test_video_frame_keeps_its_aspect_ratio(site: Site, context_factory: ContextFactory) -> None:
    page, _ = host_page(site, context_factory)
    element, frame = frame_of(page, "video")
    box = element.bounding_box()
    assert box is not None
    assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.01)
    # A message from the video's own frame does not change it.
    frame.evaluate("() => parent.postMessage({type: 'embedguard:size', height: 1234}, '*')")
    page.wait_for_timeout(300)
    assert element.bounding_box() == box


@pytest.mark.parametrize("name", ["page", "account"])
def test_social_frames_get_their_final_height_at_once(
    site: Site, context_factory: ContextFactory, name: str
) -> None:
    page, log = host_page(site, context_factory)
    element, frame = frame_of(page, name)
    assert frame_height(element) == RESERVED_HEIGHT[name]
    # The placeholder fits inside: both choices in view, nothing to scroll.
    assert not document_scrolls(frame)
    # Opening the full notice changes nothing outside the frame.
    frame.locator("a[href='#eg-more']").click()
    frame.locator("#eg-more").wait_for()
    page.wait_for_timeout(300)
    assert frame_height(element) == RESERVED_HEIGHT[name]
    assert frame.locator("button[value=once]").is_visible()
    assert log.blocked() == []


def test_loaded_facebook_page_keeps_the_frame_size(
    site: Site, context_factory: ContextFactory
) -> None:
    page, _ = host_page(site, context_factory)
    element, frame = frame_of(page, "page")
    before = element.bounding_box()
    frame.locator("button[value=once]").click()
    frame.wait_for_url(re.compile(r".*/consent$"))
    frame.locator("iframe.facebook-plugin").wait_for(state="attached")
    page.wait_for_timeout(300)
    assert element.bounding_box() == before


def test_a_link_whose_embed_is_not_allowed_stays_a_plain_link(
    site: Site, context_factory: ContextFactory
) -> None:
    page, log = open_page(context_factory)
    page.goto(f"{site.host}/mixed", wait_until="networkidle")
    page.wait_for_function("() => document.querySelectorAll('iframe').length === 1")
    assert page.locator("p:has(> #gone) > iframe").count() == 0
    assert page.locator("#gone").is_visible()
    assert page.locator("p:has(> #video) > iframe").count() == 1
    assert log.blocked() == []


def test_forged_unavailable_messages_change_nothing(
    site: Site, context_factory: ContextFactory
) -> None:
    page, _ = host_page(site, context_factory)
    # The host page's own scripts (or anything else on it) posting the same data.
    page.evaluate(f"() => window.postMessage({{type: '{UNAVAILABLE_MESSAGE}'}}, '*')")
    page.wait_for_timeout(300)
    assert page.locator("iframe").count() == len(LINKS)


def test_without_javascript_the_links_remain(site: Site, context_factory: ContextFactory) -> None:
    page, log = open_page(context_factory, js=False)
    page.goto(f"{site.host}/", wait_until="networkidle")
    assert page.locator("iframe").count() == 0
    for href, text, _ in LINKS.values():
        link = page.get_by_role("link", name=text)
        assert link.is_visible() and link.get_attribute("href") == href
    assert not any(url.startswith(site.base) for url in log.network_urls())


def _messages(page: Page) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = page.evaluate("() => window.__messages")
    return messages


def _without_csp(route: BrowserRoute) -> None:
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


def test_frame_js_tells_only_allowed_parents(site: Site, context_factory: ContextFactory) -> None:
    page, _ = open_page(context_factory)
    page.add_init_script(RECORD_MESSAGES)
    path = quote("/embed?fit=1&url=" + quote(NOT_ALLOWED, safe=""), safe="/")
    page.goto(f"{site.host}/frame?path={path}", wait_until="networkidle")
    page.wait_for_function("() => window.__messages.length > 0")
    first = _messages(page)[0]
    assert first["origin"] == site.base
    assert first["data"] == {"type": UNAVAILABLE_MESSAGE}

    # A page that is not allowed cannot even frame embedguard (CSP frame-ancestors). With
    # that header stripped on the way, frame.js must still keep quiet.
    page.route(f"{site.base}/embed**", _without_csp)
    page.goto(f"{site.stranger}/frame?path={path}", wait_until="networkidle")
    frame = page.frame_locator("iframe")
    frame.locator("[data-eg-unavailable]").wait_for()
    parents = frame.locator("script[data-eg-parents]").get_attribute("data-eg-parents")
    assert parents == f"self {site.host}"
    page.wait_for_timeout(500)
    assert _messages(page) == []


@pytest.mark.parametrize("loaded", [False, True], ids=["placeholder", "loaded"])
def test_frame_scripts_are_quiet_at_the_top_level(
    site: Site, context_factory: ContextFactory, loaded: bool
) -> None:
    page, log = open_page(context_factory)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.add_init_script(RECORD_MESSAGES)
    page.goto(f"{site.base}/facebook/{FACEBOOK_SLUG}?fit=1", wait_until="networkidle")
    if loaded:
        page.locator("button[value=once]").click()
        page.wait_for_url(re.compile(r".*/consent$"))
        page.locator("[role=status]").filter(has_text="Facebook").wait_for(state="attached")
    page.wait_for_timeout(400)
    assert _messages(page) == []
    # The loaded page's plugin is stopped by the loopback fence, which Chromium reports.
    assert [e for e in errors if "ERR_BLOCKED_BY_CLIENT" not in e] == []
    script = "frame.js" if loaded else "placeholder.js"
    assert any(url.startswith(f"{site.base}/static/{script}") for url in log.network_urls())


def test_consent_click_announces_and_focuses_the_content(
    site: Site, context_factory: ContextFactory
) -> None:
    page, _ = open_page(context_factory)
    page.goto(f"{site.base}/facebook/{FACEBOOK_SLUG}?lang=en", wait_until="networkidle")
    status = page.locator("[role=status]")
    assert status.count() == 0
    page.locator("button[value=once]").click()
    page.wait_for_url(re.compile(r".*/consent$"))
    page.wait_for_function("() => document.activeElement?.tagName === 'IFRAME'")
    assert page.locator("iframe.facebook-plugin").evaluate("(f) => f === document.activeElement")
    status.filter(has_text="Facebook content loaded.").wait_for(state="attached")

    # A reload is not a click: focus stays where the browser puts it.
    page.reload(wait_until="networkidle")
    status.filter(has_text="Facebook content loaded.").wait_for(state="attached")
    assert page.evaluate("() => document.activeElement === document.body")

    # "Always" redirects back to the embed's own page; the click still moves focus.
    page.goto(f"{site.base}/facebook/{FACEBOOK_SLUG}?lang=en", wait_until="networkidle")
    page.locator("button[value=always]").click()
    page.wait_for_function("() => document.activeElement?.tagName === 'IFRAME'")
    assert "consent=" not in page.url
