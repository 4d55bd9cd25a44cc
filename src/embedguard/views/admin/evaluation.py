"""The yearly evaluation: the page (also the printable report), its CSV, the recorded review."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from starlette.datastructures import FormData
from starlette.responses import Response

from ... import charts, evaluation, review
from ...i18n import N_
from ...resources import resource_dir
from ...services import Services
from ..common import error_page, form_text
from .base import Admin, action, page

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# The standalone report (``embedguard report --format html``) carries its styles inline.
REPORT_STYLESHEETS = ("embedguard.css", "admin.css", "evaluation.css")


def today_of(services: Services) -> date:
    return datetime.fromtimestamp(services.clock(), UTC).date()


class Formats:
    """Numbers and dates in the page's language (German: "1.234", "Januar 2026")."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        # The language's own percent pattern ("12,5 %" / "12.5%") with one decimal.
        pattern = Locale.parse(lang).percent_formats[None].pattern
        self._percent = pattern.replace("#,##0", "#,##0.0", 1)

    def num(self, value: int) -> str:
        return str(format_decimal(value, locale=self.lang))

    def rate(self, value: float | None) -> str:
        if value is None:
            return "\u2013"  # an en dash: no views, no rate
        return str(format_percent(value, self._percent, locale=self.lang))

    def month(self, month: str) -> str:
        year, number = (int(part) for part in month.split("-"))
        return str(format_date(date(year, number, 1), "LLLL yyyy", locale=self.lang))

    def month_short(self, month: str) -> str:
        year, number = (int(part) for part in month.split("-"))
        return str(format_date(date(year, number, 1), "LLL", locale=self.lang))

    def day(self, iso: str) -> str:
        try:
            return str(format_date(date.fromisoformat(iso[:10]), "long", locale=self.lang))
        except ValueError:
            return ""


def report_context(services: Services, year: int, lang: str) -> dict[str, Any]:
    """Everything the report shows; the page and ``embedguard report`` both render it."""
    services.usage.flush()
    today = today_of(services)
    store = services.store
    report = evaluation.build(store, services.registry, year, today)
    return {
        "report": report,
        "charts": {c.provider: charts.monthly(c.months) for c in report.channels},
        "fmt": Formats(lang),
        "years": evaluation.years_with_data(store, today),
        "in_use": review.embeds_in_use(store, year),
        "texts_changed": review.texts_last_changed(store),
        "policy_history": review.setting_changes(store, "policy_version"),
        "policy_version": services.live.policy_version(),
        "info": services.live.privacy_info(),
        "reviews": review.recorded(store, services.registry.names()),
        "decisions": review.DECISIONS,
        "max_note": review.MAX_NOTE,
        "generated": today.isoformat(),
    }


def render_standalone(services: Services, year: int, lang: str) -> str:
    """The printable report as one self-contained HTML file (styles inline, no links)."""
    css = "\n".join(
        (resource_dir("static") / name).read_text(encoding="utf-8") for name in REPORT_STYLESHEETS
    )
    context = {**report_context(services, year, lang), "inline_css": css}
    return services.templates.render("admin/evaluation_report.html", lang, context)


def _year(admin: Admin, text: str | None) -> int | Response:
    try:
        return evaluation.parse_year(text, today_of(admin.services))
    except evaluation.YearError:
        return error_page(admin.request, 400, N_("There is no evaluation for this year."))


@page
async def evaluation_page(admin: Admin) -> Response:
    year = _year(admin, admin.request.query_params.get("year"))
    if isinstance(year, Response):
        return year
    context = report_context(admin.services, year, admin.lang)
    return admin.render("evaluation.html", context)


@page
async def evaluation_csv(admin: Admin) -> Response:
    year = _year(admin, admin.request.path_params["year"])
    if isinstance(year, Response):
        return year
    admin.services.usage.flush()
    report = evaluation.build(
        admin.services.store, admin.services.registry, year, today_of(admin.services)
    )
    return Response(
        evaluation.to_csv(report),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "content-disposition": f'attachment; filename="embedguard-{year}.csv"',
            "cache-control": "no-store",
        },
    )


async def _record(admin: Admin, form: FormData) -> Response:
    year = _year(admin, form_text(form, "year", max_length=4))
    if isinstance(year, Response):
        return year
    decisions: dict[str, tuple[str, str]] = {}
    for provider in admin.services.registry:
        decision = form_text(form, f"decision.{provider.name}", max_length=20) or ""
        given = form_text(form, f"note.{provider.name}", max_length=review.MAX_NOTE)
        if given is None and f"note.{provider.name}" in form:
            return _bad_review(admin, year)  # too long: refused, not cut
        note = (given or "").strip()
        if decision not in ("", *review.DECISIONS) or (note and not decision):
            return _bad_review(admin, year)
        if decision:
            decisions[provider.name] = (decision, note)
    if not decisions:
        return _bad_review(admin, year)
    review.record(admin.services.store, year, decisions, admin.user, admin.services.clock())
    admin.flash(N_("The review of %(year)s is recorded."), year=str(year))
    return admin.redirect(f"/admin/evaluation?year={year}#reviews")


def _bad_review(admin: Admin, year: int) -> Response:
    context = report_context(admin.services, year, admin.lang)
    problem = N_(
        "Choose continue, change or stop for at least one channel (a note needs a choice)."
    )
    return admin.render("evaluation.html", {**context, "review_error": problem}, status_code=400)


record_review = action(_record)
