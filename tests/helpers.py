"""Small helpers several test modules share."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterable
from typing import Any

from embedguard import allowlist
from embedguard.providers import NotEmbeddable, Provider
from embedguard.services import Services
from embedguard.settings import Settings


def parse_csp(response: Any) -> dict[str, list[str]]:
    """A response's Content-Security-Policy as {directive: [sources]}."""
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def seed_embeds(settings: Settings, urls: Iterable[str]) -> list[allowlist.AddResult]:
    """Allow items through the allowlist on an event loop of their own, in a worker thread:
    Playwright's sync API may already own this thread's loop."""

    async def add_all() -> list[allowlist.AddResult]:
        services = Services.build(settings)
        try:
            return [await allowlist.add(services, url) for url in urls]
        finally:
            await services.aclose()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, add_all()).result(timeout=30)


def refused(provider: Provider, url: str) -> bool:
    """Whether ``provider`` does not take ``url``: not its URL at all, or its but naming
    nothing embeddable (then with a one-line reason)."""
    try:
        return provider.parse_url(url) is None
    except NotEmbeddable as error:
        reason = str(error)
        assert reason and "\n" not in reason
        return True


SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}


def load_always(client: Any, provider: str, page: str) -> Any:
    """Give "always" consent for ``provider`` from ``page``, then open ``page`` again."""
    data = {"provider": provider, "scope": "always", "next": page}
    assert client.post("/consent", data=data, headers=SAME_ORIGIN).status_code == 303
    return client.get(page)


# A public address (example.com's old one). Tests that use it send to a fake transport, so
# nothing ever goes there; the upstream client only sees that the name resolves publicly.
PUBLIC_ADDRESS = "93.184.216.34"


async def public_dns(host: str, port: int) -> list[str]:
    """A resolver for upstream clients on a fake transport: every name is public."""
    return [PUBLIC_ADDRESS]
