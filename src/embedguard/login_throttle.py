"""Admin login throttling (the bound on password checks at once: password_checks.py).

Every attempt is written down *before* its password is checked, in the same store
transaction that counts the earlier ones, so parallel guesses cannot overtake the count.
The attempt of a right password is struck off again; the others stay as failures.

The rules (all within ``WINDOW`` unless said otherwise):
- one account from one client: after ``MAX_PAIR_FAILURES`` failures that client waits (429);
- one client, any accounts: ``MAX_CLIENT_FAILURES``;
- an account with ``ACCOUNT_UNDER_ATTACK`` failures from all clients slows down: a client
  that has failed for it must wait ``BACKOFF_SECONDS`` doubled per failure since its last
  one. A client without failures for the account is never held back by this rule, so
  others cannot lock its owner out;
- everything together: past ``MAX_GLOBAL_FAILURES`` within ``GLOBAL_WINDOW`` (a flood from
  many addresses, or forwarded addresses that are not what they claim), clients with
  failures wait and clients without get one check every ``GLOBAL_TRICKLE_SECONDS``.

Clients are stored only as keyed hashes (the key derives from the signing keys, so every
process and worker agrees), never as addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .store import LoginStat, Store
from .users import USERNAME

WINDOW = 15 * 60
MAX_PAIR_FAILURES = 5
MAX_CLIENT_FAILURES = 20
ACCOUNT_UNDER_ATTACK = 10
BACKOFF_SECONDS = 30
GLOBAL_WINDOW = 60
MAX_GLOBAL_FAILURES = 30
GLOBAL_TRICKLE_SECONDS = 2

_GLOBAL = "global"


def client_key(secret_keys: tuple[str, ...]) -> bytes:
    """The key for client hashes, derived from the signing key (the first one)."""
    return hmac.new(secret_keys[0].encode(), b"embedguard.login-client", hashlib.sha256).digest()


def client_subject(host: str | None, key: bytes) -> str:
    digest = hmac.new(key, (host or "").encode(), hashlib.sha256).hexdigest()
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


def pair_prefix(account: str) -> str:
    return f"pair:{account}|"


@dataclass(frozen=True)
class Attempt:
    """One login attempt, already counted."""

    subjects: tuple[str, ...]
    pair: str | None
    at: float


def begin(store: Store, name: str, client: str, now: float) -> Attempt | None:
    """Count this attempt, or None (429) when it must wait; atomic in the store."""
    account = account_subject(name)
    pair = pair_prefix(account) + client if account else None
    since = now - WINDOW
    asked = [(client, since), (_GLOBAL, now - GLOBAL_WINDOW)]
    if account and pair:
        asked += [(pair, since), (account, since)]
    recorded = tuple(subject for subject, _ in asked)

    def allowed(stats: list[LoginStat]) -> bool:
        client_stat, global_stat, *account_stats = stats
        pair_stat, account_stat = account_stats or [LoginStat(0, None), LoginStat(0, None)]
        if client_stat.count >= MAX_CLIENT_FAILURES or pair_stat.count >= MAX_PAIR_FAILURES:
            return False
        if account_stat.count >= ACCOUNT_UNDER_ATTACK and pair_stat.last is not None:
            wait = BACKOFF_SECONDS * 2 ** (pair_stat.count - 1)
            if now - pair_stat.last < wait:
                return False
        if global_stat.count >= MAX_GLOBAL_FAILURES:
            if pair_stat.count or client_stat.count:
                return False
            if global_stat.last is not None and now - global_stat.last < GLOBAL_TRICKLE_SECONDS:
                return False
        return True

    if not store.count_login_attempt(asked, allowed, recorded, now, forget_before=since):
        return None
    return Attempt(recorded, pair, now)


def succeeded(store: Store, attempt: Attempt) -> None:
    """The password was right: this attempt and the pair's earlier failures do not count."""
    store.forget_login_attempt(attempt.subjects, attempt.at, clear=attempt.pair)


def unlock(store: Store, name: str) -> int:
    """Clear an account's failures from every client; how many were cleared."""
    account = account_subject(name)
    if account is None:
        return 0
    return store.clear_login_failures(account, prefix=pair_prefix(account))
