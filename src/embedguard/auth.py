"""Admin sessions and login throttling.

The session is Starlette's signed cookie, scoped to ``/admin``. It holds the account, when it
logged in and was last seen (absolute and idle timeouts), a fingerprint of the password hash
(resetting a password ends every session of that account) and the CSRF secret.

Failed logins are counted per account and per client in the ``login_failures`` table. A client
is stored only as a keyed hash whose key lives in this process's memory, so neither the table
nor any log ever holds an address.
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
from .users import USERNAME

SESSION_COOKIE = "eg_admin"
SESSION_PATH = "/admin"
IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 8 * 3600
THROTTLE_WINDOW = 15 * 60
MAX_ACCOUNT_FAILURES = 5
MAX_CLIENT_FAILURES = 20
# Refresh "last seen" at most this often, so not every request re-issues the cookie.
_SEEN_RESOLUTION = 60

_CLIENT_KEY = secrets.token_bytes(32)


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
        chosen = self._secure if scope.get("scheme") in ("https", "wss") else self._plain
        await chosen(scope, receive, send)


# -- sessions --------------------------------------------------------------------------


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def start_session(session: dict[str, Any], name: str, password_hash: str, now: float) -> None:
    """A fresh session for ``name``: nothing of the anonymous one survives (fixation)."""
    session.clear()
    session["user"] = name
    session["login_at"] = now
    session["seen_at"] = now
    session["pw"] = _fingerprint(password_hash)
    session["csrf"] = secrets.token_urlsafe(18)


def end_session(session: dict[str, Any]) -> None:
    session.clear()


def current_user(session: dict[str, Any], store: Store, now: float) -> str | None:
    """The logged-in account, or None (and the session cleared) when it is not valid."""
    name, login_at, seen_at = session.get("user"), session.get("login_at"), session.get("seen_at")
    if not isinstance(name, str) or not _number(login_at) or not _number(seen_at):
        return None
    assert isinstance(login_at, int | float) and isinstance(seen_at, int | float)
    expired = now - login_at >= ABSOLUTE_TIMEOUT or now - seen_at >= IDLE_TIMEOUT
    # The session lives in the cookie; a logout records a cut-off, so a copied cookie
    # is worthless after it.
    expired = expired or login_at <= store.sessions_valid_after(name)
    stored = store.get_user_hash(name)
    if expired or stored is None or session.get("pw") != _fingerprint(stored):
        end_session(session)
        return None
    if now - seen_at >= _SEEN_RESOLUTION:
        session["seen_at"] = now
    return name


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- throttling ------------------------------------------------------------------------


def client_subject(host: str | None) -> str:
    digest = hmac.new(_CLIENT_KEY, (host or "").encode(), hashlib.sha256).hexdigest()
    return f"client:{digest[:32]}"


def account_subject(name: str) -> str | None:
    """The throttling subject for a submitted name, whether or not such an account exists
    (names that cannot exist are hashed, so the table holds no arbitrary input)."""
    folded = name.strip().lower()
    if not folded:
        return None
    if USERNAME.fullmatch(folded):
        return f"user:{folded}"
    digest = hashlib.sha256(folded.encode("utf-8", "replace")).hexdigest()
    return f"user#{digest[:32]}"


def throttled(store: Store, name: str, client: str, now: float) -> bool:
    """Whether this login attempt must wait (429) without even checking the password."""
    since = now - THROTTLE_WINDOW
    account = account_subject(name)
    if account and store.count_login_failures(account, since) >= MAX_ACCOUNT_FAILURES:
        return True
    return store.count_login_failures(client, since) >= MAX_CLIENT_FAILURES


def record_failure(store: Store, name: str, client: str, now: float) -> None:
    account = account_subject(name)
    subjects = [client, account] if account else [client]
    store.record_login_failure(subjects, now, forget_before=now - THROTTLE_WINDOW)


def record_success(store: Store, name: str) -> None:
    account = account_subject(name)
    if account:
        store.clear_login_failures(account)
