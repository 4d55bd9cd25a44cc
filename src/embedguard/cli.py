"""The ``embedguard`` command: serve, and manage the allowlist and admin accounts.

Every error is one line on stderr and a nonzero exit; nothing is half-stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import anyio

from . import __version__, catalog, demo
from .services import Services
from .settings import SETTINGS, Settings, SettingsError
from .snippets import DEFAULT_BASE_URL, embed_url, iframe_snippet

Command = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except (CommandError, SettingsError, catalog.CatalogError) as error:
        print(f"embedguard: error: {error}", file=sys.stderr)
        return 1
    except UnicodeError:
        print("embedguard: error: arguments and input must be valid UTF-8 text", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as error:
        print(f"embedguard: error: cannot use the data directory: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(f"  {s.env}: {s.help}" for s in SETTINGS)
    parser = argparse.ArgumentParser(
        prog="embedguard",
        description="Two-click consent placeholders for Vimeo, Facebook and Twitter/X embeds.",
        epilog=f"settings (environment):\n{settings_help}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"embedguard {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="throwaway data and offline demo content"
    )
    serve.set_defaults(command=_serve)

    embed = commands.add_parser("embed", help="manage the allowlist").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = embed.add_parser("add", help="allow an embed by its URL")
    add.add_argument("url")
    add.add_argument("--title", help="title shown instead of the provider's")
    add.add_argument("--image", type=Path, help="preview image file (JPEG, PNG, WebP)")
    add.set_defaults(command=_embed_add)
    listing = embed.add_parser("list", help="list allowed embeds")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(command=_embed_list)
    for action, help_text in (
        ("remove", "remove an embed"),
        ("disable", "stop showing an embed"),
        ("enable", "show a disabled embed again"),
    ):
        sub = embed.add_parser(action, help=help_text)
        sub.add_argument("key", help="e.g. vimeo:76979871")
        sub.set_defaults(command=_embed_change, action=action)

    _add_user_commands(commands)
    return parser


def _add_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .users import add_cli_commands

    add_cli_commands(commands)


def settings_from_env(*, demo_mode: bool = False) -> Settings:
    return Settings.from_env(os.environ, demo=demo_mode)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = settings_from_env(demo_mode=args.demo)
    if args.demo:
        settings = demo.demo_settings(settings, Path(tempfile.mkdtemp(prefix="embedguard-demo-")))
    services = Services.build(settings)
    if args.demo:
        demo.seed(services)
        print(f"embedguard demo: http://{args.host}:{args.port}/demo", file=sys.stderr)
    uvicorn.run(
        create_app(settings, services),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        server_header=False,
        access_log=False,
        log_level="info",
    )
    return 0


def with_services(work: Callable[[Services], Awaitable[int]]) -> int:
    services = Services.build(settings_from_env())

    async def run() -> int:
        try:
            return await work(services)
        finally:
            await services.aclose()

    return anyio.run(run)


def _base_url(services: Services) -> str:
    return services.settings.public_url or DEFAULT_BASE_URL


def _embed_add(args: argparse.Namespace) -> int:
    image = _read_image(args.image) if args.image else None

    async def work(services: Services) -> int:
        result = await catalog.add(services, args.url, title=args.title, image=image)
        provider = services.registry.get(result.embed.provider)
        assert provider is not None
        for warning in result.warnings:
            print(f"embedguard: warning: {warning}", file=sys.stderr)
        print(embed_url(_base_url(services), provider, result.embed))
        print(iframe_snippet(_base_url(services), provider, result.embed))
        return 0

    return with_services(work)


def _read_image(path: Path) -> bytes:
    try:
        if path.stat().st_size > 10 * 1024 * 1024:
            raise CommandError(f"{path}: image file is larger than 10 MB")
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None


def _embed_list(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        rows = []
        for embed in services.store.list_embeds():
            provider = services.registry.get(embed.provider)
            url = embed_url(_base_url(services), provider, embed) if provider else ""
            rows.append(
                {
                    "key": embed.key,
                    "provider": embed.provider,
                    "id": embed.item_id,
                    "title": embed.display_title,
                    "enabled": embed.enabled,
                    "status": embed.status,
                    "embed_url": url,
                    "updated_at": embed.updated_at,
                }
            )
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        elif not rows:
            print("no embeds allowed yet; add one with: embedguard embed add URL")
        for row in rows if not args.json else []:
            state = "enabled" if row["enabled"] else "disabled"
            print(f"{row['key']}\t{state}\t{row['title']}\t{row['embed_url']}")
        return 0

    return with_services(work)


def _embed_change(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        key = services.registry.canonical_key(args.key)
        if args.action == "remove":
            found = services.store.remove_embed(key)
        else:
            found = services.store.set_embed_enabled(key, args.action == "enable") is not None
        if not found:
            raise CommandError(f"no embed {key!r}; see: embedguard embed list")
        print(f"{key}: {args.action}d")
        return 0

    return with_services(work)
