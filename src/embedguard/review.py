"""The review part of the yearly evaluation: the facts the concept asks to check, and the
decisions admins record per channel (continue, change, stop).

Facts come from the allowlist, the usage counts and the audit log; nothing here is typed
in twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .privacy_info import SETTING_KEY as PRIVACY_SETTING
from .store import Store

DECISIONS = ("continue", "change", "stop")
MAX_NOTE = 2000
_AUDIT_LIMIT = 100_000


@dataclass(frozen=True)
class EmbedInUse:
    key: str
    provider: str
    title: str
    added: str  # ISO day, "" when unknown
    first_shown: str
    last_shown: str
    state: str  # "shown", "disabled" or "removed"
    removed: str = ""


@dataclass(frozen=True)
class Change:
    at: str  # ISO timestamp from the audit log
    actor: str
    before: str
    after: str


@dataclass(frozen=True)
class Decision:
    provider: str
    decision: str
    note: str


@dataclass(frozen=True)
class Review:
    at: str
    actor: str
    year: int
    decisions: tuple[Decision, ...]


def embeds_in_use(store: Store, year: int) -> list[EmbedInUse]:
    """Every embed allowed at some time up to the end of ``year`` and not removed before it,
    with the first and last day it was shown (a placeholder view was counted)."""
    shown = store.usage_days("view")
    found: dict[str, EmbedInUse] = {}
    for entry in reversed(store.audit_log(_AUDIT_LIMIT, action="embed.remove")):
        before = _json(entry["before"])
        if entry["at"][:4] >= str(year) and isinstance(before, dict):
            key = entry["target"]
            found[key] = EmbedInUse(
                key,
                str(before.get("provider", key.partition(":")[0])),
                str(before.get("title_override") or before.get("title") or ""),
                str(before.get("created_at", ""))[:10],
                *shown.get(key, ("", "")),
                state="removed",
                removed=entry["at"][:10],
            )
    for embed in store.list_embeds():
        first_shown = shown.get(embed.key, ("", ""))[0]
        if embed.created_at[:4] <= str(year) or (first_shown and first_shown[:4] <= str(year)):
            found[embed.key] = EmbedInUse(
                embed.key,
                embed.provider,
                embed.display_title,
                embed.created_at[:10],
                *shown.get(embed.key, ("", "")),
                state="shown" if embed.enabled else "disabled",
            )
    return sorted(found.values(), key=lambda e: (e.provider, e.key))


def setting_changes(store: Store, name: str) -> list[Change]:
    """Changes of one setting, oldest first (as far as the audit log reaches back)."""
    entries = store.audit_log(_AUDIT_LIMIT, action="setting.update", target=name)
    return [Change(e["at"], e["actor"], e["before"], e["after"]) for e in reversed(entries)]


def texts_last_changed(store: Store) -> dict[str, Change | None]:
    """The last change of the privacy texts and of each provider's notice text."""
    result: dict[str, Change | None] = {PRIVACY_SETTING: None}
    for entry in reversed(store.audit_log(_AUDIT_LIMIT, action="setting.update")):
        target = entry["target"]
        if target == PRIVACY_SETTING or target.startswith("notice."):
            result[target] = Change(entry["at"], entry["actor"], "", "")
    return result


def record(
    store: Store, year: int, decisions: dict[str, tuple[str, str]], actor: str, now: float
) -> None:
    at = datetime.fromtimestamp(now, UTC).replace(microsecond=0).isoformat()
    store.add_review(at, year, decisions, actor)


def recorded(store: Store, order: Sequence[str] = ()) -> list[Review]:
    """Recorded reviews, newest first, each with its decisions per channel (in ``order``,
    the registry's, then by name)."""
    grouped: dict[tuple[str, str, int], list[Decision]] = {}
    for row in store.reviews():
        key = (row["at"], row["actor"], int(row["year"]))
        grouped.setdefault(key, []).append(Decision(row["provider"], row["decision"], row["note"]))

    def position(decision: Decision) -> tuple[int, str]:
        name = decision.provider
        return (order.index(name) if name in order else len(order), name)

    return [
        Review(at, actor, year, tuple(sorted(d, key=position)))
        for (at, actor, year), d in grouped.items()
    ]


def due(store: Store, now: float) -> bool:
    """Whether a review is due: none recorded, or the last one is over twelve months old."""
    reviews = store.reviews(limit=1)
    if not reviews:
        return True
    last = datetime.fromisoformat(reviews[0]["at"]).date()
    return last < _a_year_before(datetime.fromtimestamp(now, UTC).date())


def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
