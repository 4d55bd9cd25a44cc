"""``embedguard scan``: find the direct embeds an existing site still has, and what replaces them.

Exit status: 0 when no direct embed is left, 1 when one is (or an input could not be read,
or ``--add`` could not add an item), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import allowlist
from ..pagefetch import PageFetcher, PageFetchError
from ..scan import Finding, find_embeds
from ..scan_files import ScanInputError, SourceText, files_below, read_source
from ..services import Services
from ..snippets import embed_url, iframe_snippet
from ..store import Embed
from ..text import clean_text
from .common import SubParsers, base_url, with_services

_URL_ARGUMENT = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)

Say = Callable[[str], None]


def register(commands: SubParsers) -> None:
    scan = commands.add_parser(
        "scan",
        help="find direct embeds in HTML files, folders or pages",
        description="Report every direct embed (player and plugin iframes, widget markup "
        "and scripts) with the embedguard URL and iframe that replace it. Exit status 0 "
        "when none is left, 1 when one is or an input could not be read.",
    )
    scan.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    scan.add_argument("--json", action="store_true", help="print the findings as a JSON array")
    scan.add_argument(
        "--add", action="store_true", help="allow every item found, as `embed add` does"
    )
    scan.add_argument(
        "--allow-private",
        action="store_true",
        help="also fetch pages on private addresses (a staging copy on your own network)",
    )
    scan.set_defaults(command=_scan)


def _scan(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        sources, failed = await _read_inputs(
            args.inputs, allow_private=args.allow_private, proxy=services.settings.outbound_proxy
        )
        for error in failed:
            print(f"embedguard: error: {error}", file=sys.stderr)
        findings = [
            finding
            for source in sources
            for finding in find_embeds(
                source.text, source.name, services.registry, base_url=source.base_url
            )
        ]
        say: Say = _to_stderr if args.json else print
        added = await _add_all(services, findings, say) if args.add else True
        rows = [_row(services, finding) for finding in findings]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            _print_text(rows, len(sources))
        return 1 if findings or failed or not added else 0

    return with_services(work)


async def _read_inputs(
    inputs: Sequence[str], *, allow_private: bool, proxy: str
) -> tuple[list[SourceText], list[Exception]]:
    sources: list[SourceText] = []
    failed: list[Exception] = []
    fetcher: PageFetcher | None = None
    try:
        for value in inputs:
            if not _URL_ARGUMENT.match(value):
                _read_files(value, sources, failed)
                continue
            fetcher = fetcher or PageFetcher(allow_private=allow_private, proxy=proxy)
            try:
                page = await fetcher.fetch(value)
            except PageFetchError as error:
                failed.append(error)
                continue
            sources.append(SourceText(value, page.text, base_url=page.url))
    finally:
        if fetcher is not None:
            await fetcher.aclose()
    return sources, failed


def _read_files(value: str, sources: list[SourceText], failed: list[Exception]) -> None:
    # A file named on the command line must be text; in a folder, binaries are skipped.
    named = not Path(value).is_dir()
    for path in files_below(Path(value)):
        try:
            if isinstance(path, ScanInputError):
                raise path
            source = read_source(path, named=named)
        except ScanInputError as error:
            failed.append(error)
            continue
        if source is not None:
            sources.append(source)


async def _add_all(services: Services, findings: Sequence[Finding], say: Say) -> bool:
    """Allow each item found once, accounts before their posts; True if none failed."""
    first: dict[str, Finding] = {}
    for finding in findings:
        if finding.ref is not None:
            first.setdefault(finding.key, finding)
    ok = True
    for finding in sorted(first.values(), key=_has_parent):
        if services.store.get_embed(finding.key) is not None:
            say(f"{finding.key}: already allowed")
            continue
        try:
            result = await allowlist.add(services, finding.url)
        except allowlist.AllowlistError as error:
            print(f"embedguard: error: {finding.key}: {error}", file=sys.stderr)
            ok = False
            continue
        for warning in result.warnings:
            print(f"embedguard: warning: {finding.key}: {warning}", file=sys.stderr)
        say(f"{finding.key}: added")
    return ok


def _has_parent(finding: Finding) -> bool:
    return bool(finding.ref and finding.ref.provider.parent_key(finding.ref))


def _row(services: Services, finding: Finding) -> dict[str, Any]:
    provider = finding.ref.provider if finding.ref else None
    stored = services.store.get_embed(finding.key) if finding.ref else None
    embed = stored or (_unstored_embed(finding) if provider else None)
    base = base_url(services)
    return {
        "file": finding.source,
        "line": finding.line,
        "provider": finding.provider,
        "key": finding.key,
        "kind": finding.kind,
        "url": finding.url,
        "embed_url": embed_url(base, provider, embed) if provider and embed else "",
        "replacement": iframe_snippet(base, provider, embed) if provider and embed else "",
        "allowed": bool(stored and stored.enabled),
        "note": _note(services, finding, stored),
    }


def _unstored_embed(finding: Finding) -> Embed:
    """The item as the page has it, for a snippet before it is allowed."""
    assert finding.ref is not None
    width, height = finding.size or (16, 9)
    return Embed(
        key=finding.key,
        provider=finding.provider,
        item_id=finding.ref.item_id,
        secret=finding.ref.secret,
        title=clean_text(finding.title, 300),
        width=width,
        height=height,
    )


def _note(services: Services, finding: Finding, stored: Embed | None) -> str:
    provider = services.registry.get(finding.provider)
    label = provider.label if provider else finding.provider.capitalize()
    if finding.kind == "script":
        return f"loads {label}'s script on every page view; remove it with the {label} embeds"
    if finding.ref is None:
        return "embedguard cannot show this item; link to it instead"
    if stored is None:
        return "not allowed yet (embedguard scan --add, or embedguard embed add URL)"
    return "allowed" if stored.enabled else "allowed, but disabled"


def _print_text(rows: Sequence[dict[str, Any]], sources: int) -> None:
    files = f"{sources} file{'s' if sources != 1 else ''}"
    if not rows:
        print(f"no direct embeds in {files}")
        return
    for row in rows:
        what = row["key"] or row["url"]
        print(f"{row['file']}:{row['line']}: {row['provider']} {row['kind']} {what}: {row['note']}")
        if row["replacement"]:
            print(f"    replace with: {row['replacement']}")
    replaceable = sum(1 for row in rows if row["replacement"])
    print(f"{len(rows)} direct embeds in {files}; {replaceable} can be replaced as shown")


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
