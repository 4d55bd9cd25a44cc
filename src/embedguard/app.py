"""create_app(settings): routes, middleware and lifespan; no endpoint logic here."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.routing import BaseRoute, Route

from . import retention
from .database import StorageError
from .hotpath import HotPath
from .metrics import MetricsMiddleware
from .security import SecurityHeadersMiddleware
from .services import Services
from .settings import Settings
from .views import consent, demo, loader, metrics, pages
from .views.admin import admin_mount, admin_root
from .views.common import http_exception_handler, storage_error_handler
from .views.embed import embed_routes

logger = logging.getLogger("embedguard")

VISITOR_BODY_LIMIT = 64 * 1024
USAGE_FLUSH_SECONDS = 30


def routes(services: Services) -> list[BaseRoute]:
    return [
        *embed_routes(services.registry),
        Route("/consent", consent.give_consent, methods=["POST"], name="consent_give"),
        Route("/consent", consent.consent_overview, methods=["GET"], name="consent"),
        Route("/consent/revoke", consent.revoke_consent, methods=["POST"], name="consent_revoke"),
        Route("/privacy", pages.privacy, name="privacy"),
        Route("/healthz", pages.healthz, name="healthz"),
        Route("/metrics", metrics.metrics, name="metrics"),
        Route("/embed.js", loader.embed_js, name="embed_js"),
        Route("/embed", loader.embed_redirect, name="embed_loader"),
        Route("/demo", demo.demo_page, name="demo"),
        Route("/posters/{name}", pages.poster, name="poster"),
        Route("/static/{path:path}", services.assets.endpoint, name="static"),
        Route("/admin", admin_root, name="admin_root"),
        admin_mount(services),
    ]


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    services = services or Services.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_flush_usage_periodically, services)
            tasks.start_soon(retention.purge_periodically, services.store, lambda: services.clock())
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
                await services.aclose()

    app_routes = routes(services)
    app = Starlette(
        routes=app_routes,
        middleware=[
            # The embed pages, posters and static files it answers skip the rest; it
            # counts them for /metrics itself, without wrapping every send.
            Middleware(HotPath, services=services, routes=app_routes),
            Middleware(MetricsMiddleware, metrics=services.metrics),
            Middleware(SecurityHeadersMiddleware, frame_ancestors=services.live.frame_ancestors),
            # Visitor routes take at most small forms; the admin mount raises its own
            # limit. Inside the security middleware, so a 413 carries the headers too.
            Middleware(RequestBodyLimitMiddleware, max_body_size=VISITOR_BODY_LIMIT),
        ],
        exception_handlers={
            HTTPException: http_exception_handler,
            StorageError: storage_error_handler,
        },
        lifespan=lifespan,
    )
    # "/vimeo/1/" is not "/vimeo/1"; a redirect would echo the request's Host header.
    app.router.redirect_slashes = False
    app.state.services = services
    return app


async def _flush_usage_periodically(services: Services) -> None:
    # A locked or full database must cost at most a late count, never the service: the
    # counts stay pending, and the write waits in a worker thread, not on the event loop.
    while True:
        await anyio.sleep(USAGE_FLUSH_SECONDS)
        try:
            await anyio.to_thread.run_sync(services.usage.flush)
        except StorageError as error:
            services.metrics.usage_flush_failures += 1
            logger.warning("usage counts not written yet: %s", error)
