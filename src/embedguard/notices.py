"""Per-provider notice texts the admin adds to the standard notice.

Stored in the settings table under ``notice.<provider>`` as ``{"de": "...", "en": "..."}``;
an empty text means "the standard notice only".
"""

from __future__ import annotations

from collections.abc import Mapping

from .i18n import LANGUAGES
from .store import Store


def notice_key(provider: str) -> str:
    return f"notice.{provider}"


def notice_texts(store: Store, provider: str) -> dict[str, str]:
    """The stored notice text per language ('' where none is set)."""
    stored = store.get_setting(notice_key(provider), {})
    stored = stored if isinstance(stored, Mapping) else {}
    return {lang: value if isinstance(value := stored.get(lang), str) else "" for lang in LANGUAGES}
