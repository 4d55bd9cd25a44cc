"""`serve --demo`: offline content of every kind and a host page that embeds it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from embedguard import demo
from embedguard.app import create_app
from embedguard.services import Services
from embedguard.settings import Settings


def test_demo_shows_every_provider_offline(
    settings: Settings, tmp_path: Path, upstream_requests: list[Any]
) -> None:
    demo_settings = demo.demo_settings(replace(settings, upstream_map={}), tmp_path / "demo")
    services = Services.build(demo_settings)
    demo.seed(services)
    with TestClient(create_app(demo_settings, services)) as client:
        page = client.get("/demo")
        assert page.status_code == 200
        for provider in services.registry:
            assert f'src="http://testserver/{provider.name}/' in page.text
        assert "data-embedguard" in page.text and 'src="/embed.js"' in page.text
        for embed in services.store.list_embeds():
            assert client.get(f"/{embed.provider}/{embed.item_id}").status_code == 200
    assert upstream_requests == []


def test_demo_page_exists_only_in_demo_mode(client: TestClient) -> None:
    assert client.get("/demo").status_code == 404
