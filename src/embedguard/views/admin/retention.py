"""How long usage counts and audit entries are kept (a form on the settings page)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.responses import Response

from ... import retention
from ...i18n import N_
from ..common import form_text
from .base import Admin, action, message
from .settings import _context


def _parse(text: str | None, bounds: tuple[int, int]) -> int | None:
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    years = int(text)
    return years if bounds[0] <= years <= bounds[1] else None


async def _save(admin: Admin, form: FormData) -> Response:
    usage = _parse(form_text(form, "usage_years", max_length=10), retention.USAGE_YEARS_RANGE)
    audit = _parse(form_text(form, "audit_years", max_length=10), retention.AUDIT_YEARS_RANGE)
    if usage is None or audit is None:
        problem = message(
            N_(
                "Keep usage counts %(usage_min)s to %(usage_max)s years and audit entries "
                "%(audit_min)s to %(audit_max)s years (whole numbers)."
            ),
            "error",
            usage_min=retention.USAGE_YEARS_RANGE[0],
            usage_max=retention.USAGE_YEARS_RANGE[1],
            audit_min=retention.AUDIT_YEARS_RANGE[0],
            audit_max=retention.AUDIT_YEARS_RANGE[1],
        )
        return admin.render("settings.html", _context(admin, error=problem), status_code=400)
    store = admin.services.store
    store.set_setting(retention.USAGE_SETTING, usage, actor=admin.user)
    store.set_setting(retention.AUDIT_SETTING, audit, actor=admin.user)
    retention.purge(store, admin.services.clock())
    admin.flash(N_("Retention periods saved."))
    return admin.redirect("/admin/settings")


save = action(_save)
