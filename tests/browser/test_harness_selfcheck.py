"""The browser harness can fail: it sees leaked requests, fences them off, and axe finds
violations. If these pass, a green browser test means something."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from ..servers import run_asgi_in_thread
from .harness import AxeRunner, RequestLog, format_violations

pytestmark = pytest.mark.browser

# The same kind of policy as embedguard's pre-consent pages: no inline script at all.
STRICT_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'"

LEAKY = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leaky</title></head>
<body><main><h1>Leaky</h1>
<img src="https://example.com/x.png" alt="tracking pixel">
<iframe src="https://example.org/" title="third party"></iframe>
<img src="/own.png" alt="own image"></main></body></html>"""

BAD_A11Y = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad</title></head>
<body><main><h1>Bad</h1><img src="/own.png"><button></button></main></body></html>"""

CLEAN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clean</title></head>
<body><main><h1>Clean</h1><p>Nothing to see.</p>
<img src="/own.png" alt="A gradient"><button type="button">Load video</button>
</main></body></html>"""


async def _html(request: Request) -> HTMLResponse:
    pages = {"leaky": LEAKY, "bad": BAD_A11Y, "clean": CLEAN}
    csp = {"content-security-policy": STRICT_CSP} if "csp" in request.query_params else {}
    return HTMLResponse(pages[request.path_params["name"]], headers=csp)


async def _own_png(request: Request) -> PlainTextResponse:
    return PlainTextResponse("not really a png")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    app = Starlette(routes=[Route("/own.png", _own_png), Route("/{name}", _html)])
    with run_asgi_in_thread(app) as base:
        yield base


def test_foreign_requests_are_recorded_and_never_fetched(
    site: str, page: Page, request_log: RequestLog
) -> None:
    page.goto(f"{site}/leaky", wait_until="networkidle")
    foreign = request_log.foreign(site)
    assert sorted(foreign) == ["https://example.com/x.png", "https://example.org/"]
    assert sorted(request_log.blocked()) == sorted(foreign)
    assert not set(foreign) & set(request_log.answered)
    assert f"{site}/own.png" in request_log.answered
    assert request_log.hosts() == {"127.0.0.1", "example.com", "example.org"}
    request_log.clear()
    assert request_log.foreign(site) == []


def test_csp_refused_requests_are_recorded_too(
    site: str, page: Page, request_log: RequestLog
) -> None:
    page.goto(f"{site}/leaky?csp", wait_until="networkidle")
    # The image is attempted and refused by CSP (never reaches the fence); the frame is
    # refused before it becomes a request. Both mean the page never contacted the host.
    assert request_log.foreign(site) == ["https://example.com/x.png"]
    assert request_log.failures["https://example.com/x.png"] == "csp"


@pytest.mark.parametrize("csp", ["", "?csp"], ids=["no-csp", "strict-csp"])
def test_axe_finds_violations_and_passes_clean_pages(
    site: str, page: Page, axe: AxeRunner, csp: str
) -> None:
    page.goto(f"{site}/bad{csp}")
    found = {violation["id"] for violation in axe(page)}
    assert {"image-alt", "button-name"} <= found, format_violations(axe(page))
    page.goto(f"{site}/clean{csp}")
    violations = axe(page)
    assert violations == [], format_violations(violations)
