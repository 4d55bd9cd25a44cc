"""Admin accounts: argon2id password hashes, and the ``embedguard user`` commands."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .store import Store

if TYPE_CHECKING:
    from .services import Services

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verifying against a fixed hash for unknown names costs the same time as for known ones,
# so response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("embedguard-no-such-user")


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
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def add_cli_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="manage admin accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="create an admin account or reset its password")
    add.add_argument("name")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(command=_user_add)


def _user_add(args: argparse.Namespace) -> int:
    from .cli import CommandError, with_services

    try:
        check_username(args.name)
        password = _read_password(args.password_stdin)
    except UserError as error:
        raise CommandError(str(error)) from None

    async def work(services: Services) -> int:
        try:
            created = set_password(services.store, args.name, password)
        except UserError as error:
            raise CommandError(str(error)) from None
        print(f"{args.name}: {'created' if created else 'password reset'}")
        return 0

    return with_services(work)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Password: ")
            repeated = getpass.getpass("Repeat password: ")
        except EOFError:
            raise UserError("no password given; pipe one in with --password-stdin") from None
        if repeated != password:
            raise UserError("the passwords do not match")
    return check_password(password)
