"""The ``embedguard`` command: one module per command group, assembled here.

Every error is one line on stderr and a nonzero exit; nothing is half-stored.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .. import __version__, allowlist
from ..database import SchemaTooNew, StorageError
from ..settings import SETTINGS, SettingsError
from . import db, embeds, keys, report, scan, serve, users
from .common import CommandError

Command = Callable[[argparse.Namespace], int]

# Each module adds its subcommands with register(commands); a new command group is a new
# module here and one entry in this tuple.
COMMAND_GROUPS = (serve, embeds, users, keys, db, report, scan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except (CommandError, SettingsError, allowlist.AllowlistError) as error:
        print(f"embedguard: error: {error}", file=sys.stderr)
        return 1
    except UnicodeError:
        print("embedguard: error: arguments and input must be valid UTF-8 text", file=sys.stderr)
        return 1
    except SchemaTooNew as error:
        print(f"embedguard: error: {error}", file=sys.stderr)
        return 1
    except StorageError as error:
        print(f"embedguard: error: cannot use the database: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"embedguard: error: cannot use the data directory: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(f"  {s.env}: {s.help}" for s in SETTINGS)
    parser = argparse.ArgumentParser(
        prog="embedguard",
        description=(
            "Two-click consent placeholders for Vimeo, YouTube, Facebook, X and Mastodon embeds."
        ),
        epilog=f"settings (environment):\n{settings_help}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"embedguard {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


__all__ = ["CommandError", "main"]
