"""Readable names where a platform gives only an address (a Facebook page's slug)."""

from __future__ import annotations

import re
from typing import Protocol

# Short words that stay lower case inside a name ("Wirtschaft in Mittelsachsen").
_SMALL_WORDS = frozenset(
    {"in", "im", "am", "an", "auf", "aus", "bei", "der", "die", "das", "des", "dem", "den",
     "und", "von", "vom", "zu", "zum", "zur", "für", "mit", "of", "the", "and", "for", "on",
     "at", "to", "by"}
)  # fmt: skip
_SEPARATORS = re.compile(r"[._-]+")


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...

    def title_from_id(self, item_id: str) -> str: ...


def readable_slug(slug: str) -> str:
    """``wirtschaft.in.mittelsachsen`` → ``Wirtschaft in Mittelsachsen``; '' for a bare
    number (a page id says nothing about the page)."""
    words = [w for w in _SEPARATORS.split(slug.strip()) if w]
    if not words or all(w.isdigit() for w in words):
        return ""
    shown = [
        w.lower() if i and w.lower() in _SMALL_WORDS else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]
    return " ".join(shown)


def readable_title(title: str, item_id: str, provider: _Labelled) -> str:
    """The title to show: the stored one, unless it is only the item's address."""
    if title and title != item_id:
        return title
    return provider.title_from_id(item_id) or provider.label
