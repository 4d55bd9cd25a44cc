"""Plain pages and files: privacy information, health, posters, static files."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import auth, health, retention
from .common import language_of, services_of

_POSTER_CACHE = "public, max-age=31536000, immutable"


async def privacy(request: Request) -> Response:
    services = services_of(request)
    lang = language_of(request)
    return services.templates.response(
        "privacy.html",
        lang,
        {
            "consent_days": services.live.consent_days(),
            "retention": retention.periods(services.store),
            "staff_hours": auth.ABSOLUTE_TIMEOUT // 3600,
            "other_lang": "en" if lang == "de" else "de",
        },
        headers={"cache-control": "public, no-cache", "vary": "Accept-Language"},
    )


async def healthz(request: Request) -> Response:
    reason = await anyio.to_thread.run_sync(health.problem, services_of(request))
    body = {"status": "ok"} if reason is None else {"status": "error", "reason": reason}
    return JSONResponse(
        body, status_code=200 if reason is None else 503, headers={"cache-control": "no-store"}
    )


async def poster(request: Request) -> Response:
    found = services_of(request).posters.read(request.path_params["name"])
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"cache-control": _POSTER_CACHE})
