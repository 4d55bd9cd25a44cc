"""embed.js gets its table of recognised hosts from the provider registry when served."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from embedguard.loader_script import MARKER
from embedguard.providers import default_registry
from embedguard.resources import resource_dir


def served_table(client: TestClient) -> list[dict[str, object]]:
    script = client.get("/embed.js").text
    match = re.search(r"const KINDS=(\[.*?\]);", script)
    assert match is not None, "embed.js has no KINDS table"
    table: list[dict[str, object]] = json.loads(match.group(1))
    return table


def test_the_shipped_script_keeps_no_host_list_of_its_own() -> None:
    source = (resource_dir("static") / "embed.js").read_bytes()
    assert MARKER in source
    for host in ("vimeo.com", "facebook.com", "x.com", "youtu.be"):
        assert host.encode() not in source.replace(b"https://vimeo.com/76979871", b"")


def test_served_script_lists_every_providers_hosts(client: TestClient) -> None:
    table = served_table(client)
    by_label = {kind["label"]: kind for kind in table}
    for provider in default_registry():
        if provider.link_hosts:
            assert by_label[provider.label]["hosts"] == list(provider.link_hosts)
            assert ("ratio" in by_label[provider.label]) == provider.ratio_locked
    assert by_label["Vimeo"]["ratio"] == [16, 9]
    assert "youtu.be" in by_label["YouTube"]["hosts"]  # type: ignore[operator]


def test_served_script_is_cached_by_its_own_content(client: TestClient) -> None:
    first = client.get("/embed.js")
    etag = first.headers["etag"]
    assert client.get("/embed.js", headers={"if-none-match": etag}).status_code == 304
    raw_digest = client.app.state.services.assets.get("embed.js").digest  # type: ignore[attr-defined]
    assert etag != f'"{raw_digest}"'
    assert "embedguard:kinds" not in first.text
