"""``embedguard keygen``: print a new signing key for the key file."""

from __future__ import annotations

import argparse
import secrets

from .common import SubParsers

# 32 random bytes: as strong as the HMAC-SHA1/SHA256 keys itsdangerous derives from it.
KEY_BYTES = 32


def register(commands: SubParsers) -> None:
    keygen = commands.add_parser(
        "keygen",
        help="print a new signing key (put it first in EMBEDGUARD_SECRET_KEYS_FILE)",
    )
    keygen.set_defaults(command=_keygen)


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def _keygen(args: argparse.Namespace) -> int:
    print(new_key())
    return 0
