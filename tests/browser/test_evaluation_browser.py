"""The yearly evaluation in a real browser: axe-core (WCAG 2.1 AA) on the page in both
languages and colour schemes and on its print view; the print view leaves navigation and
forms out and fits A4; screenshots of both for the README.

    EMBEDGUARD_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest \
        tests/browser/test_evaluation_browser.py -k screenshot
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from PIL import Image
from playwright.sync_api import Page, expect

from embedguard import demo
from embedguard.app import create_app
from embedguard.providers import default_registry
from embedguard.services import Services
from embedguard.settings import Settings

from ..conftest import TEST_KEYS
from ..servers import run_asgi_in_thread
from .harness import AxeRunner, ContextFactory, format_violations

pytestmark = pytest.mark.browser

USER, PASSWORD = "redaktion", "ein-langes-passwort"
YEAR = 2025
PAGE = f"/admin/evaluation?year={YEAR}"
A4_WIDTH = 794  # CSS pixels of 210 mm at 96 dpi


@dataclass(frozen=True)
class Site:
    base: str


def _seed_counts(services: Services) -> None:
    """A plausible year: more views than loads, a summer peak, a few revocations."""
    keys = {e.provider: e.key for e in services.store.list_embeds()}
    for month in range(1, 13):
        day = f"{YEAR}-{month:02d}-15"
        views = 180 + 40 * (6 - abs(6 - month)) + (1100 if month == 7 else 0)
        counts = {
            ("vimeo", keys["vimeo"], "view"): views,
            ("vimeo", keys["vimeo"], "load_once"): views // 6,
            ("vimeo", keys["vimeo"], "load_always"): views // 20,
            ("vimeo", keys["vimeo"], "revoke"): month % 3,
        }
        if "facebook" in keys:
            counts[("facebook", keys["facebook"], "view")] = views // 3
            counts[("facebook", keys["facebook"], "load_once")] = views // 40
        services.store.add_usage(counts, day)
    services.store.add_usage({("vimeo", "", "revoke"): 4}, f"{YEAR}-09-02")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(secret_keys=TEST_KEYS, data_dir=tmp_path_factory.mktemp("evaluation"))
    services = Services.build(settings)
    demo.seed(services)
    _seed_counts(services)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    services.store.set_user(USER, hasher.hash(PASSWORD))
    services.store.add_review(
        f"{YEAR + 1}-01-20T09:30:00+00:00",
        YEAR,
        {"vimeo": ("continue", "Gut genutzt; Videos bleiben."), "twitter": ("stop", "")},
        USER,
    )
    with run_asgi_in_thread(create_app(settings, services)) as base:
        yield Site(base)


def _logged_in(factory: ContextFactory, site: Site, **options: Any) -> Page:
    page = factory(locale="de-DE", **options).new_page()
    page.goto(f"{site.base}/admin/login")
    page.get_by_label("Benutzername").fill(USER)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{site.base}/admin/")
    return page


def _assert_clean(axe: AxeRunner, page: Page, where: str) -> None:
    violations = axe(page)
    assert violations == [], f"{where}:\n{format_violations(violations)}"


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_evaluation_page_passes_axe(
    site: Site, context_factory: ContextFactory, axe: AxeRunner, lang: str, scheme: str
) -> None:
    page = _logged_in(context_factory, site, color_scheme=scheme)
    page.goto(f"{site.base}{PAGE}&lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    # One chart per registered provider: providers added later appear by themselves.
    expect(page.locator("svg.chart-svg")).to_have_count(len(default_registry().names()))
    _assert_clean(axe, page, f"{PAGE} {lang} {scheme}")
    page.emulate_media(media="print")
    _assert_clean(axe, page, f"{PAGE} {lang} print")


def test_start_page_reminder_and_settings_pass_axe(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    page = _logged_in(context_factory, site)
    for path in ("/admin/", "/admin/settings", "/admin/audit"):
        page.goto(f"{site.base}{path}")
        _assert_clean(axe, page, path)


def test_print_view_is_a_report_without_navigation_or_forms(
    site: Site, context_factory: ContextFactory
) -> None:
    page = _logged_in(context_factory, site, viewport={"width": A4_WIDTH, "height": 1123})
    page.goto(f"{site.base}{PAGE}")
    expect(page.locator("nav.admin-nav")).to_be_visible()
    expect(page.locator("form[action='/admin/evaluation/review']")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.admin-nav")).to_be_hidden()
    expect(page.locator("form")).to_have_count(3)  # year picker, review, logout: all hidden
    for form in page.locator("form").all():
        expect(form).to_be_hidden()
    expect(
        page.get_by_role("heading", name="Überprüfung nach dem Social-Media-Konzept")
    ).to_be_visible()
    expect(page.locator("svg.chart-svg").first).to_be_visible()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the print view is wider than A4 by {overflow}px"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2  # several A4 pages


@pytest.mark.parametrize("media", ["screen", "print"])
def test_evaluation_screenshot(
    site: Site, context_factory: ContextFactory, screenshot_dir: Path, media: str
) -> None:
    page = _logged_in(
        context_factory,
        site,
        viewport={"width": 1100 if media == "screen" else A4_WIDTH, "height": 900},
        color_scheme="light",
    )
    page.goto(f"{site.base}{PAGE}", wait_until="networkidle")
    if media == "print":
        page.emulate_media(media="print")
    target = screenshot_dir / f"evaluation-{media}.png"
    page.screenshot(path=str(target), full_page=True)
    with Image.open(target) as image:
        assert image.height > 900  # the whole report, not just the first screen
