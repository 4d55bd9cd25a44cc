"""/privacy: built from stored, editable facts with the county's defaults; /consent too."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard import privacy_info
from embedguard.consent import COOKIE_NAME
from embedguard.privacy_info import (
    DEFAULT_PRIVACY_INFO,
    SETTING_KEY,
    PrivacyInfoError,
    Text,
)
from embedguard.services import Services


def _text(body: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.mark.parametrize("lang", ["de", "en"])
def test_defaults_are_the_countys_published_facts(client: TestClient, lang: str) -> None:
    response = client.get(f"/privacy?lang={lang}")
    assert response.status_code == 200
    text = _text(response.text)
    for fact in (
        "Landkreis Mittelsachsen",
        "Frauensteiner Straße 43",
        "09599 Freiberg",
        "presse@landkreis-mittelsachsen.de",
        "03731 799 3305",
        "regionalmanagement@landkreis-mittelsachsen.de",
        "03731 799 1402",
        "wirtschaft-in-mittelsachsen.de",
        "landkreis-mittelsachsen.de",
    ):
        assert fact in text, fact
    channels = {
        "de": ("regionalen Wirtschaft", "Statistiken und Auszeichnungen", "Fachkräfte"),
        "en": ("regional economy", "statistics and awards", "skilled workers"),
    }
    for topic in channels[lang]:
        assert topic in text, topic
    assert 'href="tel:037317993305"' in response.text
    assert f'href="/consent?lang={lang}"' in response.text
    assert ("Zuletzt geprüft: 27. November 2026" if lang == "de" else "November 27, 2026") in text


@pytest.mark.parametrize("lang", ["de", "en"])
def test_data_flows_for_every_registered_provider(
    client: TestClient, services: Services, lang: str
) -> None:
    text = _text(client.get(f"/privacy?lang={lang}").text)
    providers = list(services.registry)
    assert providers
    for provider in providers:
        recipient = provider.recipient
        assert recipient.company in text
        assert recipient.address in text
        assert getattr(recipient, f"country_{lang}") in text
        assert getattr(recipient, f"transfer_{lang}") in text
        assert recipient.privacy_url in text
        for category in getattr(recipient, f"data_{lang}"):
            assert category in text
    assert "TDDDG" in text and "49" in text


def test_edited_info_replaces_the_defaults_and_is_audited(
    client: TestClient, services: Services
) -> None:
    info = replace(
        privacy_info.with_text(DEFAULT_PRIVACY_INFO, "introduction", "de", "Neu: <b>fett</b>"),
        address=("Musterstraße 1", "01234 Musterstadt"),
        data_protection_officer=Text("Datenschutz, Musterstraße 1"),
        last_review="2027-02-01",
    )
    privacy_info.save(services.store, info, actor="admin")
    assert privacy_info.load(services.store) == info
    page = client.get("/privacy?lang=de").text
    assert "Musterstraße 1" in page and "Frauensteiner" not in page
    assert "Neu: &lt;b&gt;fett&lt;/b&gt;" in page
    assert "1. Februar 2027" in page
    entry = services.store.audit_log(action="setting.update", target=SETTING_KEY)[0]
    assert entry["actor"] == "admin"


def test_english_falls_back_to_german_and_marks_it(client: TestClient, services: Services) -> None:
    info = privacy_info.with_text(DEFAULT_PRIVACY_INFO, "introduction", "de", "Nur deutsch")
    privacy_info.save(services.store, info, actor="admin")
    assert '<span lang="de">Nur deutsch</span>' in client.get("/privacy?lang=en").text
    assert '<span lang="de">' not in client.get("/privacy?lang=de").text


@pytest.mark.parametrize(
    "stored",
    [
        "not an object",
        {"controller": "x"},
        {"controller": {"de": ""}},
        {**privacy_info.to_dict(DEFAULT_PRIVACY_INFO), "contacts": [{"name": 5}]},
        {**privacy_info.to_dict(DEFAULT_PRIVACY_INFO), "last_review": "yesterday"},
    ],
)
def test_broken_stored_info_means_defaults_not_errors(
    client: TestClient, services: Services, stored: Any
) -> None:
    services.store.set_setting(SETTING_KEY, stored, actor="test")
    assert privacy_info.load(services.store) == DEFAULT_PRIVACY_INFO
    assert client.get("/privacy").status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"websites": [{"url": "javascript:alert(1)"}]}, "websites[0].url"),
        ({"contacts": [{"name": {"de": "A"}, "email": "not-an-email"}]}, "contacts[0].email"),
        ({"contacts": [{"name": {"de": "A"}, "phone": "call me"}]}, "contacts[0].phone"),
        ({"channels": [{"name": ""}]}, "channels[0].name"),
        ({"channels": [{"name": "X", "url": "ftp://x"}]}, "channels[0].url"),
        ({"address": ["x" * 300]}, "address"),
        ({"introduction": {"de": "a\x00b"}}, "introduction.de"),
        ({"websites": [{"url": "https://a.de"}] * 50}, "websites"),
    ],
)
def test_invalid_edits_are_refused_with_the_field_named(
    services: Services, change: dict[str, Any], field: str
) -> None:
    data = {**privacy_info.to_dict(DEFAULT_PRIVACY_INFO), **change}
    with pytest.raises(PrivacyInfoError, match=re.escape(field)):
        privacy_info.from_dict(data)
    before = services.store.get_setting(SETTING_KEY)
    with pytest.raises(PrivacyInfoError):
        privacy_info.save(services.store, privacy_info.from_dict(data), actor="admin")
    assert services.store.get_setting(SETTING_KEY) == before


def test_round_trip_and_text_helpers() -> None:
    data = privacy_info.to_dict(DEFAULT_PRIVACY_INFO)
    assert privacy_info.from_dict(data) == DEFAULT_PRIVACY_INFO
    assert Text("Hallo", "").language("en") == ("Hallo", "de")
    assert Text("Hallo", "Hello").get("en") == "Hello"
    assert Text("Hallo", "Hello").get("fr") == "Hallo"
    with pytest.raises(PrivacyInfoError):
        privacy_info.with_text(DEFAULT_PRIVACY_INFO, "address", "de", "x")


def test_cached_loader_sees_changes(services: Services) -> None:
    loader = services.live.privacy_info
    assert loader() is loader()
    edited = replace(DEFAULT_PRIVACY_INFO, last_review="2030-01-01")
    privacy_info.save(services.store, edited, actor="admin")
    assert loader().last_review == "2030-01-01"


# -- /consent ----------------------------------------------------------------------------


def _always(client: TestClient, provider: str = "vimeo") -> None:
    response = client.post(
        "/consent", data={"provider": provider, "scope": "always", "next": "/consent"}
    )
    assert response.status_code == 303
    client.cookies.set(COOKIE_NAME, response.cookies[COOKIE_NAME])


@pytest.mark.parametrize("lang", ["de", "en"])
def test_consent_page_shows_each_providers_state(
    client: TestClient, services: Services, lang: str
) -> None:
    page = client.get(f"/consent?lang={lang}").text
    assert "Revoke all" not in page and "Alle Einwilligungen" not in page
    for provider in services.registry:
        assert f"<h3>{provider.label}</h3>" in page
    _always(client)
    page = client.get(f"/consent?lang={lang}").text
    text = _text(page)
    assert ("Lädt automatisch" if lang == "de" else "Loads automatically") in text
    revoke = "Einwilligung für Vimeo widerrufen" if lang == "de" else "Revoke consent for Vimeo"
    assert revoke in text
    assert ("Alle Einwilligungen widerrufen" if lang == "de" else "Revoke all consents") in text
    assert f'href="/privacy?lang={lang}"' in page
    assert page.count('action="/consent/revoke"') == 2  # Vimeo's and "all"


def test_consent_page_revoke_round_trip(client: TestClient) -> None:
    _always(client)
    response = client.post("/consent/revoke", data={"provider": "vimeo", "next": "/consent"})
    assert response.status_code == 303
    assert COOKIE_NAME not in response.cookies or not response.cookies[COOKIE_NAME]
