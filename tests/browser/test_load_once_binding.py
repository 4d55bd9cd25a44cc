""" "Load once" in Chromium: only the visitor's own click loads the player, exactly once.

Another site (a second loopback server, reached as ``localhost`` so that it is cross-site
to embedguard on ``127.0.0.1``) can neither link to a URL that loads the player nor post
the consent form itself; a replay in the visitor's own browser loads nothing either.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from embedguard.signing import Signer

from ..conftest import TEST_KEYS
from ..fake_upstream import VIMEO_OK
from ..helpers import seed_embeds
from ..servers import run_asgi_in_thread, upstream_map_for
from .harness import ContextFactory, RequestLog, open_page

pytestmark = pytest.mark.browser

PLAYER = "player.vimeo.com"
VIDEO = f"/vimeo/{VIMEO_OK}"


@dataclass(frozen=True)
class Sites:
    base: str  # embedguard, http://127.0.0.1:PORT
    other: str  # another site, http://localhost:PORT
    other_app: Starlette


async def _other_page(request: Request) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other site</title>'
        f"</head><body>{request.app.state.body}</body></html>"
    )


@pytest.fixture(scope="module")
def sites(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[Sites]:
    from embedguard.app import create_app
    from embedguard.settings import Settings

    settings = Settings(
        secret_keys=TEST_KEYS,
        data_dir=Path(tmp_path_factory.mktemp("once-binding")) / "data",
        upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
    )
    seed_embeds(settings, [f"https://vimeo.com/{VIMEO_OK}"])
    other_app = Starlette(routes=[Route("/", _other_page)])
    other_app.state.body = ""
    with (
        run_asgi_in_thread(create_app(settings)) as base,
        run_asgi_in_thread(other_app) as other,
    ):
        yield Sites(base, other.replace("127.0.0.1", "localhost"), other_app)


def captured_once_url(base: str) -> str:
    """What an outsider gets for "load once" without a browser (curl, no cookie, no Origin):
    the URL it redirects to, or, when it answers with the page itself, a URL in the form
    "once" links used to have (a signed token for this video)."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        response = client.post(
            "/consent", data={"provider": "vimeo", "scope": "once", "next": VIDEO}
        )
    if "location" in response.headers:
        return f"{base}{response.headers['location']}"
    token = Signer(TEST_KEYS).sign({"p": "vimeo", "e": f"vimeo:{VIMEO_OK}"}, namespace="once")
    return f"{base}{VIDEO}?consent={token}"


def player_requests(log: RequestLog) -> list[str]:
    return [url for url in log.urls if PLAYER in url]


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_link_from_another_site_loads_no_player(
    sites: Sites, context_factory: ContextFactory, js: bool
) -> None:
    url = captured_once_url(sites.base)
    sites.other_app.state.body = f'<a id="go" href="{html.escape(url)}">Watch</a>'
    page, log = open_page(context_factory, js)
    page.goto(sites.other, wait_until="networkidle")
    page.click("#go")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{sites.base}{VIDEO}")
    assert player_requests(log) == []
    assert page.locator("button[value=once]").count() == 1, "the placeholder, asking"


def test_another_site_cannot_post_the_consent_form(
    sites: Sites, context_factory: ContextFactory
) -> None:
    sites.other_app.state.body = (
        f'<form id="f" method="post" action="{sites.base}/consent">'
        '<input type="hidden" name="provider" value="vimeo">'
        '<input type="hidden" name="scope" value="once">'
        f'<input type="hidden" name="next" value="{VIDEO}">'
        '<button id="go">Go</button></form>'
    )
    page, log = open_page(context_factory)
    page.goto(sites.other, wait_until="networkidle")
    with page.expect_response(f"{sites.base}/consent") as answer:
        page.click("#go")
    assert answer.value.status == 403
    page.wait_for_load_state("networkidle")
    assert player_requests(log) == []


def test_another_site_cannot_frame_a_loaded_player(
    sites: Sites, context_factory: ContextFactory
) -> None:
    url = captured_once_url(sites.base)
    sites.other_app.state.body = f'<iframe src="{html.escape(url)}" title="x"></iframe>'
    page, log = open_page(context_factory)
    page.goto(sites.other, wait_until="networkidle")
    assert player_requests(log) == []


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_the_click_loads_once_and_a_replay_loads_nothing(
    sites: Sites, context_factory: ContextFactory, js: bool
) -> None:
    page, log = open_page(context_factory, js)
    page.goto(f"{sites.base}{VIDEO}", wait_until="networkidle")
    assert player_requests(log) == []
    page.locator("button[value=once]").click()
    page.wait_for_load_state("networkidle")
    assert player_requests(log), "the visitor's own click loads the player"
    assert page.context.cookies() == [], "nothing lasting"

    log.clear()
    page.go_back(wait_until="networkidle")
    assert page.locator("button[value=once]").count() == 1
    page.goto(f"{sites.base}{VIDEO}", wait_until="networkidle")
    page.goto(captured_once_url(sites.base), wait_until="networkidle")
    assert player_requests(log) == []
