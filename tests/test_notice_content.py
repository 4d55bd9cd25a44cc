"""Every placeholder informs before it asks: who receives which data, in which country, how
to revoke, and where to get the same information without the platform; in both languages.

Runs over every registered provider, so a new provider is covered the day it is registered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from starlette.routing import compile_path
from starlette.testclient import TestClient

from embedguard import demo, privacy_info
from embedguard.providers import Provider, default_registry
from embedguard.services import Services
from embedguard.store import Embed

# One URL per provider that its parse_url recognises; a registered provider without a
# sample fails the test below, so nobody can add a provider and skip its notice.
SAMPLE_URLS = {
    "vimeo": "https://vimeo.com/76979871",
    "facebook": "https://www.facebook.com/wirtschaft.in.mittelsachsen",
    "twitter": "https://x.com/mittelsachsen",
    "youtube": "https://www.youtube.com/watch?v=MSwirtsch01",
    "mastodon": "https://mastodon.example/@wirtschaft",
}
PROVIDERS = list(default_registry())
LANGUAGES = ("de", "en")
REVOCATION = {"de": "widerrufen", "en": "revoke"}
DATA_WORDS = {
    "de": ("IP-Adresse", "Gerät", "Browser", "Cookies"),
    "en": ("IP address", "device", "browser", "cookies"),
}


def _text(body: str) -> str:
    """The page as readable text: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _sample(provider: Provider, stored_embed: Callable[..., Embed]) -> Embed:
    ref = provider.parse_url(SAMPLE_URLS[provider.name])
    assert ref is not None, f"{provider.name} does not recognise its sample URL"
    return stored_embed(ref.key, secret=ref.secret)


def _placeholder(
    provider: Provider, client: TestClient, stored_embed: Callable[..., Embed], lang: str
) -> str:
    embed = _sample(provider, stored_embed)
    response = client.get(f"{provider.embed_path(embed.item_id)}?lang={lang}")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    return response.text


def test_every_registered_provider_has_a_sample() -> None:
    assert {p.name for p in PROVIDERS} <= set(SAMPLE_URLS)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_placeholder_names_recipient_data_revocation_and_alternatives(
    provider: Provider, lang: str, client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    page = _placeholder(provider, client, stored_embed, lang)
    text = _text(page)
    # A federated provider names the item's instance; the others their one company.
    recipient = provider.recipient_for(_sample(provider, stored_embed))
    assert recipient.company in text
    assert getattr(recipient, f"country_{lang}") in text
    for word in DATA_WORDS[lang]:
        assert word in text, word
    for category in getattr(recipient, f"data_{lang}"):
        assert category in text, category
    assert getattr(recipient, f"transfer_{lang}") in text
    assert "TDDDG" in text and ("DSGVO" if lang == "de" else "GDPR") in text
    assert REVOCATION[lang] in text
    assert f'href="/consent?lang={lang}"' in page
    assert f'href="/privacy?lang={lang}"' in page
    assert recipient.privacy_url in page
    info = privacy_info.DEFAULT_PRIVACY_INFO
    for site in info.websites:
        assert f'href="{site.url}"' in page
    for contact in info.contacts:
        assert contact.phone in text and contact.email in text
    if recipient.joint_controller:
        assert ("gemeinsam verantwortlich" if lang == "de" else "jointly responsible") in text


WAITS = {"de": "erst nach Ihrer Zustimmung", "en": "only with your consent"}


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_the_lead_line_says_what_it_is_whose_and_that_it_waits(
    provider: Provider, client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    """The one line every frame size shows, in the provider's own words and translated."""
    leads = {}
    for lang in LANGUAGES:
        page = _placeholder(provider, client, stored_embed, lang)
        leads[lang] = _text(page.split('<p class="lead">', 1)[1].split("<a ", 1)[0])
        assert provider.label in leads[lang] and WAITS[lang] in leads[lang], leads[lang]
    assert ("Video " in leads["de"]) == ("Video " in leads["en"]) == provider.is_video
    assert leads["de"] != leads["en"]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_two_equally_weighty_choices_nothing_preselected(
    provider: Provider, lang: str, client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    page = _placeholder(provider, client, stored_embed, lang)
    form = re.search(r'<form class="choices".*?</form>', page, re.S)
    assert form is not None
    buttons = re.findall(r"<button([^>]*)>(.*?)</button>", form.group(0), re.S)
    assert [re.search(r'value="(\w+)"', attrs).group(1) for attrs, _ in buttons] == [  # type: ignore[union-attr]
        "once",
        "always",
    ]
    # Same markup apart from the value: neither choice is styled to be pushed.
    attributes = {re.sub(r'value="\w+"', "", attrs) for attrs, _ in buttons}
    assert len(attributes) == 1
    assert 'type="submit"' in attributes.pop()
    for _attrs, label in buttons:
        assert provider.label in label  # the accessible name includes the provider
    assert not re.search(r"\b(checked|autofocus|selected)\b", form.group(0))


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_the_notice_follows_the_stored_privacy_info_and_consent_days(
    provider: Provider, client: TestClient, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    info = privacy_info.DEFAULT_PRIVACY_INFO
    edited = privacy_info.from_dict(
        {
            **privacy_info.to_dict(info),
            "websites": [{"url": "https://example.org/info", "description": {"de": "Info"}}],
            "contacts": [{"name": {"de": "Bürgerbüro"}, "phone": "0123 456", "email": "a@b.de"}],
        }
    )
    privacy_info.save(services.store, edited, actor="test")
    services.store.set_setting("consent_days", 30, actor="test")
    text = _text(_placeholder(provider, client, stored_embed, "de"))
    assert "example.org/info" in text
    assert "Bürgerbüro" in text and "0123 456" in text
    assert "wirtschaft-in-mittelsachsen" not in text
    assert "bis zu 30 Tage" in text


def test_upstream_text_in_the_notice_is_escaped(
    client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(
        "vimeo:76979871", title="<script>alert(1)</script>", author='"><img src=x onerror=1>'
    )
    page = client.get("/vimeo/76979871").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_placeholder_stays_small(client: TestClient, stored_embed: Callable[..., Embed]) -> None:
    stored_embed("vimeo:76979871", title="Ein Video")
    page = client.get("/vimeo/76979871")
    css = client.get(re.search(r'href="(/static/embed\.css\?v=\w+)"', page.text).group(1))  # type: ignore[union-attr]
    assert css.status_code == 200
    assert len(page.content) + len(css.content) < 30_000
    # No script at all on a directly opened placeholder, and no inline style.
    assert "<script" not in page.text
    assert "style=" not in page.text
    # A frame sized by embed.js gets placeholder.js from our own origin, still nothing inline.
    sized = client.get("/vimeo/76979871", params={"fit": "1"}).text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", sized, flags=re.S)
    assert [body for _, body in scripts] == [""], scripts
    assert scripts[0][0].startswith(' src="/static/placeholder.js?v=')


# What a visitor downloads before deciding: the placeholder's HTML and every stylesheet and
# script it loads, each counted as sent to a browser that accepts gzip, deflate and br.
BUDGET_BYTES = 4 * 1024
BROWSER = {"accept-encoding": "gzip, deflate, br"}
# How a placeholder is opened: directly, in a frame (the browser says so), as a frame that
# embed.js made (fit=1), and both; the framed ones load a script.
OPENINGS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "direct": ({}, {}),
    "framed": ({}, {"sec-fetch-dest": "iframe"}),
    "fit": ({"fit": "1"}, {}),
    "framed+fit": ({"fit": "1"}, {"sec-fetch-dest": "iframe"}),
}
# The demo has no Mastodon post; one of the length such posts have.
MASTODON_POST = Embed(
    key="mastodon:mastodon.social/113000000000000001",
    provider="mastodon",
    item_id="mastodon.social/113000000000000001",
    title="Ein Beitrag",
    author="Mastodon",
    author_url="https://mastodon.social/@mastodon",
    content="<p>Mastodon 4.3 ist da: Gruppen, eine bessere Suche und neue Filter. "
    "Alle Neuerungen stehen im Blog.</p>",
)


@pytest.fixture
def placeholder_paths(services: Services) -> dict[str, str]:
    """One embed page per route of every provider (route pattern -> path), with the
    content the demo shows (the county's kinds of content)."""
    demo.seed(services)
    services.store.save_embed(MASTODON_POST, actor="test")
    paths: dict[str, str] = {}
    for embed in services.store.list_embeds():
        provider = services.registry.get(embed.provider)
        assert provider is not None
        path = provider.embed_path(embed.item_id)
        paths.setdefault(next(p for p in provider.routes if compile_path(p)[0].match(path)), path)
    return paths


def _sent_size(client: TestClient, url: str, headers: dict[str, str]) -> int:
    """The bytes of the body as they went over the wire (compressed, if the server did)."""
    with client.stream("GET", url, headers={**BROWSER, **headers}) as response:
        assert response.status_code == 200, url
        return sum(len(chunk) for chunk in response.iter_raw())


def test_every_kind_of_placeholder_is_weighed(placeholder_paths: dict[str, str]) -> None:
    assert set(placeholder_paths) == {route for p in PROVIDERS for route in p.routes}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholder_fits_the_download_budget(
    lang: str, client: TestClient, placeholder_paths: dict[str, str]
) -> None:
    weights: dict[str, list[int]] = {}
    for path in placeholder_paths.values():
        for opening, (params, headers) in OPENINGS.items():
            url = f"{path}?{urlencode({'lang': lang, **params})}"
            page = client.get(url, headers={**BROWSER, **headers}).text
            assert f'<html lang="{lang}">' in page
            # Nothing inline and nothing else linked: every byte of style and script is counted.
            links = re.findall(r"<link\b[^>]*>", page)
            sheets = [re.fullmatch(r'<link rel="stylesheet" href="([^"]+)">', tag) for tag in links]
            scripts = re.findall(r'<script src="([^"]+)"[^>]*></script>', page)
            assert len(scripts) == page.count("<script") and "style=" not in page
            assert bool(scripts) == (opening != "direct"), url
            parts = [_sent_size(client, url, headers)]
            parts += [_sent_size(client, html.unescape(s[1]), {}) for s in sheets if s]
            parts += [_sent_size(client, html.unescape(src), {}) for src in scripts]
            assert all(sheets) and len(parts) == 1 + len(links) + len(scripts), url
            weights[f"{url} {opening}"] = parts
    too_heavy = {url: parts for url, parts in weights.items() if sum(parts) > BUDGET_BYTES}
    assert not too_heavy, too_heavy
