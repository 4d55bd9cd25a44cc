"""The browser of a logged-in admin: what it does on embed pages is not counted.

The session cookie is scoped to ``/admin`` (auth.py), so embed pages and /consent never see
it. At login a second cookie on ``Path=/`` marks the browser instead: signed, ``HttpOnly``,
``SameSite=Strict``, ``Secure`` whenever the session cookie is, and no longer-lived than the
session. It holds only what the session cookie holds too: the account, the login time and
the password fingerprint. It counts exactly while that session could still be valid
(auth.session_alive): not after its lifetime, a logout, a password reset or the account's
removal. Anything else (forged, expired, signed for another purpose) is a visitor's cookie.
Pages are the visitors' in every other way; only the usage counts skip this browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from starlette.requests import Request
from starlette.responses import Response

from .auth import ABSOLUTE_TIMEOUT, password_fingerprint, session_alive
from .signing import Signer
from .store import Store

if TYPE_CHECKING:
    from .services import Services

COOKIE_NAME = "eg_staff"
NAMESPACE = "staff"
_SAME_SITE: Literal["strict"] = "strict"


def set_cookie(
    response: Response,
    signer: Signer,
    *,
    name: str,
    login_at: float,
    password_hash: str,
    secure: bool,
) -> None:
    """Mark the browser that just logged in as ``name`` at ``login_at``."""
    value = signer.sign([name, login_at, password_fingerprint(password_hash)], namespace=NAMESPACE)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=ABSOLUTE_TIMEOUT,
        path="/",
        secure=secure,
        httponly=True,
        samesite=_SAME_SITE,
    )


def delete_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite=_SAME_SITE)


def is_valid(token: str | None, signer: Signer, store: Store, now: float) -> bool:
    """Whether ``token`` is a staff cookie of a session that may still be valid."""
    if token is None:
        return False  # every visitor: no signature check, no database query
    claims = signer.unsign(token, namespace=NAMESPACE, max_age=ABSOLUTE_TIMEOUT)
    if not isinstance(claims, list) or len(claims) != 3:
        return False
    name, login_at, fingerprint = claims
    if not isinstance(name, str) or not isinstance(fingerprint, str):
        return False
    if not isinstance(login_at, int | float) or isinstance(login_at, bool):
        return False
    return session_alive(store, name, login_at, fingerprint, now)


def from_staff(request: Request, services: Services) -> bool:
    """Whether ``request`` comes from the browser of a logged-in admin."""
    token = request.cookies.get(COOKIE_NAME)
    return is_valid(token, services.signer, services.store, services.clock())
