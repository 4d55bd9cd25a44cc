"""What every view needs: the services, the visitor's language, error pages, form parsing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..i18n import choose_language

logger = logging.getLogger("embedguard")

if TYPE_CHECKING:
    from ..services import Services

MAX_NEXT_LENGTH = 2048
_ERROR_TITLES = {
    400: "The request could not be understood",
    403: "This action is not allowed here",
    404: "Not found",
    405: "Method not allowed",
    413: "The request is too large",
    429: "Too many attempts",
    503: "Temporarily unavailable",
}


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def language_of(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def error_page(request: Request, status_code: int, detail: str = "") -> Response:
    lang = language_of(request)
    title = _ERROR_TITLES.get(status_code, "Error")
    return services_of(request).templates.response(
        "error.html",
        lang,
        {"status_code": status_code, "title": title, "detail": detail},
        status_code=status_code,
        headers={"cache-control": "no-store"},
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code >= 500:
        raise exc
    if request.url.path.startswith(("/static/", "/posters/", "/healthz")):
        return Response(str(exc.detail), status_code=exc.status_code, media_type="text/plain")
    return error_page(request, exc.status_code)


async def storage_error_handler(request: Request, exc: Exception) -> Response:
    """The database is locked, read-only or gone: a clear 503, and /healthz says so too."""
    logger.error("storage error on %s: %s", request.url.path, exc)
    return error_page(request, 503)


async def read_form(request: Request, *, max_fields: int = 20, max_files: int = 0) -> FormData:
    """The form, or a 400 for anything that is not a small urlencoded/multipart form.

    Uploaded files are bounded by the route's body limit; other parts by 64 KB each."""
    try:
        return await request.form(
            max_files=max_files, max_fields=max_fields, max_part_size=64 * 1024
        )
    except HTTPException:
        raise
    except Exception:
        raise HTTPException(400) from None


def form_text(form: FormData, name: str, *, max_length: int = 2048) -> str | None:
    value: Any = form.get(name)
    if not isinstance(value, str) or len(value) > max_length:
        return None
    return value


def safe_next(value: str | None) -> str | None:
    """A path on this service (one leading slash, no scheme or host), else None."""
    if not value or len(value) > MAX_NEXT_LENGTH or not value.startswith("/"):
        return None
    if (
        value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
