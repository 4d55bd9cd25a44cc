"""``GET /metrics``: Prometheus text format, for configured networks or a bearer token."""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..settings import Settings
from .common import services_of


async def metrics(request: Request) -> Response:
    services = services_of(request)
    if not may_read(request, services.settings):
        return PlainTextResponse(
            "Forbidden", status_code=403, headers={"cache-control": "no-store"}
        )
    return Response(
        services.metrics.render(),
        media_type=CONTENT_TYPE_LATEST,
        headers={"cache-control": "no-store"},
    )


def may_read(request: Request, settings: Settings) -> bool:
    """The token when one is configured and sent; else the client's network.

    Behind a proxy the client is the forwarded address, so a proxied visitor is never
    mistaken for the proxy's loopback address (deploy/nginx also refuses /metrics)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if settings.metrics_token and scheme.lower() == "bearer":
        return hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode())
    try:
        client = ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(client in network for network in settings.metrics_networks)
