"""The admin's live preview is not a visitor, so it must not count as a view.

The admin session cookie is scoped to ``/admin`` (see auth.py), so an embed page never
learns that an admin is looking. Instead the preview frame's URL carries a signed marker
for that one embed, valid as long as an admin session can live. The page itself is the
one visitors get; only the count is skipped.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from .auth import ABSOLUTE_TIMEOUT
from .signing import Signer

PARAMETER = "preview"
NAMESPACE = "preview"


def preview_url(path: str, signer: Signer, embed_key: str) -> str:
    """``path`` (an embed page) with the preview marker for ``embed_key`` added."""
    parts = urlsplit(path)
    query = [
        *parse_qsl(parts.query, keep_blank_values=True),
        (PARAMETER, _token(signer, embed_key)),
    ]
    return f"{parts.path}?{urlencode(query)}"


def is_preview(signer: Signer, token: str | None, embed_key: str) -> bool:
    value = signer.unsign(token, namespace=NAMESPACE, max_age=ABSOLUTE_TIMEOUT)
    return isinstance(value, str) and value == embed_key


def _token(signer: Signer, embed_key: str) -> str:
    return signer.sign(embed_key, namespace=NAMESPACE)
