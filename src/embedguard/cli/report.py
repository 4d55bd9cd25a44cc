"""``embedguard report``: the yearly evaluation as CSV (as downloaded), JSON or printable HTML."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import evaluation
from ..i18n import LANGUAGES
from ..services import Services
from ..views.admin.evaluation import render_standalone, today_of
from .common import CommandError, SubParsers, with_services

FORMATS = ("csv", "json", "html")


def register(commands: SubParsers) -> None:
    report = commands.add_parser("report", help="the yearly evaluation (csv, json or html)")
    report.add_argument("--year", help="YYYY (default: the last full year)")
    report.add_argument("--format", default="csv", help="csv (default), json or html")
    report.add_argument("--output", type=Path, help="write to this file instead of stdout")
    report.add_argument("--lang", default="de", help="language of the html report: de or en")
    report.set_defaults(command=_report)


def _report(args: argparse.Namespace) -> int:
    # Checked by hand, not with argparse choices: its errors are several lines and exit 2.
    if args.format not in FORMATS:
        raise CommandError(f"unknown format {args.format!r}; use csv, json or html")
    if args.lang not in LANGUAGES:
        raise CommandError(f"unknown language {args.lang!r}; use de or en")

    async def work(services: Services) -> int:
        try:
            year = evaluation.parse_year(args.year, today_of(services))
        except evaluation.YearError as error:
            raise CommandError(str(error)) from None
        _write(args.output, render(services, year, args.format, args.lang))
        return 0

    return with_services(work)


def render(services: Services, year: int, form: str, lang: str = "de") -> str:
    if form == "html":
        return render_standalone(services, year, lang)
    services.usage.flush()
    report = evaluation.build(services.store, services.registry, year, today_of(services))
    if form == "json":
        return json.dumps(evaluation.to_json(report), ensure_ascii=False, indent=2) + "\n"
    return evaluation.to_csv(report)


def _write(target: Path | None, text: str) -> None:
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        # newline="": the CSV's line ends are written exactly as the download has them.
        with target.open("w", encoding="utf-8", newline="") as output:
            output.write(text)
    except OSError as error:
        raise CommandError(f"{target}: {error.strerror}") from None
