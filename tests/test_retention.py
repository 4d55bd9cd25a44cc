"""Retention: usage counts and audit entries older than their periods are deleted, at
start-up and periodically; the periods are admin settings and /privacy states them."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import retention
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Store

from .test_admin_support import (
    USER,
    FakeClock,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    token_for,
)

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp()


def old_audit_entry(store: Store, at: str) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT INTO audit (at, actor, action, target) VALUES (?, ?, ?, ?)",
            (at, "alt", "embed.add", "vimeo:1"),
        )


def usage_days(store: Store) -> list[str]:
    return sorted({row["day"] for row in store.usage()})


def test_years_before_handles_leap_days() -> None:
    assert retention.years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    assert retention.years_before(date(2026, 6, 15), 3) == date(2023, 6, 15)


def test_purge_deletes_exactly_what_is_older_than_the_periods(services: Services) -> None:
    store = services.store
    for day in ("2023-06-14", "2023-06-15", "2025-01-01"):
        store.add_usage({("vimeo", "vimeo:1", "view"): 1}, day)
    old_audit_entry(store, "2021-06-14T23:59:59+00:00")
    old_audit_entry(store, "2021-06-15T00:00:00+00:00")
    store.add_review("2021-06-14T10:00:00+00:00", 2020, {"vimeo": ("continue", "")}, "alt")
    store.add_review("2021-06-15T10:00:00+00:00", 2020, {"vimeo": ("stop", "")}, "alt")
    purged = retention.purge(store, NOW)
    assert purged == retention.Purged(usage=1, audit=1, reviews=1)
    assert usage_days(store) == ["2023-06-15", "2025-01-01"]
    assert [r["decision"] for r in store.reviews()] == ["stop"]
    assert not any(e["at"].startswith("2021-06-14") for e in store.audit_log())
    entry = store.audit_log(action="retention.purge")[0]
    assert '"usage_before": "2023-06-15"' in entry["after"]
    assert '"audit_before": "2021-06-15"' in entry["after"]
    # Nothing more to delete: nothing happens, and nothing is audited.
    assert retention.purge(store, NOW) == retention.Purged(0, 0, 0)
    assert len(store.audit_log(action="retention.purge")) == 1


def test_shorter_periods_delete_more(services: Services) -> None:
    store = services.store
    store.add_usage({("vimeo", "vimeo:1", "view"): 1}, "2024-06-14")
    old_audit_entry(store, "2024-06-14T00:00:00+00:00")
    store.set_setting(retention.USAGE_SETTING, 2)
    store.set_setting(retention.AUDIT_SETTING, 2)
    assert retention.purge(store, NOW) == retention.Purged(usage=1, audit=1, reviews=0)


@pytest.mark.parametrize("value", [0, 1, 21, "3", True, None, 2.5])
def test_stored_nonsense_falls_back_to_the_defaults(services: Services, value: object) -> None:
    services.store.set_setting(retention.USAGE_SETTING, value)
    services.store.set_setting(retention.AUDIT_SETTING, value)
    assert retention.periods(services.store) == retention.Periods(3, 5)


def test_purge_runs_at_start_up_and_periodically(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PURGE_SECONDS", 0.02)
    services.clock = lambda: NOW
    store = services.store
    store.add_usage({("vimeo", "vimeo:1", "view"): 1}, "2020-01-01")
    app: Starlette = create_app(settings, services)
    with TestClient(app):
        deadline = time.monotonic() + 5
        while usage_days(store) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert usage_days(store) == []  # at start-up
        store.add_usage({("vimeo", "vimeo:1", "view"): 1}, "2021-01-01")
        deadline = time.monotonic() + 5
        while usage_days(store) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert usage_days(store) == []  # and again while running


def test_admin_sets_the_periods_with_csrf_and_audit(
    admin: TestClient, clock: FakeClock, services: Services
) -> None:
    clock.now = NOW
    services.store.add_usage({("vimeo", "vimeo:1", "view"): 1}, "2022-01-01")
    page = admin.get("/admin/settings").text
    assert 'name="usage_years"' in page and 'value="3"' in page and 'value="5"' in page
    data = {"usage_years": "4", "audit_years": "6"}
    assert admin.post("/admin/settings/retention", data=data).status_code == 403
    assert retention.periods(services.store) == retention.Periods(3, 5)
    token = token_for(admin, "/admin/settings")
    response = admin.post("/admin/settings/retention", data={**data, "csrf_token": token})
    assert response.status_code == 303
    assert retention.periods(services.store) == retention.Periods(4, 6)
    entry = services.store.audit_log(action="setting.update", target=retention.USAGE_SETTING)[0]
    assert (entry["actor"], entry["after"]) == (USER, "4")
    assert usage_days(services.store) == []  # the new periods apply at once


@pytest.mark.parametrize(
    "data",
    [
        {"usage_years": "1", "audit_years": "5"},
        {"usage_years": "3", "audit_years": "21"},
        {"usage_years": "drei", "audit_years": "5"},
        {"usage_years": "3.5", "audit_years": "5"},
        {"usage_years": "3"},
    ],
)
def test_bad_periods_are_explained_and_nothing_changes(
    admin: TestClient, services: Services, data: dict[str, str]
) -> None:
    token = token_for(admin, "/admin/settings")
    response = admin.post("/admin/settings/retention", data={**data, "csrf_token": token})
    assert response.status_code == 400
    assert "Nutzungszählungen 2 bis 20 Jahre" in response.text
    assert services.store.get_setting(retention.USAGE_SETTING) is None
    assert services.store.get_setting(retention.AUDIT_SETTING) is None


@pytest.mark.parametrize(
    ("lang", "usage", "audit"),
    [
        ("de", "Diese Zählungen werden nach {} Jahren gelöscht.", "nach {} Jahren gelöscht"),
        ("en", "These counts are deleted after {} years.", "is deleted after {} years."),
    ],
)
def test_privacy_page_states_both_periods(
    client: TestClient, services: Services, lang: str, usage: str, audit: str
) -> None:
    text = client.get(f"/privacy?lang={lang}").text
    assert usage.format(3) in text and audit.format(5) in text
    services.store.set_setting(retention.USAGE_SETTING, 2)
    services.store.set_setting(retention.AUDIT_SETTING, 7)
    text = client.get(f"/privacy?lang={lang}").text
    assert usage.format(2) in text and audit.format(7) in text


def test_audit_page_states_its_period(admin: TestClient) -> None:
    assert "Einträge werden nach 5 Jahren gelöscht." in admin.get("/admin/audit").text
