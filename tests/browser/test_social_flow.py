"""Facebook and X in a real browser: nothing leaves embedguard before the click, the
provider's hosts are the only ones tried after it, and the pages pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

import re

import pytest

from ..fake_upstream import X_HANDLE, X_POST_OK, X_POST_OK_2
from .harness import (
    AxeRunner,
    ContextFactory,
    assert_once_tries_only,
    assert_page_passes_axe,
    assert_placeholder_stays_home,
    open_page,
    seeded_site_fixture,
)

pytestmark = pytest.mark.browser

FACEBOOK = "/facebook/wirtschaft.in.mittelsachsen"
TIMELINE = f"/twitter/{X_HANDLE}"
POST = f"/twitter/{X_HANDLE}/status/{X_POST_OK}"
PAGES = (FACEBOOK, TIMELINE, POST)
URLS = (
    "https://www.facebook.com/wirtschaft.in.mittelsachsen",
    f"https://x.com/{X_HANDLE}",
    f"https://x.com/{X_HANDLE}/status/{X_POST_OK}",
    f"https://x.com/{X_HANDLE}/status/{X_POST_OK_2}",
)
# What each page's browser may try after the click (the fence aborts it on the way out).
AFTER_CONSENT = {
    FACEBOOK: {"www.facebook.com"},
    TIMELINE: {"platform.x.com"},
    POST: {"platform.x.com"},
}


base = seeded_site_fixture("social-flow", URLS)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_placeholder_contacts_only_embedguard(
    base: str, context_factory: ContextFactory, path: str, js: bool
) -> None:
    assert_placeholder_stays_home(context_factory, base, path, js)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_passes_axe(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str, lang: str
) -> None:
    assert_page_passes_axe(context_factory, axe, f"{base}{path}?lang={lang}")


def test_post_text_is_readable_before_consent(base: str, context_factory: ContextFactory) -> None:
    page, _ = open_page(context_factory, js=False)
    page.goto(f"{base}{TIMELINE}?lang=de", wait_until="networkidle")
    posts = page.locator(".picked-posts blockquote")
    assert posts.count() == 2
    assert "Tag der Ausbildung" in posts.first.inner_text()
    page.get_by_role("link", name=re.compile("einzeln")).first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/twitter/{X_HANDLE}/status/{X_POST_OK_2}")


@pytest.mark.parametrize("path", PAGES)
def test_once_tries_exactly_the_provider_hosts(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str
) -> None:
    assert_once_tries_only(context_factory, axe, base, path, AFTER_CONSENT[path])
