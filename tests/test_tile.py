"""Unknown, disabled and removed embeds: a 404 tile that fits the frame, not the site page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard.store import Embed

TILE_DE = "Dieser Inhalt ist nicht (mehr) verfügbar"
FRAMED = {"sec-fetch-dest": "iframe"}


def _is_tile(response: Any) -> bool:
    return (
        response.status_code == 404
        and "data-eg-unavailable" in response.text
        and "site-header" not in response.text
        and "Fehlercode" not in response.text
    )


@pytest.mark.parametrize(
    "path",
    ["/vimeo/123", "/vimeo/0123", "/facebook/some.page", "/twitter/nobody", "/twitter/a/status/1"],
)
def test_unknown_embeds_get_the_tile(client: TestClient, path: str) -> None:
    response = client.get(path, params={"lang": "de"})
    assert _is_tile(response), response.text
    assert TILE_DE in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text  # opened directly: no script
    english = client.get(path, params={"lang": "en"})
    assert "This content is not available (any more)" in english.text


def test_a_disabled_embed_links_to_the_platform(
    client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("vimeo:76979871", enabled=False)
    response = client.get("/vimeo/76979871")
    assert _is_tile(response)
    assert 'href="https://vimeo.com/76979871"' in response.text
    # A non-canonical id names nothing on the platform: no link.
    assert "vimeo.com/" not in client.get("/vimeo/0076979871").text


def test_a_removed_embed_is_the_same_tile(
    client: TestClient, stored_embed: Callable[..., Embed], services: Any
) -> None:
    stored_embed("facebook:wirtschaft.in.mittelsachsen")
    assert client.get("/facebook/wirtschaft.in.mittelsachsen").status_code == 200
    services.store.remove_embed("facebook:wirtschaft.in.mittelsachsen", actor="test")
    response = client.get("/facebook/wirtschaft.in.mittelsachsen")
    assert _is_tile(response)
    assert 'href="https://www.facebook.com/wirtschaft.in.mittelsachsen"' in response.text


def test_in_a_frame_the_tile_tells_embed_js(client: TestClient) -> None:
    response = client.get("/embed", params={"url": "https://vimeo.com/5"}, headers=FRAMED)
    assert _is_tile(response)
    assert 'src="/static/frame.js?v=' in response.text
    assert 'href="https://vimeo.com/5"' in response.text
    assert "Sec-Fetch-Dest" in response.headers["vary"]
    # A URL no provider knows gets no link at all.
    unknown = client.get("/embed", params={"url": "https://example.org/x"}, headers=FRAMED)
    assert _is_tile(unknown) and "example.org" not in unknown.text
