"""The admin in a real browser: log in, add a Vimeo video, copy its snippet into a host page,
see the placeholder there, try it in the live preview without counting as a visitor;
axe-core checks every admin page against WCAG 2.1 AA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from embedguard import users
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings

from ..conftest import TEST_KEYS
from ..fake_upstream import VIMEO_OK, VIMEO_OK_TITLE
from ..helpers import seed_embeds
from ..servers import run_asgi_in_thread, upstream_map_for
from .harness import AxeRunner, ContextFactory, RequestLog, format_violations

pytestmark = pytest.mark.browser

USER, PASSWORD = "redaktion", "ein-langes-passwort"


@dataclass(frozen=True)
class Site:
    base: str  # embedguard
    host: str  # the county's page that embeds the snippet
    host_app: Starlette
    services: Services


async def _host_page(request: Request) -> HTMLResponse:
    snippet = request.app.state.snippet  # pasted as is, the way an integrator would
    return HTMLResponse(
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Landkreis</title>'
        f"</head><body><main><h1>Wirtschaft in Mittelsachsen</h1>{snippet}</main></body></html>"
    )


@pytest.fixture
def site(
    tmp_path: Path, fake_upstream: tuple[str, Starlette], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_hasher", hasher)
    monkeypatch.setattr(users, "_DUMMY_HASH", hasher.hash("no-such-user"))
    settings = Settings(
        secret_keys=TEST_KEYS,
        data_dir=tmp_path / "data",
        upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
    )
    services = Services.build(settings)
    users.set_password(services.store, USER, PASSWORD)
    host_app = Starlette(routes=[Route("/", _host_page)])
    host_app.state.snippet = ""
    with (
        run_asgi_in_thread(host_app) as host,
        run_asgi_in_thread(create_app(settings, services)) as base,
    ):
        yield Site(base, host.replace("127.0.0.1", "localhost"), host_app, services)


def _check_axe(page: Page, axe: AxeRunner) -> None:
    violations = axe(page)
    assert violations == [], f"{page.url}:\n{format_violations(violations)}"


def _log_in(page: Page, site: Site, axe: AxeRunner) -> None:
    page.goto(f"{site.base}/admin/")
    expect(page).to_have_url(f"{site.base}/admin/login?next=/admin/")
    _check_axe(page, axe)
    page.get_by_label("Benutzername").fill(USER)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{site.base}/admin/")


def test_add_a_video_copy_its_snippet_and_see_the_placeholder(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    context: BrowserContext = context_factory(locale="de-DE")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page = context.new_page()
    requests = RequestLog.attach(context)
    _log_in(page, site, axe)

    page.get_by_role("link", name="Video, Seite oder Beitrag hinzufügen").click()
    page.get_by_label("Adresse (URL)").fill(f"https://vimeo.com/{VIMEO_OK}")
    page.get_by_role("button", name="Vorschau anzeigen").click()
    expect(page.get_by_text(VIMEO_OK_TITLE)).to_be_visible()
    _check_axe(page, axe)
    page.get_by_role("button", name="Zur Freigabeliste hinzufügen").click()
    expect(page).to_have_url(f"{site.base}/admin/embeds/vimeo:{VIMEO_OK}")
    expect(page.get_by_role("status").first).to_contain_text("Hinzugefügt")
    expect(page.frame_locator(".live-preview iframe").locator("h1")).to_have_text(VIMEO_OK_TITLE)
    _check_axe(page, axe)

    page.get_by_role("button", name="iframe-Baustein kopieren").click()
    expect(page.locator("#copy-status-iframe")).to_have_text("Kopiert.")
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet == page.locator("#snippet-iframe").input_value()
    assert f'src="{site.base}/vimeo/{VIMEO_OK}"' in snippet

    # The county's site may frame the embeds: set it in the settings.
    page.get_by_role("link", name="Einstellungen").click()
    page.get_by_label("Websites, die die Inhalte einbinden dürfen").fill(site.host)
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("gespeichert")
    _check_axe(page, axe)

    site.host_app.state.snippet = snippet
    visitor = context_factory(locale="de-DE").new_page()
    visitor_requests = RequestLog.attach(visitor)
    visitor.goto(f"{site.host}/", wait_until="networkidle")
    frame = visitor.frame_locator("iframe")
    expect(frame.locator("h1")).to_have_text(VIMEO_OK_TITLE)
    expect(frame.locator("form[action='/consent'] button")).to_have_count(2)
    assert all("127.0.0.1" in url or "localhost" in url for url in visitor_requests.urls)
    assert requests.blocked() == []


def test_every_admin_page_passes_axe(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    page = context_factory(locale="de-DE").new_page()
    _log_in(page, site, axe)
    page.goto(f"{site.base}/admin/embeds/add")
    page.get_by_label("Adresse (URL)").fill("http://127.0.0.1/")
    page.get_by_role("button", name="Vorschau anzeigen").click()
    expect(page.get_by_role("alert")).to_contain_text("kann embedguard nicht anzeigen")
    _check_axe(page, axe)
    page.get_by_label("Adresse (URL)").fill(f"https://vimeo.com/{VIMEO_OK}")
    page.get_by_role("button", name="Vorschau anzeigen").click()
    page.get_by_role("button", name="Zur Freigabeliste hinzufügen").click()
    for path in (
        "/admin/",
        "/admin/?lang=en",
        f"/admin/embeds/vimeo:{VIMEO_OK}/remove",
        "/admin/settings",
        "/admin/texts",
        "/admin/usage",
        "/admin/audit",
        "/admin/audit?lang=de",
    ):
        page.goto(f"{site.base}{path}")
        _check_axe(page, axe)
    page.emulate_media(color_scheme="dark")
    for path in ("/admin/", "/admin/texts"):
        page.goto(f"{site.base}{path}")
        _check_axe(page, axe)


def _usage(services: Services) -> dict[str, int]:
    services.usage.flush()
    return {row["event"]: row["count"] for row in services.store.usage()}


def test_trying_the_live_preview_counts_nothing(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    """Load once, always and stop, clicked in the admin's preview frame, work as for a
    visitor and leave the usage counts at zero; the same click by a visitor counts."""
    seed_embeds(site.services.settings, [f"https://vimeo.com/{VIMEO_OK}"])
    page = context_factory(locale="de-DE").new_page()
    _log_in(page, site, axe)
    page.goto(f"{site.base}/admin/embeds/vimeo:{VIMEO_OK}")
    preview = page.frame_locator(".live-preview iframe")
    player = preview.locator(f"iframe[src^='https://player.vimeo.com/video/{VIMEO_OK}']")
    preview.get_by_role("button", name="Einmal laden").click()
    expect(player).to_have_count(1)
    page.reload()
    preview.get_by_role("button", name="Immer laden").click()
    expect(player).to_have_count(1)
    preview.get_by_role("button", name="Vimeo nicht mehr automatisch laden").click()
    expect(preview.get_by_role("button", name="Einmal laden")).to_be_visible()
    assert _usage(site.services) == {}

    visitor = context_factory(locale="de-DE").new_page()
    visitor.goto(f"{site.base}/vimeo/{VIMEO_OK}")
    visitor.get_by_role("button", name="Einmal laden").click()
    expect(visitor.locator("iframe[src^='https://player.vimeo.com/video/']")).to_have_count(1)
    assert _usage(site.services) == {"view": 1, "load_once": 1}


def test_an_admins_own_visits_count_nothing_until_logout(
    site: Site, context_factory: ContextFactory, axe: AxeRunner
) -> None:
    """Logged in, the admin opens the embed on the county's page (same site: another port
    of 127.0.0.1) and directly, and clicks through it: nothing is counted (the staff cookie,
    SameSite=Strict on /). After logging out the same browser counts as a visitor."""
    seed_embeds(site.services.settings, [f"https://vimeo.com/{VIMEO_OK}"])
    same_site_host = site.host.replace("localhost", "127.0.0.1")
    site.services.store.set_setting("frame_ancestors", same_site_host)
    site.host_app.state.snippet = (
        f'<iframe src="{site.base}/vimeo/{VIMEO_OK}" title="Video" width="640" height="360">'
        "</iframe>"
    )
    page = context_factory(locale="de-DE").new_page()
    _log_in(page, site, axe)
    player = f"iframe[src^='https://player.vimeo.com/video/{VIMEO_OK}']"

    page.goto(f"{same_site_host}/")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="Einmal laden").click()
    expect(frame.locator(player)).to_have_count(1)
    page.goto(f"{site.base}/vimeo/{VIMEO_OK}")
    page.get_by_role("button", name="Immer laden").click()
    expect(page.locator(player)).to_have_count(1)
    page.get_by_role("button", name="Vimeo nicht mehr automatisch laden").click()
    expect(page.get_by_role("button", name="Einmal laden")).to_be_visible()
    assert _usage(site.services) == {}

    page.goto(f"{site.base}/admin/")
    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(f"{site.base}/admin/login")
    page.goto(f"{same_site_host}/")
    page.frame_locator("iframe").get_by_role("button", name="Einmal laden").click()
    expect(page.frame_locator("iframe").locator(player)).to_have_count(1)
    assert _usage(site.services) == {"view": 1, "load_once": 1}
