"""Read-only views: anonymous usage counts for the yearly evaluation, and the audit log."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from starlette.responses import Response

from ... import retention
from ...store import USAGE_EVENTS
from .base import Admin, page

EVENTS = ("view", "load_once", "load_always", "revoke")
AUDIT_LIMITS = (50, 200, 1000)


def _since(value: str | None, today: date) -> date:
    try:
        chosen = date.fromisoformat(value or "")
    except ValueError:
        return today - timedelta(days=365)
    return min(chosen, today)


@page
async def usage(admin: Admin) -> Response:
    services = admin.services
    services.usage.flush()
    today = date.fromtimestamp(services.clock())
    since = _since(admin.request.query_params.get("since"), today)
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(EVENTS, 0))
    for row in services.store.usage(since.isoformat()):
        if row["event"] in USAGE_EVENTS:
            totals[(row["provider"], row["embed_key"])][row["event"]] += int(row["count"])
    rows = [
        {
            "provider": provider,
            "key": key,
            "counts": counts,
            "embed": services.store.get_embed(key) if key else None,
        }
        for (provider, key), counts in sorted(totals.items())
    ]
    return admin.render("usage.html", {"rows": rows, "since": since.isoformat(), "events": EVENTS})


@page
async def audit(admin: Admin) -> Response:
    params = admin.request.query_params
    filters = {
        name: value
        for name in ("actor", "action", "target")
        if (value := params.get(name, "").strip()) and len(value) <= 300
    }
    limit_text = params.get("limit", "")
    limit = int(limit_text) if limit_text in {str(n) for n in AUDIT_LIMITS} else AUDIT_LIMITS[1]
    store = admin.services.store
    entries = [_entry(row) for row in store.audit_log(limit, **filters)]
    return admin.render(
        "audit.html",
        {
            "entries": entries,
            "filters": filters,
            "facets": store.audit_facets(),
            "limit": limit,
            "limits": AUDIT_LIMITS,
            "audit_years": retention.periods(store).audit_years,
        },
    )


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "before": _pretty(row["before"]), "after": _pretty(row["after"])}


def _pretty(value: str) -> str:
    if not value:
        return ""
    try:
        return json.dumps(json.loads(value), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        return value
