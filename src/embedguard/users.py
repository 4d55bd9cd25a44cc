"""Admin accounts: user names, password rules and argon2id hashes (no CLI, no web)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .store import Store

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verifying against a fixed hash for unknown names costs the same time as for known ones,
# so response times do not reveal which accounts exist. Made on first use, not at import:
# hashing takes most of a second and 64 MiB, and visitors' pages never need it.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("embedguard-no-such-user")
    return _DUMMY_HASH


class UserError(ValueError):
    pass


def check_username(name: str) -> str:
    if not USERNAME.fullmatch(name):
        raise UserError(
            "user names are 1-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise UserError(f"passwords need {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    return password


def set_password(store: Store, name: str, password: str, *, actor: str = "cli") -> bool:
    """Create the account or reset its password; True if it was created."""
    check_username(name)
    check_password(password)
    return store.set_user(name, _hasher.hash(password), actor=actor)


def verify_password(store: Store, name: str, password: str) -> bool:
    stored = store.get_user_hash(name) if USERNAME.fullmatch(name) else None
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None
