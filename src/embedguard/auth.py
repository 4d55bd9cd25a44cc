"""Admin sessions (login throttling: login_throttle.py).

The session is Starlette's signed cookie, scoped to ``/admin``. It holds the account, when it
logged in and was last seen (absolute and idle timeouts), a fingerprint of the password hash
(resetting a password ends every session of that account) and the CSRF secret. A second
cookie on ``/`` marks the admin's browser for as long as the session may live (staff.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import TimestampSigner
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .store import Store

SESSION_COOKIE = "eg_admin"
SESSION_PATH = "/admin"
IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 8 * 3600
# Refresh "last seen" at most this often, so not every request re-issues the cookie.
_SEEN_RESOLUTION = 60


def session_key(secret_key: str) -> str:
    """The session cookie's own key, derived from one signing key."""
    return hmac.new(secret_key.encode(), b"embedguard.admin-session", hashlib.sha256).hexdigest()


class AdminSessionMiddleware:
    """Starlette's session middleware, with ``Secure`` whenever the request came over HTTPS.

    The first signing key signs; every key verifies, so rotating keys logs nobody out."""

    def __init__(self, app: ASGIApp, *, secret_keys: tuple[str, ...], always_secure: bool) -> None:
        options: dict[str, Any] = {
            "secret_key": session_key(secret_keys[0]),
            "session_cookie": SESSION_COOKIE,
            "max_age": ABSOLUTE_TIMEOUT,
            "path": SESSION_PATH,
            "same_site": "strict",
        }
        self._secure = SessionMiddleware(app, https_only=True, **options)
        self._plain = self._secure if always_secure else SessionMiddleware(app, **options)
        # Starlette takes one key; itsdangerous signs with the last of a list, verifies with all.
        signer = TimestampSigner([session_key(k) for k in reversed(secret_keys)])
        self._secure.signer = self._plain.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self._secure if secure_scheme(scope.get("scheme")) else self._plain
        await chosen(scope, receive, send)


def secure_scheme(scheme: object) -> bool:
    """Whether the request came over HTTPS (directly or per trusted proxy headers)."""
    return scheme in ("https", "wss")


def always_secure(public_url: str) -> bool:
    """Admin cookies are ``Secure`` on every request when the public URL is https."""
    return public_url.startswith("https://")


# -- sessions --------------------------------------------------------------------------


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def start_session(session: dict[str, Any], name: str, password_hash: str, now: float) -> None:
    """A fresh session for ``name``: nothing of the anonymous one survives (fixation)."""
    session.clear()
    session["user"] = name
    session["login_at"] = now
    session["seen_at"] = now
    session["pw"] = password_fingerprint(password_hash)
    session["csrf"] = secrets.token_urlsafe(18)


def end_session(session: dict[str, Any]) -> None:
    session.clear()


def current_user(session: dict[str, Any], store: Store, now: float) -> str | None:
    """The logged-in account, or None (and the session cleared) when it is not valid."""
    name, login_at, seen_at = session.get("user"), session.get("login_at"), session.get("seen_at")
    if not isinstance(name, str) or not _number(login_at) or not _number(seen_at):
        return None
    assert isinstance(login_at, int | float) and isinstance(seen_at, int | float)
    idle = now - seen_at >= IDLE_TIMEOUT
    if idle or not session_alive(store, name, login_at, session.get("pw"), now):
        end_session(session)
        return None
    if now - seen_at >= _SEEN_RESOLUTION:
        session["seen_at"] = now
    return name


def session_alive(store: Store, name: str, login_at: float, pw: object, now: float) -> bool:
    """Whether a session of ``name`` begun at ``login_at`` with password fingerprint ``pw``
    may still be valid, idle time aside: within its lifetime, the account still there with
    the same password, and not cut off since. Also the test for the staff cookie (staff.py).
    """
    if now - login_at >= ABSOLUTE_TIMEOUT:
        return False
    # The session lives in the cookie; a logout records a cut-off, so a copied cookie
    # is worthless after it.
    if login_at <= store.sessions_valid_after(name):
        return False
    stored = store.get_user_hash(name)
    return stored is not None and pw == password_fingerprint(stored)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
