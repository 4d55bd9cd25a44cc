"""Each provider's upstream allowlist is its own, and hostile redirects end as UpstreamError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from embedguard import allowlist
from embedguard.providers import default_registry
from embedguard.services import Services
from embedguard.upstream import UpstreamClient, UpstreamError

from .helpers import public_dns

REGISTRY = default_registry()


def redirecting_to(location: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/final"):
            return httpx.Response(200, json={"title": "other provider"})
        return httpx.Response(302, headers={"location": location})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "location",
    [
        "https://xn--vimeo-xxx.com/",
        "https://xn--vimeo-xxx.com/api/oembed.json",
        "https://xn--ls8h.la/",
        "https://xn--.com/",
        "https://a..b/",
    ],
)
async def test_redirect_to_an_invalid_idna_host_is_an_upstream_error(location: str) -> None:
    client = UpstreamClient(
        REGISTRY.upstream_hosts(), transport=redirecting_to(location), resolver=public_dns
    )
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_json("https://vimeo.com/api/oembed.json?url=x")
    assert "\n" not in caught.value.reason


@pytest.mark.parametrize(
    ("provider_name", "start", "elsewhere"),
    [
        ("vimeo", "https://vimeo.com/api/oembed.json", "https://publish.twitter.com/final"),
        ("twitter", "https://publish.twitter.com/oembed", "https://vimeo.com/final"),
        ("youtube", "https://www.youtube.com/oembed", "https://i.vimeocdn.com/final"),
        ("vimeo", "https://vimeo.com/api/oembed.json", "https://www.youtube.com/final"),
    ],
)
async def test_a_lookup_does_not_follow_a_redirect_to_another_providers_host(
    provider_name: str, start: str, elsewhere: str
) -> None:
    provider = REGISTRY.get(provider_name)
    assert provider is not None
    shared = UpstreamClient(
        REGISTRY.upstream_hosts(), transport=redirecting_to(elsewhere), resolver=public_dns
    )
    async with shared:
        # The shared client would follow it: both hosts are known to embedguard ...
        assert await shared.get_json(start) == {"title": "other provider"}
        scoped = shared.scoped(provider.upstream_hosts)
        # ... the provider's own view of it does not.
        with pytest.raises(UpstreamError, match="redirected elsewhere"):
            await scoped.get_json(start)


def test_scoped_hosts_are_checked_like_the_clients_own() -> None:
    client = UpstreamClient(["vimeo.com"])
    for bad in ("127.0.0.1:80", "user@host", "a/b", "exa mple.com"):
        with pytest.raises(ValueError):
            client.scoped([bad])


def test_adding_uses_the_providers_scope(
    allow: Callable[..., allowlist.AddResult], services: Services, monkeypatch: Any
) -> None:
    seen: list[frozenset[str]] = []
    original = UpstreamClient.scoped

    def recording(self: UpstreamClient, hosts: Any) -> UpstreamClient:
        seen.append(frozenset(hosts))
        return original(self, hosts)

    monkeypatch.setattr(UpstreamClient, "scoped", recording)
    allow("https://vimeo.com/76979871")
    assert seen and all(hosts == {"vimeo.com", "i.vimeocdn.com"} for hosts in seen)
