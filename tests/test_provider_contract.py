"""The provider contract: a provider defined here, registered at runtime, gets routes,
consent, CSP, snippets, embed.js recognition, the notice, the placeholder's lead line,
preview and play mark, readable titles, /privacy, the consent overview, embedguard scan and
usage counts, with no change anywhere else. If this test needs an edit outside this
file to pass for a new provider, the contract is broken."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import ClassVar

import pytest
from starlette.testclient import TestClient

from embedguard import allowlist, snippets
from embedguard.app import create_app
from embedguard.providers import (
    EmbedCode,
    EmbedRef,
    LoadedView,
    Metadata,
    Provider,
    Recipient,
    Registry,
    default_registry,
)
from embedguard.providers.base import CSPSources, normalise_host, parse_http_url
from embedguard.scan import find_embeds
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Embed
from embedguard.upstream import UpstreamClient

from .helpers import SAME_ORIGIN, parse_csp


class TubeProvider(Provider):
    """A video site that exists only in this test."""

    name = "tube"
    label = "Kreistube"
    recipient = Recipient(
        company="Kreistube Videodienste GmbH",
        address="Musterweg 1, 09599 Freiberg",
        country_de="Deutschland",
        country_en="Germany",
        transfer_de="Keine Übermittlung in Drittländer",
        transfer_en="No transfer to third countries",
        privacy_url="https://tube.example/datenschutz",
        data_de=("IP-Adresse", "Geräte- und Browserdaten"),
        data_en=("IP address", "device and browser data"),
    )
    upstream_hosts = frozenset({"api.tube.example"})
    routes = ("/tube/{code}",)
    consented_sources: ClassVar[CSPSources] = {"frame-src": ("https://player.tube.example",)}
    link_hosts = ("tube.example",)
    ratio_locked = True
    is_video = True
    long_label = "Kreistube (videos of the county)"
    embed_code = EmbedCode(
        classes=frozenset({"tube-video"}),
        script_hosts=frozenset({"player.tube.example"}),
        frame_hosts=frozenset({"player.tube.example"}),
    )

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = parse_http_url(url)
        if parts is None or normalise_host(parts.hostname or "") != "tube.example":
            return None
        code = parts.path.removeprefix("/v/")
        return self.ref(code) if re.fullmatch(r"[a-z]{4}", code) else None

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        code = params.get("code", "")
        return code if re.fullmatch(r"[a-z]{4}", code) else None

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        return Metadata(title=f"Film {ref.item_id}", author="Kreistube", width=4, height=3)

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        return LoadedView(
            "providers/frame_loaded.html",
            {"frame_url": f"https://player.tube.example/{embed.item_id}?{query.get('p', '')}"},
        )

    def source_url(self, embed: Embed) -> str:
        return f"https://tube.example/v/{embed.item_id}"

    def passthrough_query(self, query: Mapping[str, str]) -> dict[str, str]:
        return {"p": query["p"]} if query.get("p", "").isdigit() else {}

    def title_from_id(self, item_id: str) -> str:
        return f"Kreistube-Film {item_id.upper()}"


TUBE = TubeProvider()
PAGE = "/tube/abcd"


@pytest.fixture
def tube_services(settings: Settings) -> Services:
    return Services.build(settings, registry=Registry([*default_registry(), TUBE]))


@pytest.fixture
def tube_client(settings: Settings, tube_services: Services) -> Iterator[TestClient]:
    app = create_app(settings, tube_services)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        assert client.portal is not None
        client.portal.call(lambda: allowlist.add(tube_services, "https://tube.example/v/abcd"))
        yield client


def test_routes_and_the_placeholder_with_its_notice(tube_client: TestClient) -> None:
    response = tube_client.get(f"{PAGE}?lang=en")
    assert response.status_code == 200
    assert "Film abcd" in response.text
    assert "Kreistube Videodienste GmbH" in response.text
    assert "No transfer to third countries" in response.text
    assert "https://tube.example/datenschutz" in response.text
    assert 'name="provider" value="tube"' in response.text
    policy = parse_csp(response)
    assert policy["default-src"] == ["'none'"] and "frame-src" not in policy
    assert "player.tube.example" not in response.text
    assert tube_client.get("/tube/zzzz").status_code == 404
    assert tube_client.get("/tube/ABCD").status_code == 404


def test_consent_loads_it_with_its_csp_and_passthrough_query(tube_client: TestClient) -> None:
    data = {"provider": "tube", "scope": "always", "next": f"{PAGE}?p=42&lang=de"}
    assert tube_client.post("/consent", data=data, headers=SAME_ORIGIN).status_code == 303
    loaded = tube_client.get(f"{PAGE}?p=42&lang=de")
    assert '<iframe src="https://player.tube.example/abcd?42"' in loaded.text
    assert parse_csp(loaded)["frame-src"] == ["https://player.tube.example"]
    assert loaded.headers["cache-control"] == "private, no-store"
    assert "Kreistube" in tube_client.get("/consent?lang=en").text
    revoke = {"provider": "tube", "next": "/consent"}
    assert tube_client.post("/consent/revoke", data=revoke, headers=SAME_ORIGIN).status_code == 303


def test_once_is_bound_to_its_embed(tube_client: TestClient) -> None:
    data = {"provider": "tube", "scope": "once", "next": f"{PAGE}?lang=de"}
    response = tube_client.post("/consent", data=data, headers=SAME_ORIGIN)
    assert response.status_code in (200, 303)
    page = (
        tube_client.get(response.headers["location"]) if response.status_code == 303 else response
    )
    assert "player.tube.example/abcd" in page.text


def test_privacy_page_names_it(tube_client: TestClient) -> None:
    page = tube_client.get("/privacy?lang=en").text
    assert "Kreistube" in page and "Kreistube Videodienste GmbH" in page


def test_embed_js_recognises_its_hosts(tube_client: TestClient) -> None:
    script = tube_client.get("/embed.js").text
    assert '{"hosts":["tube.example"],"label":"Kreistube","ratio":[16,9]}' in script
    plain = TestClient(create_app(tube_client.app.state.services.settings))  # type: ignore[attr-defined]
    assert "Kreistube" not in plain.get("/embed.js").text


def test_loader_redirects_to_it(tube_client: TestClient) -> None:
    response = tube_client.get("/embed", params={"url": "https://tube.example/v/abcd", "p": "7"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?p=7&lang=de&fit=1"


def test_snippets(tube_services: Services, tube_client: TestClient) -> None:
    embed = tube_services.store.get_embed("tube:abcd")
    assert embed is not None
    iframe = snippets.iframe_snippet("https://eg.example", TUBE, embed)
    assert 'src="https://eg.example/tube/abcd"' in iframe and 'height="480"' in iframe
    link = snippets.script_snippet("https://eg.example", TUBE, embed)
    assert 'href="https://tube.example/v/abcd"' in link
    assert 'data-embedguard-ratio="4:3"' in link


def test_usage_is_counted_per_provider(tube_client: TestClient, tube_services: Services) -> None:
    tube_client.get(PAGE)
    data = {"provider": "tube", "scope": "always", "next": PAGE}
    tube_client.post("/consent", data=data, headers=SAME_ORIGIN)
    tube_services.usage.flush()
    counted = {
        (row["provider"], row["embed_key"], row["event"]) for row in tube_services.store.usage()
    }
    assert ("tube", "tube:abcd", "view") in counted
    assert ("tube", "tube:abcd", "load_always") in counted


def _lead(page: str) -> str:
    return " ".join(page.split('<p class="lead">', 1)[1].split("<a ", 1)[0].split())


@pytest.mark.parametrize(
    ("lang", "lead"),
    [
        ("de", "Video von Kreistube – lädt erst nach Ihrer Zustimmung; dann erhält "
         "Kreistube Videodienste GmbH Ihre Daten."),
        ("en", "Video from Kreistube – loads only with your consent, then Kreistube "
         "Videodienste GmbH receives your data."),
    ],
)  # fmt: skip
def test_a_video_placeholder_reads_as_a_video(
    tube_client: TestClient, lang: str, lead: str
) -> None:
    page = tube_client.get(f"{PAGE}?lang={lang}").text
    assert _lead(page) == lead
    assert '<span class="play" aria-hidden="true"></span>' in page
    assert "<picture>" in page and 'class="tile"' not in page


@pytest.mark.parametrize(
    ("style", "picture", "tile"),
    [("poster", True, False), ("tile", False, True), ("text", False, False)],
)
def test_the_preview_follows_the_provider(
    tube_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    style: str,
    picture: bool,
    tile: bool,
) -> None:
    monkeypatch.setattr(TubeProvider, "preview_style", style)
    monkeypatch.setattr(TubeProvider, "is_video", False)
    page = tube_client.get(PAGE).text
    assert ("<picture>" in page, 'class="tile"' in page) == (picture, tile)
    assert 'class="play"' not in page
    assert _lead(page).startswith("Inhalt von Kreistube – ")


def test_a_title_that_is_only_the_id_reads_as_the_provider_says(
    tube_client: TestClient, tube_services: Services
) -> None:
    for title in ("", "wxyz"):
        tube_services.store.save_embed(
            Embed(key="tube:wxyz", provider="tube", item_id="wxyz", title=title)
        )
        page = tube_client.get("/tube/wxyz").text
        assert '<h1 id="eg-title">Kreistube-Film WXYZ</h1>' in page


def test_privacy_page_introduces_it_by_its_long_name(tube_client: TestClient) -> None:
    page = tube_client.get("/privacy?lang=en").text
    assert "<h3>Kreistube (videos of the county)</h3>" in page


def test_scan_finds_its_own_embedding_code(tube_services: Services) -> None:
    html = (
        '<iframe src="https://tube.example/v/abcd"></iframe>\n'
        '<iframe src="https://player.tube.example/abcd?autoplay=1"></iframe>\n'
        '<div class="tube-video" data-href="https://tube.example/v/efgh"></div>\n'
        '<script src="https://player.tube.example/api.js"></script>\n'
    )
    found = [
        (f.line, f.provider, f.kind, f.key)
        for f in find_embeds(html, "page.html", tube_services.registry)
    ]
    assert found == [
        (1, "tube", "iframe", "tube:abcd"),
        (2, "tube", "iframe", ""),
        (3, "tube", "markup", "tube:efgh"),
        (4, "tube", "script", ""),
    ]
    plain = find_embeds(html, "page.html", default_registry())
    assert plain == []


def test_every_provider_keeps_the_contract() -> None:
    """What the rest of the code relies on, for every provider registered by default."""
    for provider in [*default_registry(), TUBE]:
        assert re.fullmatch(r"[a-z]+", provider.name)
        assert provider.routes and all(r.startswith(f"/{provider.name}/") for r in provider.routes)
        assert provider.recipient.company and provider.recipient.privacy_url.startswith("https://")
        assert all(isinstance(h, str) for h in provider.link_hosts)
        for sources in provider.consented_sources.values():
            assert all(s.startswith("https://") for s in sources)
        assert provider.preview_style in ("poster", "tile", "text")
        assert not provider.is_video or provider.ratio_locked  # a video keeps its shape
    assert {p.name for p in default_registry() if p.is_video} == {"vimeo", "youtube"}
