"""What every admin view shares: the login guard, CSRF check, language, rendering, flashes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ... import csrf
from ...auth import current_user
from ...i18n import LANGUAGES
from ...security import build_csp
from ...services import Services
from ..common import error_page, language_of, read_form, safe_next, services_of

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
FORM_FIELDS = 40


@dataclass(frozen=True)
class Message:
    """A translatable message (English msgid) with its parameters; kind styles it."""

    text: str
    params: Mapping[str, Any]
    kind: str = "info"


def message(text: str, kind: str = "info", **params: Any) -> Message:
    return Message(text, params, kind)


@dataclass
class Admin:
    request: Request
    services: Services
    user: str
    lang: str

    @property
    def session(self) -> dict[str, Any]:
        return self.request.session

    def flash(self, text: str, kind: str = "success", **params: Any) -> None:
        flashes = list(self.session.get("flash", []))[-4:]
        flashes.append([text, params, kind])
        self.session["flash"] = flashes

    def render(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        frames_self: bool = False,
    ) -> Response:
        return render(
            self.request,
            template,
            context,
            user=self.user,
            lang=self.lang,
            status_code=status_code,
            frames_self=frames_self,
        )

    def redirect(self, path: str) -> Response:
        return RedirectResponse(path, status_code=303)


def admin_language(request: Request) -> str:
    """``?lang=`` wins and is remembered in the session; then the session; then the browser."""
    requested = request.query_params.get("lang")
    if requested in LANGUAGES:
        request.session["lang"] = requested
        return requested
    stored = request.session.get("lang")
    return stored if stored in LANGUAGES else language_of(request)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    user: str | None,
    lang: str,
    status_code: int = 200,
    frames_self: bool = False,
) -> Response:
    services = services_of(request)
    flashes = [message(t, k, **p) for t, p, k in request.session.pop("flash", [])]
    base = {
        "user": user,
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf.token(request.session, services.signer),
        "flashes": flashes,
        "path": request.url.path,
        "lang_switch": _lang_switch_url(request, "en" if lang == "de" else "de"),
    }
    headers = {"cache-control": "no-store"}
    if frames_self:
        headers["content-security-policy"] = build_csp({"frame-src": ("'self'",)})
    return services.templates.response(
        f"admin/{template}", lang, {**base, **context}, status_code=status_code, headers=headers
    )


def _lang_switch_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', lang)])}"


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += f"?{request.url.query}"
    if request.method != "GET" or safe_next(target) is None:
        target = "/admin/"
    return RedirectResponse(f"/admin/login?next={quote(target, safe='/')}", status_code=303)


PageHandler = Callable[[Admin], Awaitable[Response]]
ActionHandler = Callable[[Admin, FormData], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _admin(request: Request) -> Admin | None:
    services = services_of(request)
    user = current_user(request.session, services.store, services.clock())
    if user is None:
        return None
    return Admin(request, services, user, admin_language(request))


def page(handler: PageHandler) -> Endpoint:
    """A GET view for logged-in admins; everyone else goes to the login page."""

    async def endpoint(request: Request) -> Response:
        admin = _admin(request)
        if admin is None:
            return login_redirect(request)
        return await handler(admin)

    endpoint.__name__ = handler.__name__
    return endpoint


def action(
    handler: ActionHandler, *, upload: bool = False, max_fields: int = FORM_FIELDS
) -> Endpoint:
    """A state-changing POST: logged in, a valid CSRF token, or nothing happens."""

    async def endpoint(request: Request) -> Response:
        admin = _admin(request)
        if admin is None:
            return login_redirect(request)
        form = await read_form(request, max_fields=max_fields, max_files=1 if upload else 0)
        try:
            if not csrf_ok(request, form):
                return forbidden(request)
            return await handler(admin, form)
        finally:
            await form.close()  # uploads are spooled to temporary files

    endpoint.__name__ = handler.__name__
    return endpoint


def csrf_ok(request: Request, form: FormData) -> bool:
    given = form.get(csrf.FIELD)
    token = given if isinstance(given, str) else None
    return csrf.valid(request.session, services_of(request).signer, token)


def forbidden(request: Request) -> Response:
    return error_page(
        request, 403, "The form was too old or came from elsewhere. Please reload the page."
    )
