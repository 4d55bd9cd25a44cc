"""Logging in and out."""

from __future__ import annotations

import functools

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ... import auth, login_throttle, password_checks, staff
from ...i18n import N_
from ...users import MAX_PASSWORD_LENGTH, verify_password
from ..common import form_text, read_form, safe_next, services_of
from .base import Admin, action, admin_language, csrf_ok, forbidden, message, render

HOME = "/admin/"


def _next_path(value: str | None) -> str:
    path = safe_next(value)
    return path if path and path.startswith("/admin/") else HOME


async def login_form(request: Request) -> Response:
    services = services_of(request)
    lang = admin_language(request)
    next_path = _next_path(request.query_params.get("next"))
    if auth.current_user(request.session, services.store, services.clock()):
        return RedirectResponse(next_path, status_code=303)
    return _login_page(request, lang, next_path)


def _login_page(
    request: Request, lang: str, next_path: str, *, error: str = "", status_code: int = 200
) -> Response:
    context = {
        "next": next_path,
        "error": message(error, "error") if error else None,
        "username": "",
    }
    return render(request, "login.html", context, user=None, lang=lang, status_code=status_code)


async def login(request: Request) -> Response:
    services = services_of(request)
    lang = admin_language(request)
    form = await read_form(request, max_fields=10)
    if not csrf_ok(request, form):
        return forbidden(request)
    name = (form_text(form, "username", max_length=200) or "").strip()
    password = form_text(form, "password", max_length=MAX_PASSWORD_LENGTH) or ""
    next_path = _next_path(form_text(form, "next"))
    now = services.clock()
    key = login_throttle.client_key(services.settings.secret_keys)
    client = login_throttle.client_subject(request.client.host if request.client else None, key)
    if not password_checks.reserve():
        text = N_("Too many logins are being checked right now. Please try again shortly.")
        return _login_page(request, lang, next_path, error=text, status_code=503)
    try:
        attempt = login_throttle.begin(services.store, name, client, now)
    except BaseException:
        password_checks.release()
        raise
    if attempt is None:
        password_checks.release()
        text = N_("Too many failed attempts. Please wait 15 minutes and try again.")
        return _login_page(request, lang, next_path, error=text, status_code=429)
    ok = await password_checks.run_reserved(
        functools.partial(verify_password, services.store, name, password)
    )
    stored = services.store.get_user_hash(name) if ok else None
    if stored is None:
        text = N_("The user name or the password is wrong.")
        return _login_page(request, lang, next_path, error=text, status_code=401)
    login_throttle.succeeded(services.store, attempt)
    auth.start_session(request.session, name, stored, now)
    request.session["lang"] = lang
    services.store.audit(name, "user.login", name, None, None)
    response = RedirectResponse(next_path, status_code=303)
    # Embed pages never see the session cookie; this one keeps the admin's own visits
    # there out of the usage counts (staff.py).
    staff.set_cookie(
        response,
        services.signer,
        name=name,
        login_at=now,
        password_hash=stored,
        secure=_secure_cookies(request),
    )
    return response


async def _logout(admin: Admin, form: FormData) -> Response:
    admin.services.store.audit(admin.user, "user.logout", admin.user, None, None)
    lang = admin.lang
    auth.end_session(admin.session)
    admin.services.store.end_sessions(admin.user, admin.services.clock())
    admin.session["lang"] = lang
    response = RedirectResponse("/admin/login", status_code=303)
    staff.delete_cookie(response, secure=_secure_cookies(admin.request))
    return response


def _secure_cookies(request: Request) -> bool:
    """As the session cookie is (auth.AdminSessionMiddleware)."""
    public_url = services_of(request).settings.public_url
    return auth.secure_scheme(request.url.scheme) or auth.always_secure(public_url)


logout = action(_logout)
