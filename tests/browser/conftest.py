"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, fenced to loopback.

Never `playwright install`: the browser is /usr/bin/chromium (scripts/dev installs it).
Every context made here aborts requests to non-loopback hosts; attach a RequestLog
(`request_log` fixture, or `RequestLog.attach(context)`) to see what a page tried to load.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from .harness import (
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    AxeRunner,
    ContextFactory,
    RequestLog,
    fence_to_loopback,
    require,
    run_axe,
)


# Module scope, not session: while Playwright's sync API is started, its event loop counts
# as running in the main thread, and every pytest-asyncio test after it would fail with
# "Cannot run the event loop while another loop is running". Per module, the loop is gone
# before the next module's tests; keep async tests out of browser test modules.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
    )
    yield browser
    browser.close()


@pytest.fixture
def context_factory(browser: Browser) -> Iterator[ContextFactory]:
    """Fresh, isolated contexts (no cookies, no cache), each fenced to loopback and closed
    after the test. `bypass_csp` exists for experiments; axe does not need it."""
    contexts: list[BrowserContext] = []

    def make(
        *, java_script_enabled: bool = True, bypass_csp: bool = False, **options: Any
    ) -> BrowserContext:
        options.setdefault("service_workers", "block")  # they could slip past routing
        context = browser.new_context(
            java_script_enabled=java_script_enabled, bypass_csp=bypass_csp, **options
        )
        fence_to_loopback(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(context_factory: ContextFactory) -> BrowserContext:
    """A fresh context with JavaScript on."""
    return context_factory()


@pytest.fixture
def request_log(context: BrowserContext) -> RequestLog:
    """Every request of `context` (and so of `page`), iframes included."""
    return RequestLog.attach(context)


@pytest.fixture
def page(context: BrowserContext, request_log: RequestLog) -> Page:
    """A page in `context`, with `request_log` already listening."""
    return context.new_page()


@pytest.fixture(scope="session")
def axe() -> AxeRunner:
    """`axe(page, tags=WCAG_TAGS) -> list of violations` (axe-core result dicts)."""
    require(AXE_JS.exists(), f"{AXE_JS} is missing (npm ci --prefix tests)")
    return run_axe


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests put screenshots: $EMBEDGUARD_SCREENSHOT_DIR, else a session temp dir."""
    configured = os.environ.get("EMBEDGUARD_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")
