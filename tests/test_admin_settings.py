"""Admin settings, texts, usage counts and the audit log."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import privacy_info
from embedguard.consent import COOKIE_NAME
from embedguard.services import Services
from embedguard.store import Embed

from .test_admin_support import (
    USER,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    token_for,
)


def _settings(client: TestClient, **fields: str) -> Any:
    data = {"csrf_token": token_for(client, "/admin/settings"), **fields}
    return client.post("/admin/settings", data=data)


def _texts(client: TestClient, path: str, fields: dict[str, str]) -> Any:
    data = {"csrf_token": token_for(client, "/admin/texts"), **fields}
    return client.post(path, data=data)


# -- settings -----------------------------------------------------------------------------


def test_stored_settings_override_the_environment_and_are_audited(
    admin: TestClient, services: Services
) -> None:
    assert services.live.consent_days() == 180
    response = _settings(
        admin, consent_days="30", frame_ancestors="https://www.example.de  https://example.de"
    )
    assert response.status_code == 303
    assert services.live.consent_days() == 30
    assert services.live.frame_ancestors() == ("https://www.example.de", "https://example.de")
    entry = services.store.audit_log(action="setting.update", target="consent_days")[0]
    assert entry["actor"] == USER
    assert (entry["before"], entry["after"]) == ("", "30")
    assert "Einstellungen gespeichert" in admin.get("/admin/settings").text
    # Empty origins: back to the environment's default.
    assert _settings(admin, consent_days="30", frame_ancestors="").status_code == 303
    assert services.live.frame_ancestors() == services.settings.frame_ancestors


@pytest.mark.parametrize(
    "fields",
    [
        {"consent_days": "0", "frame_ancestors": ""},
        {"consent_days": "731", "frame_ancestors": ""},
        {"consent_days": "3.5", "frame_ancestors": ""},
        {"consent_days": "٣", "frame_ancestors": ""},
        {"consent_days": "", "frame_ancestors": ""},
        {"consent_days": "30", "frame_ancestors": "https://a.example; script-src *"},
        {"consent_days": "30", "frame_ancestors": "'none' https://a.example"},
        {"consent_days": "30", "frame_ancestors": "javascript:alert(1)"},
        {"consent_days": "30", "frame_ancestors": "x" * 3000},
    ],
)
def test_bad_settings_are_explained_and_nothing_is_stored(
    admin: TestClient, services: Services, fields: dict[str, str]
) -> None:
    before = services.store.all_settings(), len(services.store.audit_log())
    response = _settings(admin, **fields)
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.text
    assert (services.store.all_settings(), len(services.store.audit_log())) == before


def test_asking_everyone_again_invalidates_existing_consent(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:76979871")
    codec = services.consent_codec()
    given = codec.read_cookie(None, services.live.policy_version()).with_provider(
        "vimeo", services.live.policy_version()
    )
    visitor = TestClient(admin.app)
    visitor.cookies.set(COOKIE_NAME, codec.cookie_value(given))
    assert "player.vimeo.com" in visitor.get("/vimeo/76979871").text

    data = {"csrf_token": token_for(admin, "/admin/settings")}
    assert admin.post("/admin/settings/ask-again", data=data).status_code == 303
    assert services.live.policy_version() == 2
    assert "player.vimeo.com" not in visitor.get("/vimeo/76979871").text
    entry = services.store.audit_log(target="policy_version")[0]
    assert (entry["actor"], entry["after"]) == (USER, "2")


# -- texts --------------------------------------------------------------------------------


def test_notice_texts_preview_without_saving_then_save_with_audit(
    admin: TestClient, services: Services
) -> None:
    fields = {"notice.vimeo.de": "Bitte beachten Sie.", "notice.vimeo.en": "Please note."}
    preview = _texts(admin, "/admin/texts/notices", {**fields, "do": "preview"})
    assert preview.status_code == 200
    assert "Vorschau (noch nicht gespeichert)" in preview.text
    assert "Bitte beachten Sie." in preview.text
    assert services.store.get_setting("notice.vimeo") is None

    saved = _texts(admin, "/admin/texts/notices", {**fields, "do": "save"})
    assert saved.status_code == 303
    assert services.store.get_setting("notice.vimeo") == {
        "de": "Bitte beachten Sie.",
        "en": "Please note.",
    }
    entry = services.store.audit_log(target="notice.vimeo")[0]
    assert entry["actor"] == USER and json.loads(entry["after"])["en"] == "Please note."


def test_an_overlong_notice_text_is_refused(admin: TestClient, services: Services) -> None:
    response = _texts(admin, "/admin/texts/notices", {"notice.vimeo.de": "x" * 2001})
    assert response.status_code == 400
    assert services.store.get_setting("notice.vimeo") is None


def _privacy_fields(info: privacy_info.PrivacyInfo) -> dict[str, str]:
    fields = {
        "controller.de": info.controller.de,
        "controller.en": info.controller.en,
        "address": "\n".join(info.address),
        "last_review": info.last_review,
    }
    for i, contact in enumerate(info.contacts):
        fields |= {
            f"contacts.{i}.name.de": contact.name.de,
            f"contacts.{i}.email": contact.email,
            f"contacts.{i}.phone": contact.phone,
        }
    for i, site in enumerate(info.websites):
        fields |= {f"websites.{i}.url": site.url, f"websites.{i}.description.de": ""}
    return fields


def test_privacy_information_is_edited_through_privacy_info(
    admin: TestClient, services: Services
) -> None:
    page = admin.get("/admin/texts")
    assert 'name="contacts.0.email"' in page.text
    fields = _privacy_fields(privacy_info.load(services.store))
    fields["contacts.0.email"] = "neu@landkreis-mittelsachsen.de"
    fields["contacts.9.name.de"] = ""  # an empty extra row is ignored
    preview = _texts(admin, "/admin/texts/privacy", {**fields, "do": "preview"})
    assert preview.status_code == 200
    assert "neu@landkreis-mittelsachsen.de" in preview.text
    assert services.store.get_setting(privacy_info.SETTING_KEY) is None

    saved = _texts(admin, "/admin/texts/privacy", {**fields, "do": "save"})
    assert saved.status_code == 303
    info = privacy_info.load(services.store)
    assert info.contacts[0].email == "neu@landkreis-mittelsachsen.de"
    assert services.store.audit_log(target=privacy_info.SETTING_KEY)[0]["actor"] == USER


@pytest.mark.parametrize(
    "change",
    [
        {"contacts.0.email": "not an address"},
        {"controller.de": ""},
        {"controller.de": "x" * 2001},
        {"last_review": "gestern"},
        {"websites.0.url": "javascript:alert(1)"},
        {"contacts": "flat"},
        {"controller.de.deeper": "x"},
    ],
)
def test_bad_privacy_information_is_refused(
    admin: TestClient, services: Services, change: dict[str, str]
) -> None:
    fields = {**_privacy_fields(privacy_info.load(services.store)), **change}
    response = _texts(admin, "/admin/texts/privacy", {**fields, "do": "save"})
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.text
    assert services.store.get_setting(privacy_info.SETTING_KEY) is None


# -- usage and audit ----------------------------------------------------------------------


def test_usage_shows_anonymous_counts(
    admin: TestClient, app: Starlette, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:76979871")
    visitor = TestClient(app)  # the admin's own views are not counted (staff.py)
    for _ in range(3):
        visitor.get("/vimeo/76979871")
    page = admin.get("/admin/usage")
    assert page.status_code == 200
    assert "<code>vimeo:76979871</code>" in page.text
    assert "<td>3</td>" in page.text
    assert admin.get("/admin/usage?since=not-a-date").status_code == 200


def test_audit_log_lists_and_filters_changes(
    admin: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:76979871")
    _settings(admin, consent_days="20", frame_ancestors="")
    page = admin.get("/admin/audit")
    assert "setting.update" in page.text and "embed.add" in page.text
    filtered = admin.get("/admin/audit", params={"action": "setting.update"})
    assert "consent_days" in filtered.text
    assert "vimeo:76979871" not in filtered.text
    by_target = admin.get("/admin/audit", params={"target": "vimeo:76979871", "limit": "9"})
    assert by_target.status_code == 200 and "embed.add" in by_target.text
    # The UI offers no way to delete entries.
    assert admin.post("/admin/audit", data={}).status_code == 405
