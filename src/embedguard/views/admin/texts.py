"""Texts visitors read: the facts and contacts of /privacy, and per-provider notice texts.

A notice text is stored in the settings table under ``notice.<provider>`` as
``{"de": "...", "en": "..."}``; an empty text means "the standard notice only".
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from ... import privacy_info
from ...i18n import LANGUAGES, N_
from ...notices import notice_key, notice_texts
from ...privacy_info import PrivacyInfo, PrivacyInfoError, Text
from ...text import clean_text
from .base import Admin, Message, action, message, page

MAX_NOTICE = 2000
_LISTS = ("contacts", "channels", "websites")
_PRIVACY_FIELDS = 600


def _context(admin: Admin, **extra: Any) -> dict[str, Any]:
    services = admin.services
    info = extra.pop("info", None) or privacy_info.load(services.store)
    return {
        "info": info,
        "rows": blank_rows(info),
        "empty_text": Text(),
        "notices": {p.name: notice_texts(services.store, p.name) for p in services.registry},
        "providers": list(services.registry),
        "languages": LANGUAGES,
        "max_notice": MAX_NOTICE,
        "privacy_error": None,
        "notice_error": None,
        "privacy_preview": None,
        "notice_preview": False,
        **extra,
    }


@page
async def texts_page(admin: Admin) -> Response:
    return admin.render("texts.html", _context(admin))


# -- notices ----------------------------------------------------------------------------


async def _notices(admin: Admin, form: FormData) -> Response:
    entered: dict[str, dict[str, str]] = {}
    problem: Message | None = None
    for provider in admin.services.registry:
        entered[provider.name] = {}
        for lang in LANGUAGES:
            value = form.get(f"notice.{provider.name}.{lang}", "")
            text = value if isinstance(value, str) else ""
            if len(text.strip()) > MAX_NOTICE:
                problem = message(
                    N_("The notice text for %(provider)s is too long (at most %(n)s characters)."),
                    "error",
                    provider=provider.label,
                    n=MAX_NOTICE,
                )
            entered[provider.name][lang] = clean_text(text, MAX_NOTICE, multiline=True)
    if problem is not None or form.get("do") == "preview":
        context = _context(
            admin, notices=entered, notice_error=problem, notice_preview=problem is None
        )
        return admin.render("texts.html", context, status_code=400 if problem else 200)
    for name, texts in entered.items():
        stored = texts if any(texts.values()) else None
        admin.services.store.set_setting(notice_key(name), stored, actor=admin.user)
    admin.flash(N_("Notice texts saved."))
    return admin.redirect("/admin/texts")


notices = action(_notices)


# -- privacy information ----------------------------------------------------------------


async def _privacy(admin: Admin, form: FormData) -> Response:
    try:
        info = privacy_info.from_dict(_nested(form))
    except PrivacyInfoError as error:
        problem = message(
            N_("The privacy information was not saved: %(reason)s"), "error", reason=str(error)
        )
        return admin.render("texts.html", _context(admin, privacy_error=problem), status_code=400)
    if form.get("do") == "preview":
        return admin.render("texts.html", _context(admin, info=info, privacy_preview=info))
    privacy_info.save(admin.services.store, info, actor=admin.user)
    admin.flash(N_("Privacy information saved."))
    return admin.redirect("/admin/texts")


privacy = action(_privacy, max_fields=_PRIVACY_FIELDS)


def _nested(form: FormData) -> dict[str, Any]:
    """Form fields named like ``contacts.0.name.de`` as the dict privacy_info expects."""
    data: dict[str, Any] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str) or name in ("csrf_token", "do"):
            continue
        node: Any = data
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise PrivacyInfoError(f"{name}: unexpected field")
        node[leaf] = value
    for name in _LISTS:
        rows = data.get(name, {})
        if not isinstance(rows, dict):
            raise PrivacyInfoError(f"{name}: unexpected field")
        data[name] = [rows[i] for i in sorted(rows, key=_index) if _filled(rows[i])]
    data["address"] = [
        line.strip() for line in str(data.get("address", "")).splitlines() if line.strip()
    ]
    return data


def _index(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 4 else 10**6


def _filled(row: Any) -> bool:
    if isinstance(row, dict):
        return any(_filled(v) for v in row.values())
    return isinstance(row, str) and bool(row.strip())


def blank_rows(info: PrivacyInfo) -> dict[str, int]:
    """How many rows each list shows: what is stored plus one empty row to add another."""
    return {name: min(len(getattr(info, name)) + 1, privacy_info.MAX_ITEMS) for name in _LISTS}
