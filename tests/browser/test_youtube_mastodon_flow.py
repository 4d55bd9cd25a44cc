"""YouTube and Mastodon in a real browser: no request to any Google or Mastodon host before
the click, only the provider's own host after it (the instance, for Mastodon), and the
pages pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from ..fake_youtube_mastodon import (
    MASTODON_ACCOUNT_URL,
    MASTODON_INSTANCE,
    MASTODON_OK_TEXT,
    MASTODON_POST_OK,
    MASTODON_USER,
    YOUTUBE_OK,
)
from .harness import (
    AxeRunner,
    ContextFactory,
    format_violations,
    open_page,
    seeded_site,
)

pytestmark = pytest.mark.browser

VIDEO = f"/youtube/{YOUTUBE_OK}"
POST = f"/mastodon/{MASTODON_INSTANCE}/{MASTODON_POST_OK}"
ACCOUNT = f"/mastodon/{MASTODON_INSTANCE}/@{MASTODON_USER}"
PAGES = (VIDEO, POST, ACCOUNT)
URLS = (
    f"https://youtu.be/{YOUTUBE_OK}",
    MASTODON_ACCOUNT_URL,
    f"{MASTODON_ACCOUNT_URL}/{MASTODON_POST_OK}",
)
AFTER_CONSENT = {VIDEO: {"www.youtube-nocookie.com"}, POST: {MASTODON_INSTANCE}}


@pytest.fixture(scope="module")
def base(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[str]:
    data_dir = Path(tmp_path_factory.mktemp("youtube-mastodon")) / "data"
    with seeded_site(data_dir, fake_upstream[0], URLS) as url:
        yield url


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_placeholder_contacts_no_google_or_mastodon_host(
    base: str, context_factory: ContextFactory, path: str, js: bool
) -> None:
    page, log = open_page(context_factory, js)
    page.goto(f"{base}{path}", wait_until="networkidle")
    assert page.locator("button[value=once]").count() == 1
    assert log.foreign(base) == []
    assert log.hosts() == {"127.0.0.1"}, log.network_urls()
    assert page.context.cookies() == []


def test_post_text_is_readable_before_consent(base: str, context_factory: ContextFactory) -> None:
    page, _ = open_page(context_factory, js=False)
    page.goto(f"{base}{POST}?lang=de", wait_until="networkidle")
    assert MASTODON_OK_TEXT in page.locator("blockquote.post").inner_text()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_passes_axe(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str, lang: str
) -> None:
    page, _ = open_page(context_factory)
    page.goto(f"{base}{path}?lang={lang}", wait_until="networkidle")
    violations = axe(page)
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("path", [VIDEO, POST])
def test_once_tries_exactly_the_provider_host(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str
) -> None:
    page, log = open_page(context_factory)
    page.goto(f"{base}{path}", wait_until="networkidle")
    log.clear()
    page.locator("button[value=once]").click()
    page.wait_for_load_state("networkidle")
    tried = log.hosts() - {"127.0.0.1"}
    assert tried == AFTER_CONSENT[path], log.network_urls()
    foreign = log.foreign(base)
    assert foreign and set(foreign) <= set(log.blocked()), log.failures
    assert page.context.cookies() == []
    violations = axe(page)
    assert violations == [], format_violations(violations)
