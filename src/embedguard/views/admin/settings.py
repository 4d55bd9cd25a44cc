"""Live settings: consent lifetime, policy version, the origins allowed to frame the embeds."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from ... import retention
from ...i18n import N_
from ...settings import SettingsError, parse_frame_ancestors
from ..common import form_text
from .base import Admin, Message, action, message, page

MIN_DAYS, MAX_DAYS = 1, 730


def _context(admin: Admin, **extra: Any) -> dict[str, Any]:
    services = admin.services
    stored = services.store.get_setting("frame_ancestors")
    return {
        "consent_days": services.live.consent_days(),
        "env_consent_days": services.settings.consent_days,
        "policy_version": services.live.policy_version(),
        "frame_ancestors": stored if isinstance(stored, str) else "",
        "env_frame_ancestors": " ".join(services.settings.frame_ancestors),
        "retention": retention.periods(services.store),
        "usage_years_range": retention.USAGE_YEARS_RANGE,
        "audit_years_range": retention.AUDIT_YEARS_RANGE,
        "min_days": MIN_DAYS,
        "max_days": MAX_DAYS,
        "error": None,
        **extra,
    }


@page
async def settings_page(admin: Admin) -> Response:
    return admin.render("settings.html", _context(admin))


async def _save(admin: Admin, form: FormData) -> Response:
    days_text = (form_text(form, "consent_days", max_length=10) or "").strip()
    given = form_text(form, "frame_ancestors", max_length=2000)
    ancestors = " ".join((given or "").split())
    days, problem = _parse_days(days_text)
    if problem is None and (ancestors or given is None):
        try:
            if given is None:
                raise SettingsError("too long or missing")
            ancestors = " ".join(parse_frame_ancestors(ancestors))
        except SettingsError as error:
            problem = message(
                N_(
                    "The origins are not valid (%(reason)s). Write them separated by spaces, "
                    "e.g. https://www.example.de https://example.de, or 'self'."
                ),
                "error",
                reason=str(error),
            )
    if problem is not None or days is None:
        entered = {"consent_days": days_text, "frame_ancestors": ancestors, "error": problem}
        return admin.render("settings.html", _context(admin, **entered), status_code=400)
    store = admin.services.store
    store.set_setting("consent_days", days, actor=admin.user)
    store.set_setting("frame_ancestors", ancestors or None, actor=admin.user)
    admin.flash(N_("Settings saved."))
    return admin.redirect("/admin/settings")


def _parse_days(text: str) -> tuple[int | None, Message | None]:
    problem = message(
        N_("The consent lifetime must be a whole number of days from %(min)s to %(max)s."),
        "error",
        min=MIN_DAYS,
        max=MAX_DAYS,
    )
    if not text.isascii() or not text.isdigit():
        return None, problem
    days = int(text)
    return (days, None) if MIN_DAYS <= days <= MAX_DAYS else (None, problem)


async def _ask_again(admin: Admin, form: FormData) -> Response:
    version = admin.services.live.policy_version() + 1
    admin.services.store.set_setting("policy_version", version, actor=admin.user)
    text = N_("Policy version is now %(version)s: every visitor is asked again.")
    admin.flash(text, version=version)
    return admin.redirect("/admin/settings")


save = action(_save)
ask_again = action(_ask_again)
