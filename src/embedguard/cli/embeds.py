"""``embedguard embed``: manage the allowlist."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import allowlist
from ..services import Services
from ..snippets import embed_url, iframe_snippet
from .common import CommandError, SubParsers, base_url, with_services


def register(commands: SubParsers) -> None:
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


def _embed_add(args: argparse.Namespace) -> int:
    image = _read_image(args.image) if args.image else None

    async def work(services: Services) -> int:
        result = await allowlist.add(services, args.url, title=args.title, image=image)
        provider = services.registry.get(result.embed.provider)
        assert provider is not None
        for warning in result.warnings:
            print(f"embedguard: warning: {warning}", file=sys.stderr)
        print(embed_url(base_url(services), provider, result.embed))
        print(iframe_snippet(base_url(services), provider, result.embed))
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
            url = embed_url(base_url(services), provider, embed) if provider else ""
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
