"""``embedguard user``: admin accounts."""

from __future__ import annotations

import argparse
import getpass
import sys

from .. import login_throttle
from ..services import Services
from ..users import UserError, check_password, check_username, set_password
from .common import CommandError, SubParsers, with_services


def register(commands: SubParsers) -> None:
    user = commands.add_parser("user", help="manage admin accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="create an admin account or reset its password")
    add.add_argument("name")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(command=_user_add)
    unlock = user.add_parser("unlock", help="clear an account's failed logins")
    unlock.add_argument("name")
    unlock.set_defaults(command=_user_unlock)


def _user_add(args: argparse.Namespace) -> int:
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


def _user_unlock(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        if services.store.get_user_hash(args.name) is None:
            raise CommandError(f"no admin account named {args.name!r}")
        cleared = login_throttle.unlock(services.store, args.name)
        services.store.audit("cli", "user.unlock", args.name, None, None)
        print(f"{args.name}: unlocked ({cleared} failed attempts cleared)")
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
