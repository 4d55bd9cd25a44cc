"""Shared fixtures: a fake upstream on loopback and an embedguard app wired to it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import allowlist
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Embed
from embedguard.upstream import UpstreamClient

from .fake_upstream import create_fake_upstream
from .postgres import PostgresServer, PostgresUnavailable
from .servers import run_asgi_in_thread, upstream_map_for

TEST_KEYS = ("test-signing-key-0123456789", "older-signing-key-0123456789")


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[tuple[str, Starlette]]:
    """The fake Vimeo/X upstream on 127.0.0.1; slow answers take 3 s."""
    app = create_fake_upstream(slow_seconds=3.0)
    with run_asgi_in_thread(app) as base_url:
        yield base_url, app


@pytest.fixture
def upstream_requests(fake_upstream: tuple[str, Starlette]) -> list[Any]:
    """What the fake upstream received during this test."""
    requests: list[Any] = fake_upstream[1].state.requests
    requests.clear()
    return requests


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL on loopback for this test session (never skipped in CI)."""
    try:
        server = PostgresServer()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
    except PostgresUnavailable as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unavailable: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """What a Store opens, once per backend: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def settings(tmp_path: Path, fake_upstream: tuple[str, Starlette]) -> Settings:
    return Settings(
        secret_keys=TEST_KEYS,
        data_dir=tmp_path / "data",
        upstream_map=json.loads(upstream_map_for(fake_upstream[0])),
    )


@pytest.fixture
def services(settings: Settings) -> Services:
    services = Services.build(settings)
    # Short timeouts keep the slow-upstream tests quick.
    services.upstream = UpstreamClient(
        services.registry.upstream_hosts(),
        settings.upstream_map,
        connect_timeout=1.0,
        read_timeout=1.0,
    )
    return services


@pytest.fixture
def app(settings: Settings, services: Services) -> Starlette:
    return create_app(settings, services)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def allow(client: TestClient, services: Services) -> Callable[..., allowlist.AddResult]:
    """Add an embed through the allowlist, on the app's own event loop."""

    def add(url: str, **options: Any) -> allowlist.AddResult:
        assert client.portal is not None
        return client.portal.call(lambda: allowlist.add(services, url, **options))

    return add


@pytest.fixture
def stored_embed(services: Services) -> Callable[..., Embed]:
    """Put an embed straight into the store (no upstream), for page tests."""

    def put(key: str = "vimeo:76979871", **fields: Any) -> Embed:
        provider, _, item_id = key.partition(":")
        fields.setdefault("title", "Ein Video")
        embed = Embed(key=key, provider=provider, item_id=item_id, **fields)
        return services.store.save_embed(embed)

    return put


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
