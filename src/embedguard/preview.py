"""The admin's live preview is not a visitor, so nothing done in it may count as usage.

The admin session cookie is scoped to ``/admin`` (see auth.py), so an embed page and
/consent never learn that an admin is looking. Instead the preview frame's URL carries a
signed marker for that one embed, valid as long as an admin session can live. The page is
the one visitors get, except that its own form and links keep the marker, so "load once",
"always", revoking and switching the language in the preview are not counted either.
Only a marker embedguard signed for the very embed counts as one: a visitor cannot forge
it, and a forged one is dropped from the page.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        (PARAMETER, marker(signer, embed_key)),
    ]
    return f"{parts.path}?{urlencode(query)}"


def is_preview(signer: Signer, token: str | None, embed_key: str) -> bool:
    value = signer.unsign(token, namespace=NAMESPACE, max_age=ABSOLUTE_TIMEOUT)
    return isinstance(value, str) and value == embed_key


def valid_marker(signer: Signer, query: Mapping[str, str], embed_key: str) -> str | None:
    """The query's preview marker when it is a valid one for ``embed_key``, else None."""
    token = query.get(PARAMETER)
    # Checked only when present: visitor pages never pay for the signature check.
    return token if token is not None and is_preview(signer, token, embed_key) else None


def is_preview_path(signer: Signer, path: str, embed_key: str) -> bool:
    """Whether ``path`` (a form's ``next``) is the admin's preview of ``embed_key``."""
    query = dict(parse_qsl(urlsplit(path).query))
    return valid_marker(signer, query, embed_key) is not None


def marker(signer: Signer, embed_key: str) -> str:
    """A new preview marker for ``embed_key``."""
    return signer.sign(embed_key, namespace=NAMESPACE)
