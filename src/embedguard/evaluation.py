"""The yearly evaluation: usage counts of one year per channel, embed and month.

Counts come summed per month from the store; everything else (totals, rates, the CSV and
JSON forms) is arithmetic here, so the page, the download and ``embedguard report`` show
the same numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .providers import Registry
from .store import Store

CSV_COLUMNS = ("month", "provider", "key", "title", "views", "load_once", "load_always", "revokes")
# Store event -> report column.
_COLUMN = {"view": "views", "load_once": "load_once", "load_always": "load_always"}
_COLUMN["revoke"] = "revokes"
FIRST_YEAR = 2000
# Spreadsheets run cells that start with these as formulas; titles come from the platforms.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class YearError(ValueError):
    """Not a year the evaluation can show; the message says why."""


@dataclass(frozen=True)
class Counts:
    views: int = 0
    load_once: int = 0
    load_always: int = 0
    revokes: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.views + other.views,
            self.load_once + other.load_once,
            self.load_always + other.load_always,
            self.revokes + other.revokes,
        )

    @property
    def loads(self) -> int:
        return self.load_once + self.load_always

    @property
    def rate(self) -> float | None:
        """Loads per view; None without views."""
        return self.loads / self.views if self.views else None

    def __bool__(self) -> bool:
        return any((self.views, self.load_once, self.load_always, self.revokes))

    def as_dict(self) -> dict[str, Any]:
        rate = self.rate
        return {
            "views": self.views,
            "load_once": self.load_once,
            "load_always": self.load_always,
            "revokes": self.revokes,
            "loads_per_view": None if rate is None else round(rate, 4),
        }


def total(counts: Iterable[Counts]) -> Counts:
    result = Counts()
    for item in counts:
        result = result + item
    return result


@dataclass(frozen=True)
class EmbedCounts:
    provider: str
    key: str  # "" for revocations made away from an embed page (/consent, /privacy)
    title: str
    months: tuple[Counts, ...]

    @property
    def total(self) -> Counts:
        return total(self.months)


@dataclass(frozen=True)
class Channel:
    provider: str
    label: str
    embeds: tuple[EmbedCounts, ...]

    @property
    def months(self) -> tuple[Counts, ...]:
        return tuple(total(e.months[i] for e in self.embeds) for i in range(12))

    @property
    def total(self) -> Counts:
        return total(e.total for e in self.embeds)


@dataclass(frozen=True)
class YearReport:
    year: int
    complete: bool  # the year is over
    channels: tuple[Channel, ...]
    months: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Counts:
        return total(c.total for c in self.channels)

    def rows(self) -> list[tuple[str, EmbedCounts, Counts]]:
        """(month, embed, counts) for every month and embed with any count, in CSV order."""
        found = [
            (month, embed, embed.months[i])
            for channel in self.channels
            for embed in channel.embeds
            for i, month in enumerate(self.months)
            if embed.months[i]
        ]
        return sorted(found, key=lambda r: (r[0], r[1].provider, r[1].key))


def default_year(today: date) -> int:
    """The last full year."""
    return today.year - 1


def parse_year(text: str | None, today: date) -> int:
    if text is None or text == "":
        return default_year(today)
    if not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise YearError("the year must be four digits, e.g. 2026")
    year = int(text)
    if not FIRST_YEAR <= year <= today.year:
        raise YearError(f"the year must be from {FIRST_YEAR} to {today.year}")
    return year


def years_with_data(store: Store, today: date) -> list[int]:
    """Years that have counts, and the default year, newest first."""
    years = {int(y) for y in store.usage_years() if y.isdigit()} | {default_year(today)}
    return sorted((y for y in years if FIRST_YEAR <= y <= today.year), reverse=True)


def build(store: Store, registry: Registry, year: int, today: date) -> YearReport:
    months = tuple(f"{year}-{m:02d}" for m in range(1, 13))
    cells: dict[tuple[str, str], list[dict[str, int]]] = defaultdict(
        lambda: [defaultdict(int) for _ in months]
    )
    for row in store.usage_by_month(f"{year}-01-01", f"{year}-12-31"):
        column = _COLUMN.get(row["event"])
        if column is None or row["month"] not in months:
            continue
        cells[(row["provider"], row["embed_key"])][months.index(row["month"])][column] += int(
            row["count"]
        )
    # Allowed embeds without any count belong in the report too: an unused channel is a finding.
    for embed in store.list_embeds():
        if embed.created_at[:4] <= str(year):
            cells.setdefault((embed.provider, embed.key), [defaultdict(int) for _ in months])
    titles = known_titles(store)
    by_provider: dict[str, list[EmbedCounts]] = defaultdict(list)
    for (provider, key), per_month in sorted(
        cells.items(), key=lambda i: (i[0][0], not i[0][1], i[0][1])
    ):
        counts = tuple(Counts(**m) for m in per_month)
        by_provider[provider].append(EmbedCounts(provider, key, titles.get(key, ""), counts))
    names = [p.name for p in registry] + sorted(set(by_provider) - set(registry.names()))
    channels = tuple(
        Channel(name, _label(registry, name), tuple(by_provider.get(name, ()))) for name in names
    )
    return YearReport(year, year < today.year, channels, months)


def _label(registry: Registry, name: str) -> str:
    provider = registry.get(name)
    return provider.label if provider else name


def known_titles(store: Store) -> dict[str, str]:
    """Titles of every embed, also of removed ones (from the audit log)."""
    titles: dict[str, str] = {}
    for entry in reversed(store.audit_log(100_000, action="embed.remove")):
        try:
            before = json.loads(entry["before"])
        except ValueError:
            continue
        if isinstance(before, dict):
            title = before.get("title_override") or before.get("title") or ""
            titles[entry["target"]] = str(title)
    for embed in store.list_embeds():
        titles[embed.key] = embed.display_title
    return titles


# -- export forms ----------------------------------------------------------------------


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def to_csv(report: YearReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for month, embed, counts in report.rows():
        writer.writerow(
            (
                month,
                embed.provider,
                embed.key,
                _cell(embed.title),
                counts.views,
                counts.load_once,
                counts.load_always,
                counts.revokes,
            )
        )
    return buffer.getvalue()


def to_json(report: YearReport) -> dict[str, Any]:
    rows = [
        {"month": month, "provider": e.provider, "key": e.key, "title": e.title}
        | {k: v for k, v in counts.as_dict().items() if k != "loads_per_view"}
        for month, e, counts in report.rows()
    ]
    return {
        "year": report.year,
        "complete": report.complete,
        "total": report.total.as_dict(),
        "channels": [
            {
                "provider": c.provider,
                "label": c.label,
                "total": c.total.as_dict(),
                "months": [
                    {"month": m, **counts.as_dict()}
                    for m, counts in zip(report.months, c.months, strict=True)
                ],
                "embeds": [
                    {"key": e.key, "title": e.title, "total": e.total.as_dict()} for e in c.embeds
                ],
            }
            for c in report.channels
        ],
        "rows": rows,
    }
