"""Plain-text hygiene for untrusted strings from upstream and from forms.

Escaping happens in the templates (autoescape); this only removes what no page should
carry at all: control characters, runaway lengths, and links that are not plain https.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_SPACE = re.compile(r"[ \t\r\n]+")


def clean_text(value: Any, max_length: int, *, multiline: bool = False) -> str:
    """A bounded, NFC-normalised string without control characters; '' for non-strings."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value))
    if multiline:
        lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
        text = "\n".join(lines).strip()
    else:
        text = _SPACE.sub(" ", text).strip()
    return text[:max_length]


def clean_url(value: Any, *, hosts: Collection[str]) -> str:
    """The URL if it is https on one of ``hosts`` (or their www. form), else ''."""
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").removeprefix("www.")
    if parts.scheme != "https" or host not in hosts or parts.username or port not in (None, 443):
        return ""
    return value.strip()
