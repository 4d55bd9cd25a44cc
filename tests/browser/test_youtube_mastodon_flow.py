"""YouTube and Mastodon in a real browser: no request to any Google or Mastodon host before
the click, only the provider's own host after it (the instance, for Mastodon), and the
pages pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

import pytest

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
    assert_once_tries_only,
    assert_page_passes_axe,
    assert_placeholder_stays_home,
    open_page,
    seeded_site_fixture,
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


base = seeded_site_fixture("youtube-mastodon", URLS)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_placeholder_contacts_no_google_or_mastodon_host(
    base: str, context_factory: ContextFactory, path: str, js: bool
) -> None:
    assert_placeholder_stays_home(context_factory, base, path, js)


def test_post_text_is_readable_before_consent(base: str, context_factory: ContextFactory) -> None:
    page, _ = open_page(context_factory, js=False)
    page.goto(f"{base}{POST}?lang=de", wait_until="networkidle")
    assert MASTODON_OK_TEXT in page.locator("blockquote.post").inner_text()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_passes_axe(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str, lang: str
) -> None:
    assert_page_passes_axe(context_factory, axe, f"{base}{path}?lang={lang}")


@pytest.mark.parametrize("path", [VIDEO, POST])
def test_once_tries_exactly_the_provider_host(
    base: str, context_factory: ContextFactory, axe: AxeRunner, path: str
) -> None:
    assert_once_tries_only(context_factory, axe, base, path, AFTER_CONSENT[path])
