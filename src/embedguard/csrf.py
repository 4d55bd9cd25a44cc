"""CSRF tokens for admin forms: the session's secret, signed in namespace ``csrf``.

A token is valid only together with the session cookie it was made for, and only as long
as that session can live; a token signed for any other purpose never passes.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from .auth import ABSOLUTE_TIMEOUT
from .signing import Signer

FIELD = "csrf_token"
NAMESPACE = "csrf"


def token(session: dict[str, Any], signer: Signer) -> str:
    """A token for the forms of this page; gives the session a secret if it has none yet."""
    secret = session.get("csrf")
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(18)
        session["csrf"] = secret
    return signer.sign(secret, namespace=NAMESPACE)


def valid(session: dict[str, Any], signer: Signer, given: str | None) -> bool:
    expected = session.get("csrf")
    value = signer.unsign(given, namespace=NAMESPACE, max_age=ABSOLUTE_TIMEOUT)
    return (
        isinstance(expected, str)
        and isinstance(value, str)
        and hmac.compare_digest(value.encode(), expected.encode())
    )
