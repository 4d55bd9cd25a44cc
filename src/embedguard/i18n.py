"""Languages: German first, English second.

Catalogs are gettext ``.po`` files in ``locale/``, compiled in memory at start-up, so a
checkout never carries stale ``.mo`` files. Message ids are English.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "de"
LOCALE_DIR = Path(__file__).parent / "locale"
_MAX_ACCEPT_LANGUAGE = 512
_LANGUAGE_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$"
)


def N_(text: str) -> str:
    """Marks a message id for extraction (babel.cfg); it is translated when a page is
    rendered, in the page's language."""
    return text


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, gettext.NullTranslations]:
    translations: dict[str, gettext.NullTranslations] = {}
    for lang in LANGUAGES:
        po_file = locale_dir / lang / "LC_MESSAGES" / "messages.po"
        translations[lang] = (
            _compile(po_file, lang) if po_file.exists() else gettext.NullTranslations()
        )
    return translations


def _compile(po_file: Path, lang: str) -> Translations:
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def choose_language(requested: str | None, accept_language: str | None) -> str:
    """``lang`` wins when given (unknown values mean German); then Accept-Language."""
    if requested is not None:
        return requested if requested in LANGUAGES else DEFAULT_LANGUAGE
    return _from_accept_language(accept_language or "")


def _from_accept_language(header: str) -> str:
    if len(header) > _MAX_ACCEPT_LANGUAGE:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in header.split(",")[:20]:
        match = _LANGUAGE_RANGE.match(item)
        if not match:
            continue
        lang, quality = match.group(1).lower(), float(match.group(2) or 1)
        if lang in LANGUAGES and quality > best_q:
            best, best_q = lang, quality
    return best
