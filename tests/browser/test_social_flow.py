"""Facebook and X in a real browser: nothing leaves embedguard before the click, the
provider's hosts are the only ones tried after it, and the pages pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from ..fake_upstream import X_HANDLE, X_POST_OK, X_POST_OK_2
from .harness import (
    AxeRunner,
    ContextFactory,
    format_violations,
    open_page,
    seeded_site,
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


@pytest.fixture(scope="module")
def base(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[str]:
    data_dir = Path(tmp_path_factory.mktemp("social-flow")) / "data"
    with seeded_site(data_dir, fake_upstream[0], URLS) as url:
        yield url


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_placeholder_contacts_only_embedguard(
    base: str, context_factory: ContextFactory, path: str, js: bool
) -> None:
    page, log = open_page(context_factory, js)
    page.goto(f"{base}{path}", wait_until="networkidle")
    assert page.locator("button[value=once]").count() == 1
    assert log.foreign(base) == []
    assert page.context.cookies() == []


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_passes_axe(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str, lang: str
) -> None:
    page, _ = open_page(context_factory)
    page.goto(f"{base}{path}?lang={lang}", wait_until="networkidle")
    violations = axe(page)
    assert violations == [], format_violations(violations)


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
    page, log = open_page(context_factory)
    page.goto(f"{base}{path}", wait_until="networkidle")
    log.clear()
    page.locator("button[value=once]").click()
    page.wait_for_load_state("networkidle")
    tried = log.hosts() - {"127.0.0.1"}
    assert tried == AFTER_CONSENT[path], log.network_urls()
    # The fence stopped them, not our CSP: the loaded page's policy admits these hosts.
    foreign = log.foreign(base)
    assert foreign and set(foreign) <= set(log.blocked()), log.failures
    assert page.context.cookies() == []
    violations = axe(page)
    assert violations == [], format_violations(violations)
