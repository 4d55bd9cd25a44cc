"""What browser tests use besides fixtures: the request log, the loopback fence, axe, and
the checks every provider's two-click flow shares (placeholder, axe, "load once").

Import it relatively in tests under tests/browser: `from .harness import RequestLog`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route
from starlette.applications import Starlette

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium puts sandboxed frames (X's widget document) in processes of their own, where
    # Playwright sees and routes none of their requests; keep them in the page's process so
    # the loopback fence and RequestLog cover them too.
    "--disable-features=IsolateSandboxedIframes",
)
AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BLOCKED = "net::ERR_BLOCKED_BY_CLIENT"  # what Chromium reports for route.abort("blockedbyclient")
_NOT_NETWORK = ("data:", "blob:", "about:")


class ContextFactory(Protocol):
    def __call__(
        self, *, java_script_enabled: bool = True, bypass_csp: bool = False, **options: Any
    ) -> BrowserContext: ...


class AxeRunner(Protocol):
    def __call__(self, page: Page, tags: Sequence[str] = WCAG_TAGS) -> list[dict[str, Any]]: ...


def require(ok: bool, message: str) -> None:
    """Missing tooling: a failure in CI (where scripts/dev installs it), a skip elsewhere."""
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: run `scripts/dev test`, which installs it)")
    pytest.skip(message)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _fence(route: Route) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if host in LOOPBACK_HOSTS:
        route.fallback()
    else:
        route.abort("blockedbyclient")


def fence_to_loopback(target: BrowserContext | Page) -> None:
    """Abort every request that is not for a loopback host, so a leak never reaches the
    internet. Request events fire before routing, so a RequestLog still records the leak."""
    target.route("**/*", _fence)


@dataclass
class RequestLog:
    """Every request a context or page makes, its frames (iframes too) included.

    A request the page's CSP refused is still recorded (its failure is "csp"): it shows
    that the page tried. Use `page.goto(url, wait_until="networkidle")` before reading
    the log, so that late requests and their failures have arrived.
    """

    urls: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # url -> failure text
    answered: list[str] = field(default_factory=list)  # urls that got a response

    @classmethod
    def attach(cls, target: BrowserContext | Page) -> RequestLog:
        log = cls()
        target.on("request", log._on_request)
        target.on("requestfailed", log._on_failed)
        target.on("requestfinished", log._on_finished)
        return log

    def _on_request(self, request: Request) -> None:
        self.urls.append(request.url)

    def _on_failed(self, request: Request) -> None:
        self.failures[request.url] = request.failure or "failed"

    def _on_finished(self, request: Request) -> None:
        self.answered.append(request.url)

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or "" for url in self.network_urls()}

    def network_urls(self) -> list[str]:
        return [url for url in self.urls if not url.startswith(_NOT_NETWORK)]

    def foreign(self, own_origin: str) -> list[str]:
        """URLs of requests to any origin but `own_origin` (e.g. "http://127.0.0.1:8123")."""
        own = origin_of(own_origin)
        return [url for url in self.network_urls() if origin_of(url) != own]

    def blocked(self) -> list[str]:
        """URLs the loopback fence aborted (they never left the machine)."""
        return [url for url, why in self.failures.items() if why.startswith(BLOCKED)]

    def clear(self) -> None:
        self.urls.clear()
        self.failures.clear()
        self.answered.clear()


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8") + "\n;void 0"


_AXE_RUN = """async (tags) => {
    const results = await axe.run(document, {
        runOnly: {type: "tag", values: tags},
        resultTypes: ["violations"],
    });
    return results.violations;
}"""


def run_axe(page: Page, tags: Sequence[str] = WCAG_TAGS) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it is now, for the given rule tags.

    axe is injected with `evaluate`, which the page's CSP does not apply to (a script tag
    would be refused by our `default-src 'none'` pages). Same-origin frames get it too,
    so axe can look into them.
    """
    source = _axe_source()
    own = origin_of(page.url)
    for frame in page.frames:
        if frame is page.main_frame or origin_of(frame.url) == own:
            frame.evaluate(source)
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, list(tags))
    return violations


def format_violations(violations: Sequence[dict[str, Any]]) -> str:
    """Readable lines for an assertion message."""
    lines = []
    for violation in violations:
        targets = ", ".join(str(node.get("target")) for node in violation.get("nodes", []))
        lines.append(
            f"{violation['id']} ({violation.get('impact')}): {violation.get('help')} at {targets}"
        )
    return "\n".join(lines)


def open_page(context_factory: ContextFactory, js: bool = True) -> tuple[Page, RequestLog]:
    """A new page in its own context, with every request it makes logged."""
    context = context_factory(java_script_enabled=js)
    log = RequestLog.attach(context)
    return context.new_page(), log


def assert_passes_axe(page: Page, axe: AxeRunner) -> None:
    violations = axe(page)
    assert violations == [], format_violations(violations)


def assert_placeholder_stays_home(
    context_factory: ContextFactory, base: str, path: str, js: bool
) -> None:
    """The placeholder at ``base + path`` offers "load once", and the browser contacts
    nothing but embedguard (``base``'s origin) and keeps no cookie."""
    page, log = open_page(context_factory, js)
    page.goto(f"{base}{path}", wait_until="networkidle")
    assert page.locator("button[value=once]").count() == 1
    assert log.foreign(base) == []
    assert page.context.cookies() == []


def assert_page_passes_axe(context_factory: ContextFactory, axe: AxeRunner, url: str) -> None:
    page, _ = open_page(context_factory)
    page.goto(url, wait_until="networkidle")
    assert_passes_axe(page, axe)


def assert_once_tries_only(
    context_factory: ContextFactory, axe: AxeRunner, base: str, path: str, hosts: set[str]
) -> None:
    """After "load once" at ``base + path`` the browser tries exactly ``hosts`` besides
    loopback, and the loopback fence (not the loaded page's CSP, which admits them) is
    what stops them; still no cookie, and the loaded page passes axe."""
    page, log = open_page(context_factory)
    page.goto(f"{base}{path}", wait_until="networkidle")
    log.clear()
    page.locator("button[value=once]").click()
    page.wait_for_load_state("networkidle")
    tried = log.hosts() - {"127.0.0.1"}
    assert tried == hosts, log.network_urls()
    foreign = log.foreign(base)
    assert foreign and set(foreign) <= set(log.blocked()), log.failures
    assert page.context.cookies() == []
    assert_passes_axe(page, axe)


@contextmanager
def seeded_site(data_dir: Path, upstream_base: str, urls: Sequence[str]) -> Iterator[str]:
    """embedguard on loopback with ``urls`` allowed through the fake upstream at
    ``upstream_base``; yields its base URL."""
    from embedguard.app import create_app
    from embedguard.settings import Settings

    from ..conftest import TEST_KEYS
    from ..helpers import seed_embeds
    from ..servers import run_asgi_in_thread, upstream_map_for

    settings = Settings(
        secret_keys=TEST_KEYS,
        data_dir=data_dir,
        upstream_map=json.loads(upstream_map_for(upstream_base)),
    )
    seed_embeds(settings, urls)
    with run_asgi_in_thread(create_app(settings)) as url:
        yield url


def seeded_site_fixture(name: str, urls: Sequence[str]) -> object:
    """A module-scoped fixture giving the base URL of :func:`seeded_site` with ``urls``
    allowed, its data in a temporary folder named after ``name``. In a test module:
    ``base = seeded_site_fixture("social-flow", URLS)``."""

    @pytest.fixture(scope="module")
    def base(
        tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
    ) -> Iterator[str]:
        data_dir = tmp_path_factory.mktemp(name) / "data"
        with seeded_site(data_dir, fake_upstream[0], urls) as url:
            yield url

    return base
