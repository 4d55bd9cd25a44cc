"""The allowlist in the admin: add with preview, edit, uploads, switch, refresh, remove."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from embedguard.services import Services
from embedguard.store import Embed

from .fake_upstream import VIMEO_FORBIDDEN, VIMEO_OK, VIMEO_OK_2, VIMEO_OK_2_TITLE, VIMEO_OK_TITLE
from .test_admin_support import (
    USER,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    token_for,
)

KEY = f"vimeo:{VIMEO_OK}"
PAGE = f"/admin/embeds/{KEY}"


def _png(width: int = 640, height: int = 360, color: tuple[int, int, int] = (20, 90, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def _add(client: TestClient, url: str, step: str = "preview", **extra: str) -> Any:
    data = {"url": url, "step": step, "csrf_token": token_for(client), **extra}
    return client.post("/admin/embeds/add", data=data)


def _edit(client: TestClient, embed: Embed, files: Any = None, **fields: str) -> Any:
    data = {
        "csrf_token": token_for(client, PAGE),
        "revision": str(embed.revision),
        "title": embed.title_override,
        "description": embed.description_override,
        **fields,
    }
    return client.post(f"{PAGE}/edit", data=data, files=files)


def _state(services: Services) -> Any:
    return services.store.list_embeds(), [e["id"] for e in services.store.audit_log()]


# -- adding -------------------------------------------------------------------------------


def test_adding_shows_a_preview_first_and_stores_only_on_confirm(
    admin: TestClient, services: Services
) -> None:
    url = f"https://vimeo.com/{VIMEO_OK}"
    preview = _add(admin, url)
    assert preview.status_code == 200
    assert VIMEO_OK_TITLE in preview.text
    assert 'name="step" value="confirm"' in preview.text
    assert services.store.list_embeds() == []

    added = _add(admin, url, "confirm", title="Unser Film")
    assert added.status_code == 303
    assert added.headers["location"] == PAGE
    embed = services.store.get_embed(KEY)
    assert embed is not None
    assert embed.title == VIMEO_OK_TITLE and embed.title_override == "Unser Film"
    entry = services.store.audit_log(action="embed.add")[0]
    assert entry["actor"] == USER and entry["target"] == KEY
    assert entry["before"] == ""
    assert json.loads(entry["after"])["title_override"] == "Unser Film"
    page = admin.get(PAGE)
    assert "Hinzugefügt: Unser Film" in page.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8000/vimeo/76979871",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://localhost/admin/",
        "javascript:alert(1)",
        "https://example.com/video/76979871",
        "https://vimeo.com@127.0.0.1/76979871",
        "https://vimeo.com/0076979871",
        "https://vimeo.com/" + "1" * 3000,
        "   ",
    ],
)
def test_unsupported_or_internal_addresses_are_explained_and_never_fetched(
    admin: TestClient, services: Services, upstream_requests: list[object], url: str
) -> None:
    before = _state(services)
    for step in ("preview", "confirm"):
        response = _add(admin, url, step)
        assert response.status_code == 400
        assert 'class="flash flash-error"' in response.text
        assert "Vimeo" in response.text or "Adresse" in response.text
    assert _state(services) == before
    assert upstream_requests == []


@pytest.mark.parametrize("video", [VIMEO_FORBIDDEN, 99999999])
def test_items_the_provider_does_not_confirm_are_explained_and_not_stored(
    admin: TestClient, services: Services, video: int
) -> None:
    before = _state(services)
    for step in ("preview", "confirm"):
        response = _add(admin, f"https://vimeo.com/{video}", step)
        assert response.status_code == 400
        assert "Der Anbieter konnte diesen Inhalt nicht bestätigen" in response.text
    assert _state(services) == before


def test_a_duplicate_add_is_refused_and_changes_nothing(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(KEY, title_override="Eigener Titel")
    before = _state(services)
    for url in (f"https://vimeo.com/{VIMEO_OK}", f"https://player.vimeo.com/video/{VIMEO_OK}"):
        response = _add(admin, url, "confirm", title="Anders")
        assert response.status_code == 400
        assert "bereits auf der Freigabeliste" in response.text
    assert _state(services) == before


def test_an_overlong_title_on_add_is_refused(admin: TestClient, services: Services) -> None:
    response = _add(admin, f"https://vimeo.com/{VIMEO_OK}", "confirm", title="x" * 301)
    assert response.status_code == 400
    assert services.store.list_embeds() == []


# -- the list and one embed ---------------------------------------------------------------


def test_list_shows_title_provider_status_and_refresh(
    admin: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(KEY)
    stored_embed(f"vimeo:{VIMEO_OK_2}", enabled=False, status="gone")
    page = admin.get("/admin/")
    assert page.status_code == 200
    assert "Ein Video" in page.text and "Vimeo" in page.text
    assert "ausgeblendet" in page.text
    assert "beim Anbieter nicht mehr verfügbar" in page.text
    assert f'href="{PAGE}"' in page.text


def test_detail_page_offers_both_snippets_a_copy_button_and_a_live_preview(
    admin: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(KEY, width=1280, height=720)
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.text
    iframe = f"&lt;iframe src=&#34;http://testserver/vimeo/{VIMEO_OK}&#34;"
    assert iframe in html
    for part in (
        "title=&#34;Ein Video&#34;",
        "loading=&#34;lazy&#34;",
        "allow=&#34;autoplay",
        "aspect-ratio:640/360",
        "width=&#34;640&#34;",
        "height=&#34;360&#34;",
    ):
        assert part in html, part
    assert "/embed.js" in html and "data-embedguard" in html
    assert 'data-copy-target="snippet-iframe"' in html
    # The live preview is the visitor's page, marked so that it is not counted as a view.
    assert f'<iframe src="/vimeo/{VIMEO_OK}?preview=' in html
    csp = page.headers["content-security-policy"]
    assert "frame-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_snippets_use_the_public_url_when_set(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    from dataclasses import replace

    stored_embed(KEY)
    services.settings = replace(services.settings, public_url="https://embed.example.de")
    page = admin.get(PAGE).text
    assert "https://embed.example.de/vimeo/76979871" in page
    assert "public-url-note" not in page and "testserver" not in page


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("de", "EMBEDGUARD_PUBLIC_URL ist nicht gesetzt, daher verwenden diese Bausteine die "
         "Adresse dieses Aufrufs: http://testserver."),
        ("en", "EMBEDGUARD_PUBLIC_URL is not set, so these snippets use the address of this "
         "request: http://testserver."),
    ],
)  # fmt: skip
def test_snippets_from_the_request_address_say_so(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed], lang: str, words: str
) -> None:
    assert services.settings.public_url == ""
    stored_embed(KEY)
    page = admin.get(PAGE, params={"lang": lang}).text
    assert f"http://testserver/vimeo/{VIMEO_OK}" in page
    note = page.split('id="public-url-note">', 1)[1].split("</p>", 1)[0]
    assert note.startswith(words), note
    # Next to the snippets it is about: after their heading, before the first of them.
    assert (
        page.index("snippets-title") < page.index("public-url-note") < page.index("snippet-iframe")
    )


def test_unknown_embed_pages_are_404(admin: TestClient) -> None:
    for path in ("/admin/embeds/vimeo:1", "/admin/embeds/nothing", "/admin/embeds/x/remove"):
        assert admin.get(path).status_code == 404
    token = token_for(admin)
    for action in ("enable", "disable", "refresh", "remove", "edit"):
        response = admin.post(f"/admin/embeds/vimeo:1/{action}", data={"csrf_token": token})
        assert response.status_code == 404


# -- editing ------------------------------------------------------------------------------


def test_edit_is_audited_with_before_and_after(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    embed = stored_embed(KEY)
    response = _edit(admin, embed, title="  Neuer Titel ", description="Zeile 1\nZeile 2")
    assert response.status_code == 303
    saved = services.store.get_embed(KEY)
    assert saved is not None
    assert saved.title_override == "Neuer Titel"
    assert saved.display_description == "Zeile 1\nZeile 2"
    assert saved.revision == embed.revision + 1
    entry = services.store.audit_log(action="embed.update")[0]
    assert entry["actor"] == USER
    assert json.loads(entry["before"])["title_override"] == ""
    assert json.loads(entry["after"])["title_override"] == "Neuer Titel"


def test_a_stale_edit_is_refused_and_keeps_the_newer_change(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    loaded = stored_embed(KEY)
    assert _edit(admin, loaded, title="Zuerst").status_code == 303
    response = _edit(admin, loaded, title="Später, aber veraltet")
    assert response.status_code == 409
    assert "inzwischen geändert" in response.text
    current = services.store.get_embed(KEY)
    assert current is not None and current.title_override == "Zuerst"


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "x" * 301},
        {"description": "y" * 2001},
        {"revision": "not-a-number"},
        {"revision": "9" * 40},
    ],
)
def test_bad_edits_change_nothing(
    admin: TestClient,
    services: Services,
    stored_embed: Callable[..., Embed],
    fields: dict[str, str],
) -> None:
    embed = stored_embed(KEY)
    before = _state(services)
    response = _edit(admin, embed, **fields)
    assert response.status_code in (400, 409)
    assert 'class="flash flash-error"' in response.text
    assert _state(services) == before


def test_a_custom_preview_image_is_checked_reencoded_and_used(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    embed = stored_embed(KEY)
    files = {"image": ("poster.png", _png(), "image/png")}
    assert _edit(admin, embed, files=files).status_code == 303
    saved = services.store.get_embed(KEY)
    assert saved is not None and saved.poster_custom and saved.poster
    name = json.loads(saved.poster)["name"]
    assert admin.get(f"/posters/{name}-480.jpg").headers["content-type"] == "image/jpeg"


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("notes.txt", b"just some text, not a picture", 400),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400),
        ("tiny.png", _png(8, 8), 400),
        ("bomb.png", _bomb(), 400),
        ("huge.png", b"\x89PNG" + b"\x00" * (5 * 1024 * 1024 + 10), 413),
    ],
    ids=["text", "broken-png", "too-small", "image-bomb", "over-5mb"],
)
def test_bad_uploads_are_refused_and_change_nothing(
    admin: TestClient,
    services: Services,
    stored_embed: Callable[..., Embed],
    name: str,
    data: bytes,
    status: int,
) -> None:
    embed = stored_embed(KEY)
    before = _state(services)
    response = _edit(admin, embed, files={"image": (name, data, "image/png")}, title="Neu")
    assert response.status_code == status
    assert 'class="flash flash-error"' in response.text
    assert _state(services) == before


def test_a_body_beyond_the_admin_limit_is_refused(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    embed = stored_embed(KEY)
    before = _state(services)
    files = {"image": ("big.png", b"\x00" * (7 * 1024 * 1024), "image/png")}
    assert _edit(admin, embed, files=files).status_code == 413
    assert _state(services) == before


def test_plain_admin_forms_keep_a_small_body_limit(admin: TestClient) -> None:
    data = {"csrf_token": token_for(admin), "url": "https://vimeo.com/1" + "1" * 100_000}
    assert admin.post("/admin/embeds/add", data=data).status_code == 413


# -- enable, disable, refresh, remove -----------------------------------------------------


def test_disable_and_enable_switch_the_visitor_page_and_are_audited(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(KEY)
    token = token_for(admin)
    assert admin.post(f"{PAGE}/disable", data={"csrf_token": token}).status_code == 303
    assert admin.get(f"/vimeo/{VIMEO_OK}").status_code == 404
    entry = services.store.audit_log(action="embed.update")[0]
    assert json.loads(entry["before"])["enabled"] is True
    assert json.loads(entry["after"])["enabled"] is False
    response = admin.post(f"{PAGE}/enable", data={"csrf_token": token, "back": "list"})
    assert response.headers["location"] == "/admin/"
    assert admin.get(f"/vimeo/{VIMEO_OK}").status_code == 200


def test_remove_asks_first_then_removes_and_audits(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(KEY)
    confirm = admin.get(f"{PAGE}/remove")
    assert confirm.status_code == 200
    assert services.store.get_embed(KEY) is not None
    assert 'action="/admin/embeds/vimeo:76979871/remove"' in confirm.text
    response = admin.post(f"{PAGE}/remove", data={"csrf_token": token_for(admin)})
    assert response.status_code == 303
    assert services.store.get_embed(KEY) is None
    entry = services.store.audit_log(action="embed.remove")[0]
    assert entry["actor"] == USER and json.loads(entry["before"])["key"] == KEY
    assert entry["after"] == ""


def test_refresh_asks_the_provider_again(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(f"vimeo:{VIMEO_OK_2}", title="alt", description_override="bleibt")
    path = f"/admin/embeds/vimeo:{VIMEO_OK_2}"
    response = admin.post(f"{path}/refresh", data={"csrf_token": token_for(admin)})
    assert response.status_code == 303
    embed = services.store.get_embed(f"vimeo:{VIMEO_OK_2}")
    assert embed is not None and embed.title == VIMEO_OK_2_TITLE
    assert embed.description_override == "bleibt"
    assert "Abgeglichen" in admin.get(path).text


def test_refresh_of_a_vanished_item_marks_it_gone(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:99999999")
    path = "/admin/embeds/vimeo:99999999"
    response = admin.post(f"{path}/refresh", data={"csrf_token": token_for(admin)})
    assert response.status_code == 303
    embed = services.store.get_embed("vimeo:99999999")
    assert embed is not None and embed.status == "gone"
    assert "nicht mehr verfügbar" in admin.get(path).text
