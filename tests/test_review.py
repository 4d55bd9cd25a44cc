"""Recording the yearly review: the form (CSRF, audit), the list, the start page's reminder,
and the review facts of the printable report (channels in use, texts, policy versions)."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard import privacy_info
from embedguard.services import Services
from embedguard.store import Embed

from .test_admin_support import (
    USER,
    FakeClock,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    log_in,
    token_for,
)

REMINDER = "Die jährliche Auswertung steht an"


def at(clock: FakeClock, *when: int) -> None:
    year, month, day = when
    clock.now = datetime(year, month, day, 12, tzinfo=UTC).timestamp()


def record(client: TestClient, **fields: str) -> Any:
    data = {"csrf_token": token_for(client, "/admin/evaluation?year=2025"), "year": "2025"}
    return client.post("/admin/evaluation/review", data={**data, **fields})


def test_review_is_stored_listed_and_audited(
    admin: TestClient, clock: FakeClock, services: Services
) -> None:
    at(clock, 2026, 2, 3)
    response = record(
        admin,
        **{
            "decision.vimeo": "continue",
            "note.vimeo": "Viel gesehen, gern geladen.",
            "decision.twitter": "stop",
            "note.twitter": "Zeitleiste bleibt für Gäste leer.",
            "note.facebook": "",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/evaluation?year=2025#reviews"
    rows = services.store.reviews()
    assert {(r["provider"], r["decision"], r["actor"], r["year"]) for r in rows} == {
        ("vimeo", "continue", USER, 2025),
        ("twitter", "stop", USER, 2025),
    }
    assert all(r["at"].startswith("2026-02-03") for r in rows)
    entry = services.store.audit_log(action="review.add")[0]
    assert (entry["actor"], entry["target"]) == (USER, "2025")
    assert "Zeitleiste bleibt für Gäste leer." in entry["after"]
    page = admin.get("/admin/evaluation?year=2025").text
    assert "Die Überprüfung 2025 ist festgehalten." in page
    assert f"Überprüfung 2025, festgehalten am 3. Februar 2026 von {USER}" in page
    assert "einstellen" in page and "Viel gesehen, gern geladen." in page
    listed = page[page.index('id="reviews"') :]
    assert listed.index("Vimeo") < listed.index(">X<")  # the registry's order


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"note.vimeo": "eine Anmerkung ohne Entscheidung"},
        {"decision.vimeo": "delete"},
        {"decision.vimeo": "continue", "note.vimeo": "x" * 2001},
        {"decision.vimeo": "continue", "year": "1999"},
        {"decision.vimeo": "continue", "year": "abcd"},
    ],
)
def test_bad_reviews_change_nothing(
    admin: TestClient, clock: FakeClock, services: Services, fields: dict[str, str]
) -> None:
    at(clock, 2026, 2, 3)
    audit_before = len(services.store.audit_log())
    response = record(admin, **fields)
    assert response.status_code == 400
    assert services.store.reviews() == []
    assert len(services.store.audit_log()) == audit_before


def test_review_needs_a_valid_csrf_token(admin: TestClient, services: Services) -> None:
    data = {"year": "2025", "decision.vimeo": "continue"}
    assert admin.post("/admin/evaluation/review", data=data).status_code == 403
    forged = {**data, "csrf_token": "forged"}
    assert admin.post("/admin/evaluation/review", data=forged).status_code == 403
    assert services.store.reviews() == []
    anonymous = TestClient(admin.app, follow_redirects=False)
    assert anonymous.post("/admin/evaluation/review", data=data).status_code == 303
    assert services.store.reviews() == []


def start_page(client: TestClient) -> str:
    client.cookies.clear()  # the clock jumps past a session's lifetime: a fresh login
    log_in(client)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.text


def test_start_page_reminds_until_a_review_is_recorded_and_after_a_year(
    admin: TestClient, clock: FakeClock
) -> None:
    at(clock, 2026, 1, 20)
    assert REMINDER in start_page(admin)  # none recorded yet
    assert record(admin, **{"decision.vimeo": "continue"}).status_code == 303
    assert REMINDER not in start_page(admin)
    at(clock, 2027, 1, 20)  # exactly twelve months later: not yet over
    assert REMINDER not in start_page(admin)
    at(clock, 2027, 1, 21)
    page = start_page(admin)
    assert REMINDER in page and 'href="/admin/evaluation#record-title"' in page


def test_review_facts_come_from_allowlist_counts_and_audit_log(
    admin: TestClient,
    clock: FakeClock,
    services: Services,
    stored_embed: Callable[..., Embed],
) -> None:
    store = services.store
    stored_embed("vimeo:76979871", title="Leben und Arbeiten")
    stored_embed("vimeo:22", title="Altes Video")
    store.remove_embed("vimeo:22", actor=USER)
    store.add_usage({("vimeo", "vimeo:76979871", "view"): 3}, "2025-02-14")
    store.add_usage({("vimeo", "vimeo:76979871", "view"): 1}, "2025-11-02")
    store.add_usage({("vimeo", "vimeo:76979871", "load_once"): 1}, "2025-12-01")
    store.set_setting("policy_version", 2, actor=USER)
    privacy_info.save(store, privacy_info.DEFAULT_PRIVACY_INFO, USER)
    at(clock, 2026, 1, 20)
    page = admin.get("/admin/evaluation?year=2025").text
    review = page[page.index('id="review-title"') :]
    row = review[review.index("Leben und Arbeiten") : review.index("</tr>", review.index("Leben"))]
    assert "14. Februar 2025" in row and "2. November 2025" in row
    today = datetime.now(UTC).date()
    assert f"entfernt am {today.day}." in review  # removed: still listed, from the audit log
    assert "Landratsamt Mittelsachsen" in review and "presse@landkreis-mittelsachsen.de" in review
    assert "wirtschaft-in-mittelsachsen.de" in review
    assert f"Datenschutzhinweise (/privacy): zuletzt geändert am {today.day}." in review
    assert "Aktuelle Version der Hinweise: 2." in review
    assert "1 → 2" in review
    assert "Hinweistext für Vimeo: nicht geändert" in review
