"""Deleting what is kept no longer than needed: usage counts and audit entries (with the
recorded reviews, which name admins too) older than their retention periods.

Runs at start-up and then periodically in the app's lifespan; the periods are admin
settings, stated on /privacy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import anyio

from .database import StorageError
from .store import Store

logger = logging.getLogger("embedguard")

USAGE_SETTING = "usage_retention_years"
AUDIT_SETTING = "audit_retention_years"
DEFAULT_USAGE_YEARS = 3
DEFAULT_AUDIT_YEARS = 5
# At least two years, so last year's evaluation (counts and review facts) is always complete.
USAGE_YEARS_RANGE = (2, 20)
AUDIT_YEARS_RANGE = (2, 20)
PURGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Periods:
    usage_years: int
    audit_years: int


def periods(store: Store) -> Periods:
    return Periods(
        _years(store.get_setting(USAGE_SETTING), DEFAULT_USAGE_YEARS, USAGE_YEARS_RANGE),
        _years(store.get_setting(AUDIT_SETTING), DEFAULT_AUDIT_YEARS, AUDIT_YEARS_RANGE),
    )


def _years(value: object, default: int, bounds: tuple[int, int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return default


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Purged:
    usage: int
    audit: int
    reviews: int


def purge(store: Store, now: float) -> Purged:
    """Delete usage counts and audit entries older than their periods; audit the deletion."""
    today = datetime.fromtimestamp(now, UTC).date()
    chosen = periods(store)
    usage_cut = years_before(today, chosen.usage_years).isoformat()
    audit_cut = years_before(today, chosen.audit_years).isoformat()
    purged = Purged(
        store.delete_usage_before(usage_cut),
        store.delete_audit_before(audit_cut),
        store.delete_reviews_before(audit_cut),
    )
    if purged.usage or purged.audit or purged.reviews:
        after = {"usage_before": usage_cut, "audit_before": audit_cut, **purged.__dict__}
        store.audit("retention", "retention.purge", "", None, after)
    return purged


async def purge_periodically(store: Store, clock: Callable[[], float]) -> None:
    # Like the usage flush: a locked database costs a late deletion, never the service.
    while True:
        try:
            await anyio.to_thread.run_sync(lambda: purge(store, clock()))
        except StorageError as error:
            logger.warning("old counts and audit entries not deleted yet: %s", error)
        await anyio.sleep(PURGE_SECONDS)
