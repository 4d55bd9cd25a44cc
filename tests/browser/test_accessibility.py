"""WCAG 2.1 AA in a real browser: axe-core on every visitor-facing page and state, both
languages and both colour schemes; keyboard-only use; reflow at 320 px and 200 % zoom."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page

from embedguard import demo
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Embed

from ..conftest import TEST_KEYS
from ..servers import run_asgi_in_thread
from .harness import AxeRunner, ContextFactory, RequestLog, format_violations

pytestmark = pytest.mark.browser

VIDEO = "/vimeo/76979871"  # a demo video with a bundled poster
LANGS = pytest.mark.parametrize("lang", ["de", "en"])
SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
# Items without posters, so every registered provider's placeholder is checked.
EXTRA = {"facebook": "landkreis.mittelsachsen", "twitter": "mittelsachsen"}


@dataclass(frozen=True)
class Site:
    base: str
    paths: tuple[str, ...]  # every enabled embed's page


def _seed(services: Services) -> None:
    demo.seed(services)
    for provider in services.registry:
        item_id = EXTRA.get(provider.name)
        if item_id and services.store.get_embed(f"{provider.name}:{item_id}") is None:
            services.store.save_embed(
                Embed(
                    key=f"{provider.name}:{item_id}",
                    provider=provider.name,
                    item_id=item_id,
                    title="Wirtschaft in Mittelsachsen",
                    author="@" + item_id,
                ),
                actor="test",
            )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(secret_keys=TEST_KEYS, data_dir=tmp_path_factory.mktemp("a11y"))
    services = Services.build(settings)
    _seed(services)
    paths = tuple(
        services.registry.get(e.provider).embed_path(e.item_id)  # type: ignore[union-attr]
        for e in services.store.list_embeds()
        if e.enabled and e.provider in services.registry
    )
    with run_asgi_in_thread(create_app(settings, services)) as base:
        yield Site(base, paths)


def _context(factory: ContextFactory, scheme: str = "light", **options: Any) -> BrowserContext:
    return factory(color_scheme=scheme, **options)


def _assert_clean(axe: AxeRunner, page: Page, where: str) -> None:
    violations = axe(page)
    assert violations == [], f"{where}:\n{format_violations(violations)}"


@LANGS
@SCHEMES
def test_placeholders(
    site: Site, context_factory: ContextFactory, axe: AxeRunner, lang: str, scheme: str
) -> None:
    assert {p.split("/")[1] for p in site.paths} >= {"vimeo"}
    page = _context(context_factory, scheme).new_page()
    for path in site.paths:
        page.goto(f"{site.base}{path}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        _assert_clean(axe, page, path)
        page.locator("a[href='#eg-more']").click()  # the full notice, too
        page.locator("#eg-more").wait_for()
        _assert_clean(axe, page, f"{path} (full notice open)")


@LANGS
@pytest.mark.parametrize("scope", ["once", "always"])
def test_loaded_page(
    site: Site, context_factory: ContextFactory, axe: AxeRunner, lang: str, scope: str
) -> None:
    context = _context(context_factory)
    log = RequestLog.attach(context)
    page = context.new_page()
    page.goto(f"{site.base}{VIDEO}?lang={lang}")
    page.locator(f"form.choices button[value={scope}]").click()
    # "once" answers the POST with the player itself; "always" redirects back.
    page.wait_for_url("**/consent" if scope == "once" else f"**{VIDEO}*")
    assert any(url.startswith("https://player.vimeo.com/video/") for url in log.urls)
    frame = page.locator("iframe")
    assert (frame.get_attribute("title") or "").strip()
    status = page.get_by_role("status")
    assert status.count() == 1
    # frame.js fills the live region just after load, so screen readers announce it.
    status.filter(has_text="Vimeo").wait_for(state="attached")
    if scope == "always":
        assert page.locator(".ctl button").count() == 1
    _assert_clean(axe, page, f"loaded after {scope}")


@LANGS
@SCHEMES
@pytest.mark.parametrize("path", ["/consent", "/privacy", "/no-such-page", "/vimeo/1"])
def test_pages(
    site: Site,
    context_factory: ContextFactory,
    axe: AxeRunner,
    lang: str,
    scheme: str,
    path: str,
) -> None:
    page = _context(context_factory, scheme).new_page()
    response = page.goto(f"{site.base}{path}?lang={lang}")
    assert response is not None
    assert response.status == (404 if path in ("/no-such-page", "/vimeo/1") else 200)
    assert page.locator("html").get_attribute("lang") == lang
    _assert_clean(axe, page, path)


@SCHEMES
def test_consent_page_with_consent_given(
    site: Site, context_factory: ContextFactory, axe: AxeRunner, scheme: str
) -> None:
    page = _context(context_factory, scheme).new_page()
    page.goto(f"{site.base}{VIDEO}")
    page.locator("form.choices button[value=always]").click()
    page.wait_for_url(f"**{VIDEO}*")
    page.goto(f"{site.base}/consent")
    assert page.locator(".consent-state form button").count() == 1
    _assert_clean(axe, page, "/consent with Vimeo allowed")


def _focused(page: Page) -> str:
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? `${e.tagName}|${e.getAttribute('value') || ''}|${e.textContent}` : ''; }"
        )
    )


def test_keyboard_only_reaches_both_choices_and_loads(
    site: Site, page: Page, request_log: RequestLog
) -> None:
    page.goto(f"{site.base}{VIDEO}?lang=de")
    seen: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        seen.append(_focused(page))
    buttons = [s for s in seen if s.startswith("BUTTON|")]
    assert any(s.startswith("BUTTON|once|") and "Vimeo" in s for s in buttons), seen
    assert any(s.startswith("BUTTON|always|") and "Vimeo" in s for s in buttons), seen
    # No trap: focus moves on past the choices to the links, then around again.
    assert len({s for s in seen if s.startswith("A|")}) >= 3, seen
    # Shift+Tab walks back; then Tab forward to "once" and press Enter.
    page.goto(f"{site.base}{VIDEO}?lang=de")
    for _ in range(20):
        page.keyboard.press("Tab")
        if _focused(page).startswith("BUTTON|once|"):
            break
    else:
        pytest.fail("Tab never reached the 'once' button")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    request_log.clear()
    page.keyboard.press("Enter")
    page.wait_for_url("**/consent")
    page.wait_for_load_state("networkidle")
    players = [u for u in request_log.urls if u.startswith("https://player.vimeo.com/video/")]
    assert players, request_log.urls
    assert parse_qs(urlsplit(players[0]).query).get("dnt") == ["1"]
    assert players[0] in request_log.blocked()  # attempted, never left the machine
    # After loading, frame.js has put focus on the player (the visitor clicked for it).
    page.wait_for_function("() => document.activeElement?.tagName === 'IFRAME'")
    assert _focused(page).startswith("IFRAME|")


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(320, 180, 1), (320, 568, 1), (640, 360, 2)],  # the last: 1280x720 at 200 % zoom
)
@pytest.mark.parametrize("path", [f"{VIDEO}?lang=de", f"{VIDEO}?lang=en", "/privacy", "/consent"])
def test_reflow_and_zoom(
    site: Site, context_factory: ContextFactory, width: int, height: int, scale: int, path: str
) -> None:
    context = context_factory(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    page = context.new_page()
    page.goto(f"{site.base}{path}")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"horizontal scrolling at {width}px: {overflow}px"
    if path.startswith(VIDEO):
        panel = page.locator(".bar").bounding_box()
        assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        for button in page.locator("form.choices button").all():
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
            # Every choice lies on the solid consent bar, not on the poster.
            assert panel["y"] <= box["y"] and box["y"] + box["height"] <= (
                panel["y"] + panel["height"]
            )


def test_stylesheet_honours_user_preferences() -> None:
    css = (Path(__file__).resolve().parents[2] / "static" / "embedguard.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css
    assert "@media (prefers-reduced-motion: reduce)" in css
    assert ":focus-visible" in css
    embed_css = (Path(__file__).resolve().parents[2] / "static" / "embed.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in embed_css
    assert ":focus-visible" in embed_css
