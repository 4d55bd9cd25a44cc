"""No upstream fetch reaches the server's own network: a Mastodon instance (or a provider host)
whose name resolves to a private, loopback, link-local or otherwise non-public address is
refused before anything is sent, also after a redirect, in the CLI and the admin alike; a
public one is fetched from the address that was checked."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import allowlist
from embedguard.services import Services
from embedguard.store import Embed
from embedguard.upstream import UpstreamClient, UpstreamError

from .fake_youtube_mastodon import (
    MASTODON_ACCOUNT_URL,
    MASTODON_INSTANCE,
    MASTODON_ORIGIN,
    MASTODON_POST_OK,
)
from .helpers import PUBLIC_ADDRESS
from .test_admin_support import (  # noqa: F401
    account,
    admin,
    clock,
    fast_hashing,
    token_for,
)
from .test_cli import env, listed, run  # noqa: F401
from .test_upstream import Recorder, json_ok

# ruff: noqa: F811

INSTANCE = "social.example"  # in no upstream map: resolved and checked as a real instance is
ACCOUNT_URL = f"https://{INSTANCE}/@wirtschaft"
PRIVATE = "10.0.0.5"
NON_PUBLIC = [
    "127.0.0.1",
    PRIVATE,
    "169.254.169.254",
    "100.64.1.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:5",
]


class Dns:
    """A resolver with fixed answers, each name's answers taken in turn (the last repeats),
    so a test can change a name's address between two requests as a rebinding server would."""

    def __init__(self, **answers: list[list[str]]) -> None:
        self.answers = {name.replace("_", "."): list(turns) for name, turns in answers.items()}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise OSError("Name or service not known")
        return turns.pop(0) if len(turns) > 1 else turns[0]


def client_for(
    dns: Dns, handler: Callable[[httpx.Request], httpx.Response] = json_ok, **options: Any
) -> tuple[UpstreamClient, Recorder]:
    recorder = Recorder(handler)
    hosts = options.pop("hosts", [INSTANCE, "vimeo.com", "i.vimeocdn.com"])
    client = UpstreamClient(hosts, resolver=dns, transport=httpx.MockTransport(recorder), **options)
    return client, recorder


# -- the upstream client ---------------------------------------------------------------------


@pytest.mark.parametrize("address", NON_PUBLIC)
async def test_an_instance_at_a_non_public_address_is_never_asked(address: str) -> None:
    client, recorder = client_for(Dns(social_example=[[address]]))
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.scoped([INSTANCE]).get_json(f"https://{INSTANCE}/api/oembed?url=x")
    assert caught.value.reason == (
        f"refusing to fetch: {INSTANCE} is a private address ({address})"
    )
    assert recorder.requests == []


async def test_the_fixed_provider_hosts_are_checked_the_same_way() -> None:
    client, recorder = client_for(Dns(vimeo_com=[[PUBLIC_ADDRESS, "127.0.0.1"]]))
    async with client:
        with pytest.raises(UpstreamError, match=r"vimeo\.com is a private address \(127"):
            await client.get_json("https://vimeo.com/api/oembed.json?url=x")
    assert recorder.requests == []


async def test_a_public_instance_is_fetched_from_the_checked_address() -> None:
    dns = Dns(social_example=[[PUBLIC_ADDRESS]])
    client, recorder = client_for(dns)
    async with client:
        data = await client.get_json(f"https://{INSTANCE}/api/v1/statuses/1")
    assert data == {"title": "Hello", "path": "/api/v1/statuses/1"}
    (sent,) = recorder.requests
    assert sent.url == httpx.URL(f"https://{PUBLIC_ADDRESS}/api/v1/statuses/1")
    assert sent.headers["host"] == INSTANCE
    assert sent.extensions["sni_hostname"] == INSTANCE
    assert dns.asked == [INSTANCE]


def redirect_from_start(location: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return httpx.Response(302, headers={"location": location})
        return json_ok(request)

    return handler


async def test_a_redirect_to_a_host_at_a_private_address_is_refused() -> None:
    dns = Dns(vimeo_com=[[PUBLIC_ADDRESS]], i_vimeocdn_com=[["169.254.169.254"]])
    client, recorder = client_for(dns, redirect_from_start("https://i.vimeocdn.com/latest"))
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_json("https://vimeo.com/start")
    assert caught.value.reason == (
        "refusing to fetch: i.vimeocdn.com is a private address (169.254.169.254) "
        "(redirected from vimeo.com)"
    )
    assert [r.url.path for r in recorder.requests] == ["/start"]


async def test_each_hop_is_resolved_again_so_rebinding_between_hops_is_refused() -> None:
    # The instance answers publicly once, then names the metadata service.
    dns = Dns(social_example=[[PUBLIC_ADDRESS], ["169.254.169.254"]])
    client, recorder = client_for(dns, redirect_from_start("/final"))
    async with client:
        with pytest.raises(UpstreamError, match=r"private address \(169\.254\.169\.254\)"):
            await client.scoped([INSTANCE]).get_json(f"https://{INSTANCE}/start")
    assert [str(r.url) for r in recorder.requests] == [f"https://{PUBLIC_ADDRESS}/start"]
    assert dns.asked == [INSTANCE, INSTANCE]


async def test_a_redirect_on_public_addresses_is_followed() -> None:
    dns = Dns(vimeo_com=[[PUBLIC_ADDRESS]], i_vimeocdn_com=[["2606:2800:220:1::1"]])
    client, recorder = client_for(dns, redirect_from_start("https://i.vimeocdn.com/final"))
    async with client:
        response = await client.fetch(
            "https://vimeo.com/start", accept={"application/json"}, max_bytes=1000
        )
    assert response.url == "https://i.vimeocdn.com/final"
    assert [str(r.url) for r in recorder.requests] == [
        f"https://{PUBLIC_ADDRESS}/start",
        "https://[2606:2800:220:1::1]/final",
    ]


async def test_an_unknown_name_is_one_line() -> None:
    client, recorder = client_for(Dns())
    async with client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_json(f"https://{INSTANCE}/api/oembed")
    assert caught.value.reason == f"{INSTANCE} could not be reached (no such host)"
    assert recorder.requests == []


async def test_mapped_origins_go_to_the_operators_replacement_without_a_lookup() -> None:
    dns = Dns()
    mapping = {f"https://{INSTANCE}": "http://127.0.0.1:9000"}
    client, recorder = client_for(dns, upstream_map=mapping)
    async with client:
        await client.get_json(f"https://{INSTANCE}/api/oembed")
    assert [str(r.url) for r in recorder.requests] == ["http://127.0.0.1:9000/api/oembed"]
    assert dns.asked == []


# -- adding a Mastodon account or post -------------------------------------------------------


@pytest.fixture
def dns() -> Dns:
    return Dns(mastodon_example=[[PUBLIC_ADDRESS]], social_example=[[PRIVATE]])


@pytest.fixture
def pinned(services: Services, fake_upstream: tuple[str, Starlette], dns: Dns) -> Services:
    """The services with mastodon.example taken out of the upstream map: it and
    social.example are resolved through ``dns`` and the fake upstream answers (in process)
    whatever address the client connects to."""
    mapping = {k: v for k, v in services.settings.upstream_map.items() if k != MASTODON_ORIGIN}
    services.upstream = UpstreamClient(
        services.registry.upstream_hosts(),
        mapping,
        resolver=dns,
        transport=httpx.ASGITransport(app=fake_upstream[1]),
    )
    return services


def test_a_public_instance_is_added_through_the_checked_address(
    pinned: Services,
    allow: Callable[..., allowlist.AddResult],
    upstream_requests: list[Any],
    dns: Dns,
) -> None:
    allow(MASTODON_ACCOUNT_URL)
    post = allow(f"{MASTODON_ACCOUNT_URL}/{MASTODON_POST_OK}")
    assert post.embed.key == f"mastodon:{MASTODON_INSTANCE}/{MASTODON_POST_OK}"
    assert len(upstream_requests) == 3
    assert {r.headers["host"] for r in upstream_requests} == {MASTODON_INSTANCE}
    assert set(dns.asked) == {MASTODON_INSTANCE}


def test_an_instance_at_a_private_address_is_not_added(
    pinned: Services, allow: Callable[..., allowlist.AddResult], upstream_requests: list[Any]
) -> None:
    with pytest.raises(allowlist.AllowlistError) as caught:
        allow(ACCOUNT_URL)
    assert f"{INSTANCE} is a private address ({PRIVATE})" in str(caught.value)
    assert pinned.store.list_embeds() == []
    assert upstream_requests == []


def test_the_admin_is_told_why_and_nothing_is_stored(
    pinned: Services, admin: TestClient, upstream_requests: list[Any]
) -> None:
    for step in ("preview", "confirm"):
        data = {"url": ACCOUNT_URL, "step": step, "csrf_token": token_for(admin)}
        response = admin.post("/admin/embeds/add", data=data)
        assert response.status_code == 400
        assert 'class="flash flash-error"' in response.text
        assert f"{INSTANCE} is a private address ({PRIVATE})" in response.text
    assert pinned.store.list_embeds() == []
    assert upstream_requests == []


def test_refreshing_an_instance_now_at_a_private_address(
    pinned: Services,
    admin: TestClient,
    stored_embed: Callable[..., Embed],
    upstream_requests: list[Any],
) -> None:
    key = f"mastodon:{INSTANCE}/@wirtschaft"
    stored_embed(key, author_url=ACCOUNT_URL)
    path = f"/admin/embeds/{key}"
    response = admin.post(f"{path}/refresh", data={"csrf_token": token_for(admin)})
    assert response.status_code == 303
    embed = pinned.store.get_embed(key)
    assert embed is not None and embed.status == "gone"
    assert f"{INSTANCE} is a private address ({PRIVATE})" in admin.get(path).text
    assert upstream_requests == []


# -- the command line, with the system's resolver ---------------------------------------------


@pytest.fixture
def system_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """social.example resolves to PRIVATE through socket.getaddrinfo, the function every
    resolver in the process ends in; yields the addresses any socket tried to connect to."""
    original_lookup = socket.getaddrinfo
    original_connect = socket.socket.connect
    connects: list[Any] = []

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name == INSTANCE:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PRIVATE, int(port or 0)))]
        return original_lookup(host, port, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        connects.append(address)
        if isinstance(address, tuple) and address[0] == PRIVATE:
            raise ConnectionRefusedError("the test's stand-in for the private host")
        original_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield connects


def test_embed_add_refuses_an_instance_at_a_private_address(
    env: Path, capsys: pytest.CaptureFixture[str], system_dns: list[Any]
) -> None:
    code, out, err = run(capsys, "embed", "add", ACCOUNT_URL)
    assert (code, out) == (1, "")
    assert err == (
        "embedguard: error: the instance could not be asked about account "
        f"@wirtschaft@{INSTANCE}: refusing to fetch: {INSTANCE} is a private address "
        f"({PRIVATE})\n"
    )
    assert not any(isinstance(a, tuple) and a[0] == PRIVATE for a in system_dns)
    assert listed(capsys) == []
