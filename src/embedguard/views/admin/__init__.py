"""The admin interface under /admin: its routes and its session cookie."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ...auth import AdminSessionMiddleware, always_secure
from ...services import Services
from . import embeds, evaluation, login, reports, retention, settings, texts

# Uploads (preview images) need more than the visitor routes' 64 KB; plain forms do not.
UPLOAD_BODY_LIMIT = 6 * 1024 * 1024
FORM_BODY_LIMIT = 64 * 1024
TEXTS_BODY_LIMIT = 512 * 1024

_KEY = "/embeds/{key:path}"


def _post(path: str, endpoint: object, name: str, limit: int = FORM_BODY_LIMIT) -> Route:
    return Route(path, endpoint, methods=["POST"], name=name, max_body_size=limit)  # type: ignore[arg-type]


def admin_routes() -> list[BaseRoute]:
    # Routes with a suffix after the key come first: the key itself may contain "/".
    return [
        Route("/login", login.login_form, methods=["GET"], name="admin_login"),
        _post("/login", login.login, "admin_login_post"),
        _post("/logout", login.logout, "admin_logout"),
        Route("/", embeds.embed_list, methods=["GET"], name="admin_home"),
        Route("/embeds/add", embeds.add_form, methods=["GET"], name="admin_add"),
        _post("/embeds/add", embeds.add, "admin_add_post"),
        Route(f"{_KEY}/remove", embeds.remove_form, methods=["GET"], name="admin_remove"),
        _post(f"{_KEY}/remove", embeds.remove, "admin_remove_post"),
        _post(f"{_KEY}/enable", embeds.enable, "admin_enable"),
        _post(f"{_KEY}/disable", embeds.disable, "admin_disable"),
        _post(f"{_KEY}/refresh", embeds.refresh, "admin_refresh"),
        _post(f"{_KEY}/edit", embeds.edit, "admin_edit", UPLOAD_BODY_LIMIT),
        Route(_KEY, embeds.embed_detail, methods=["GET"], name="admin_embed"),
        Route("/settings", settings.settings_page, methods=["GET"], name="admin_settings"),
        _post("/settings", settings.save, "admin_settings_post"),
        _post("/settings/ask-again", settings.ask_again, "admin_ask_again"),
        Route("/texts", texts.texts_page, methods=["GET"], name="admin_texts"),
        _post("/texts/notices", texts.notices, "admin_notices"),
        _post("/texts/privacy", texts.privacy, "admin_privacy", TEXTS_BODY_LIMIT),
        Route("/usage", reports.usage, methods=["GET"], name="admin_usage"),
        Route("/audit", reports.audit, methods=["GET"], name="admin_audit"),
        Route("/evaluation", evaluation.evaluation_page, methods=["GET"], name="admin_evaluation"),
        Route(
            "/evaluation/{year}.csv",
            evaluation.evaluation_csv,
            methods=["GET"],
            name="admin_evaluation_csv",
        ),
        _post("/evaluation/review", evaluation.record_review, "admin_review"),
        _post("/settings/retention", retention.save, "admin_retention"),
    ]


async def admin_root(request: Request) -> Response:
    """``/admin`` without its slash; a relative target, so no Host header is echoed."""
    return RedirectResponse("/admin/", status_code=308)


def admin_mount(services: Services) -> Mount:
    """/admin with its own session cookie: path /admin, HttpOnly, SameSite=Strict, Secure
    over HTTPS (always, when the public URL is https)."""
    return Mount(
        "/admin",
        routes=admin_routes(),
        name="admin",
        middleware=[
            Middleware(
                AdminSessionMiddleware,
                secret_keys=services.settings.secret_keys,
                always_secure=always_secure(services.settings.public_url),
            )
        ],
        max_body_size=UPLOAD_BODY_LIMIT,
    )
