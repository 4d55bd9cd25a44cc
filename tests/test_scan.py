"""Finding direct embeds in HTML written the way the county's pages are (scan.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import ClassVar

import pytest

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
from embedguard.providers.base import CSPSources
from embedguard.scan import Finding, find_embeds
from embedguard.store import Embed
from embedguard.upstream import UpstreamClient

VIDEO = "76979871"
HASH = "abc123def0"
PAGE = "wirtschaft.in.mittelsachsen"
HANDLE = "mswirtschaft"
POST = "1790000000000000001"


class TootProvider(Provider):
    """A provider only this test knows, registered at runtime: posts on any instance at
    ``https://INSTANCE/@user/ID``, keyed ``toot:INSTANCE/ID``."""

    name = "toot"
    label = "Toot"
    recipient = Recipient(
        company="Toot e. V.",
        address="Musterweg 1, 09599 Freiberg",
        country_de="Deutschland",
        country_en="Germany",
        transfer_de="keine",
        transfer_en="none",
        privacy_url="https://toot.example/privacy",
        data_de=("IP-Adresse",),
        data_en=("IP address",),
    )
    upstream_hosts = frozenset()
    routes = ("/toot/{instance}/{post_id}",)
    consented_sources: ClassVar[CSPSources] = {}
    embed_code = EmbedCode(classes=frozenset({"toot-embed"}), markup_host_script="/toot.js")

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = url.split("/")
        if len(parts) != 5 or parts[0] != "https:" or not parts[3].startswith("@"):
            return None
        return self.ref(f"{parts[2]}/{parts[4]}") if parts[4].isdigit() else None

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        return f"{params['instance']}/{params['post_id']}"

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        return Metadata(title=f"Post {ref.item_id}")

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        return LoadedView("providers/vimeo_loaded.html")

    def source_url(self, embed: Embed) -> str:
        instance, _, post_id = embed.item_id.partition("/")
        return f"https://{instance}/@someone/{post_id}"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return default_registry()


def scan(html: str, registry: Registry, **options: str) -> list[Finding]:
    return find_embeds(html, "seite.html", registry, **options)


def line_of(html: str, marker: str) -> int:
    return html[: html.index(marker)].count("\n") + 1


# A page as the county's CMS writes it: a Vimeo video with and without the unlisted hash,
# a lazy-loaded one, the Facebook page plugin as iframe and as SDK markup, an X post and
# timeline with widgets.js, a video already swapped for embedguard, and one in a comment.
COUNTY_PAGE = f"""<!DOCTYPE html>
<html lang="de">
<head><title>Wirtschaft in Mittelsachsen</title></head>
<body>
<h2>Leben und Arbeiten</h2>
<iframe src="https://player.vimeo.com/video/{VIDEO}?title=0&amp;byline=0&amp;portrait=0"
        width="640" height="360" frameborder="0"
        allow="autoplay; fullscreen; picture-in-picture" allowfullscreen
        title="Leben und Arbeiten in Mittelsachsen"></iframe>
<p>Unser nicht gelisteter Film:</p>
<iframe src="https://player.vimeo.com/video/11111111?h={HASH}&amp;badge=0" width="640"
 height="360"></iframe>
<iframe class="lazyload" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="
        data-src="https://player.vimeo.com/video/76979872"></iframe>
<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2F{PAGE}&amp;tabs=timeline&amp;width=340&amp;height=500"
        width="340" height="500" style="border:none;overflow:hidden" scrolling="no"></iframe>
<div id="fb-root"></div>
<script async defer crossorigin="anonymous"
        src="https://connect.facebook.net/de_DE/sdk.js#xfbml=1&version=v19.0"></script>
<div class="fb-page" data-href="https://www.facebook.com/{PAGE}/" data-tabs="timeline"
     data-small-header="false"><blockquote cite="https://www.facebook.com/{PAGE}/"
     class="fb-xfbml-parse-ignore"><a href="https://www.facebook.com/{PAGE}/">Wirtschaft
     in Mittelsachsen</a></blockquote></div>
<blockquote class="twitter-tweet" data-lang="de"><p lang="de" dir="ltr">Neue Gewerbeflächen
<a href="https://twitter.com/hashtag/Freiberg?src=hash&amp;ref_src=twsrc%5Etfw">#Freiberg</a>
mit <a href="https://twitter.com/LRA_Mittelsachsen?ref_src=twsrc%5Etfw">@LRA_Mittelsachsen</a>
</p>&mdash; Wirtschaft Mittelsachsen (@MSWirtschaft)
<a href="https://twitter.com/MSWirtschaft/status/{POST}?ref_src=twsrc%5Etfw">4. März 2024</a>
</blockquote>
<a class="twitter-timeline" data-height="600"
   href="https://twitter.com/MSWirtschaft?ref_src=twsrc%5Etfw">Posts von @MSWirtschaft</a>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
<iframe src="https://einbettung.wirtschaft-in-mittelsachsen.de/vimeo/{VIDEO}"
        title="Schon ersetzt" width="640" height="360" loading="lazy"></iframe>
<a href="https://vimeo.com/{VIDEO}" data-embedguard>Ein Link, den embed.js ersetzt</a>
<!-- alt: <iframe src="https://player.vimeo.com/video/123456"></iframe> -->
</body>
</html>
"""


def test_every_direct_embed_of_a_county_page_is_found(registry: Registry) -> None:
    found = [(f.line, f.provider, f.kind, f.key) for f in scan(COUNTY_PAGE, registry)]

    def at(marker: str) -> int:
        return line_of(COUNTY_PAGE, marker)

    assert found == [
        (at(f"video/{VIDEO}?title"), "vimeo", "iframe", f"vimeo:{VIDEO}"),
        (at("video/11111111"), "vimeo", "iframe", "vimeo:11111111"),
        (at('class="lazyload"'), "vimeo", "iframe", "vimeo:76979872"),
        (at("plugins/page.php"), "facebook", "iframe", f"facebook:{PAGE}"),
        (at("<script async defer"), "facebook", "script", ""),
        (at('class="fb-page"'), "facebook", "markup", f"facebook:{PAGE}"),
        (at('class="twitter-tweet"'), "twitter", "markup", f"twitter:{HANDLE}/status/{POST}"),
        (at('class="twitter-timeline"'), "twitter", "markup", f"twitter:{HANDLE}"),
        (at("widgets.js"), "twitter", "script", ""),
    ]


def test_findings_carry_the_hash_title_and_size_of_the_page(registry: Registry) -> None:
    first, unlisted, *_ = scan(COUNTY_PAGE, registry)
    assert first.title == "Leben und Arbeiten in Mittelsachsen"
    assert first.size == (640, 360)
    assert first.url.startswith(f"https://player.vimeo.com/video/{VIDEO}?title=0&byline=0")
    assert unlisted.ref is not None and unlisted.ref.secret == HASH
    assert unlisted.source == "seite.html"


@pytest.mark.parametrize(
    "iframe",
    [
        f'<iframe src="//player.vimeo.com/video/{VIDEO}"></iframe>',
        f'<IFRAME SRC="HTTPS://Player.Vimeo.COM/video/{VIDEO}"></IFRAME>',
        f"<iframe src='https://player.vimeo.com/video/{VIDEO}#t=30s' />",
        f"<iframe src=https://player.vimeo.com/video/{VIDEO} width=100%>",
        f'<iframe data-lazy-src="https://player.vimeo.com/video/{VIDEO}"></iframe>',
        f'<iframe src="about:blank" data-cmplz-src="https://player.vimeo.com/video/{VIDEO}">',
        f'<iframe\n  src="  https://player.vimeo.com/video/{VIDEO}\n"></iframe>',
    ],
)
def test_iframe_spellings(registry: Registry, iframe: str) -> None:
    (finding,) = scan(f"<p>Film</p>\n{iframe}\n", registry)
    assert (finding.line, finding.key, finding.kind) == (2, f"vimeo:{VIDEO}", "iframe")


def test_protocol_relative_and_relative_urls_resolve_against_the_page(registry: Registry) -> None:
    html = '<iframe src="//player.vimeo.com/video/76979871"></iframe><iframe src="/vimeo/1">'
    (finding,) = scan(html, registry, base_url="http://www.example.de/seite.html")
    assert finding.url == "http://player.vimeo.com/video/76979871"


@pytest.mark.parametrize(
    "html",
    [
        # commented out, an embedguard frame, a plain link, a map, text about an iframe
        f'<!-- <iframe src="https://player.vimeo.com/video/{VIDEO}"></iframe> -->',
        f'<iframe src="https://einbettung.example.de/vimeo/{VIDEO}?h={HASH}"></iframe>',
        f'<a href="https://player.vimeo.com/video/{VIDEO}">Film</a>',
        '<iframe src="https://www.openstreetmap.org/export/embed.html"></iframe>',
        f"<p>&lt;iframe src=&quot;https://player.vimeo.com/video/{VIDEO}&quot;&gt;</p>",
        f'<script>var u = "<iframe src=https://player.vimeo.com/video/{VIDEO}>";</script>',
        '<div class="fb-root"></div><div class="twitter-share-button"></div>',
        '<script src="/static/embed.js"></script><script src="https://example.de/embed.js">',
    ],
)
def test_what_is_not_a_direct_embed(registry: Registry, html: str) -> None:
    assert scan(html, registry) == []


def test_player_iframes_embedguard_cannot_show_are_still_reported(registry: Registry) -> None:
    html = (
        '<iframe src="https://player.vimeo.com/video/0123"></iframe>\n'
        '<iframe src="https://www.facebook.com/plugins/video.php?href=x"></iframe>\n'
        '<iframe src="https://www.youtube-nocookie.com/embed/videoseries?list=PL1"></iframe>\n'
    )
    found = [(f.line, f.provider, f.key) for f in scan(html, registry)]
    assert found == [(1, "vimeo", ""), (2, "facebook", ""), (3, "youtube", "")]


def test_facebook_sdk_markup_in_every_form(registry: Registry) -> None:
    html = (
        f'<div class="fb-page" data-href="https://facebook.com/{PAGE.upper()}"></div>\n'
        '<div class="FB-Post" data-href="https://www.facebook.com/x/posts/1"></div>\n'
        '<div class="fb-page"></div>\n'
        '<script src="https://connect.facebook.net/en_US/sdk.js"></script>\n'
    )
    found = [(f.line, f.provider, f.kind, f.key) for f in scan(html, registry)]
    assert found == [
        (1, "facebook", "markup", f"facebook:{PAGE}"),
        (2, "facebook", "markup", ""),
        (3, "facebook", "markup", ""),
        (4, "facebook", "script", ""),
    ]


def test_x_blockquotes_use_the_posts_own_link_not_mentions(registry: Registry) -> None:
    html = (
        '<blockquote class="twitter-tweet" data-dnt="true">\n'
        '<p><a href="https://x.com/someone">@someone</a> <a href="https://t.co/abc">t.co</a></p>\n'
        f'<a href="https://x.com/{HANDLE}/status/{POST}">1. Mai</a>\n'
        "</blockquote>\n"
        '<blockquote class="twitter-tweet"><blockquote>zitiert</blockquote>\n'
        f'<a href="https://twitter.com/{HANDLE}/status/{POST}">2. Mai</a></blockquote>\n'
        '<script src="https://platform.x.com/widgets.js"></script>\n'
    )
    found = [(f.line, f.kind, f.key) for f in scan(html, registry)]
    post = f"twitter:{HANDLE}/status/{POST}"
    assert found == [(1, "markup", post), (5, "markup", post), (7, "script", "")]


def test_unclosed_markup_at_the_end_is_still_judged(registry: Registry) -> None:
    html = f'<blockquote class="twitter-tweet"><a href="https://x.com/{HANDLE}/status/{POST}">'
    (finding,) = scan(html, registry)
    assert finding.key == f"twitter:{HANDLE}/status/{POST}"


def test_mastodon_embeds_are_reported_with_their_key(
    registry: Registry,
) -> None:
    html = (
        '<blockquote class="mastodon-embed" data-embed-url="https://social.example/@kreis/1/embed">'
        '<a href="https://social.example/@kreis/1">Post</a></blockquote>\n'
        '<script async src="https://social.example/embed.js"></script>\n'
        '<script async src="https://other.example/embed.js"></script>\n'
    )
    found = [(f.line, f.provider, f.kind, f.key) for f in scan(html, registry)]
    assert found == [
        (1, "mastodon", "markup", "mastodon:social.example/1"),
        (2, "mastodon", "script", ""),
    ]


def test_a_provider_registered_at_runtime_is_found_with_no_change() -> None:
    # In place of the built-in Mastodon provider, which would claim the same URLs.
    others = [provider for provider in default_registry() if provider.name != "mastodon"]
    registry = Registry([*others, TootProvider()])
    html = (
        '<iframe src="https://social.example/@kreis/42/embed" class="toot-embed"></iframe>\n'
        '<blockquote class="toot-embed" data-embed-url="https://bonn.social/@stadt/7/embed">'
        "</blockquote>\n"
        '<iframe src="https://bonn.social/@stadt/8"></iframe>\n'
        f'<iframe src="https://player.vimeo.com/video/{VIDEO}"></iframe>\n'
        # Its own markup and the script served next to it, known from its embed_code alone.
        '<div class="toot-embed"><a href="https://bonn.social/@stadt/9">9</a></div>\n'
        '<script src="https://bonn.social/toot.js"></script>\n'
        '<script src="https://elsewhere.example/toot.js"></script>\n'
    )
    found = [(f.line, f.provider, f.kind, f.key, f.url) for f in scan(html, registry)]
    assert found == [
        (1, "toot", "iframe", "toot:social.example/42", "https://social.example/@kreis/42"),
        (2, "toot", "markup", "toot:bonn.social/7", "https://bonn.social/@stadt/7"),
        (3, "toot", "iframe", "toot:bonn.social/8", "https://bonn.social/@stadt/8"),
        (4, "vimeo", "iframe", f"vimeo:{VIDEO}", f"https://player.vimeo.com/video/{VIDEO}"),
        (5, "toot", "markup", "toot:bonn.social/9", "https://bonn.social/@stadt/9"),
        (6, "toot", "script", "", "https://bonn.social/toot.js"),
    ]


def test_deeply_nested_widget_markup_stays_linear(registry: Registry) -> None:
    depth = 30_000  # nested without the cap, this takes minutes
    html = '<div class="fb-page">' * depth + "</div>" * depth
    started = time.monotonic()
    findings = scan(html, registry)
    assert len(findings) == depth
    assert time.monotonic() - started < 15


@pytest.mark.parametrize(
    "html",
    [
        "<iframe src=",
        "<iframe src='javascript:alert(1)' data-src='x'>",
        '<iframe src="https://[::1">',
        f'<iframe src="https://player.vimeo.com/video/{"9" * 5000}">',
        '<div class="fb-page" data-href="https://user:pw@www.facebook.com:99999/x">',
        "<" * 10_000,
        "<?php if ($a > 1) { ?><iframe src='//player.vimeo.com/video/1'><?php } ?>",
        "\x00\ufeff<iframe\x00src=x>",
    ],
)
def test_broken_markup_never_raises(registry: Registry, html: str) -> None:
    for finding in scan(html, registry):
        assert finding.line >= 1
