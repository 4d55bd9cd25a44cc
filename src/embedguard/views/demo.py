"""``/demo``: a host page like the county's, embedding every kind of placeholder."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..security import build_csp
from ..snippets import embed_url
from .common import error_page, language_of, services_of


async def demo_page(request: Request) -> Response:
    services = services_of(request)
    if not services.settings.demo:
        return error_page(request, 404)
    base = f"{request.url.scheme}://{request.url.netloc}"
    frames: list[dict[str, object]] = []
    linked: dict[str, object] | None = None
    for embed in services.store.list_embeds():
        provider = services.registry.get(embed.provider)
        if provider is not None and embed.enabled:
            width, height = provider.frame_size(embed)
            frames.append(
                {
                    "embed": embed,
                    "provider": provider,
                    "url": embed_url(base, provider, embed),
                    "width": width,
                    "height": height,
                }
            )
            if linked is None and embed.provider == "facebook":
                linked = {"url": provider.source_url(embed), "title": embed.display_title}
    return services.templates.response(
        "demo.html",
        language_of(request),
        {"frames": frames, "linked": linked},
        headers={
            "cache-control": "no-store",
            "content-security-policy": build_csp({"frame-src": ("'self'",)}),
        },
    )
