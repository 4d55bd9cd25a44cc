"""Facebook: the page plugin of a configured page.

Meta offers no usable preview without its Graph API (and forbids keeping what that API
returns), so embedguard asks Meta nothing at all: the page is recognised from its URL, and
the placeholder shows an admin-supplied image or a neutral one. After consent the page
loads Facebook's page plugin iframe, without the faces of the visitor's friends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlencode

from ..i18n import N_
from ..store import Embed
from ..text import clean_text
from ..titles import readable_slug
from ..upstream import UpstreamClient
from .base import (
    CSPSources,
    EmbedCode,
    EmbedRef,
    LoadedView,
    Metadata,
    NotEmbeddable,
    Provider,
    Recipient,
    canonical_digits,
    normalise_host,
    parse_http_url,
    path_segments,
)

# Page user names are letters, digits and dots; older vanity names also carry hyphens.
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,78}[a-z0-9])?", re.ASCII)
_HOSTS = frozenset({"facebook.com", "fb.com"})
# Language subdomains such as de-de.facebook.com serve the same pages.
_LOCALE_HOST = re.compile(r"[a-z]{2}-[a-z]{2}\.facebook\.com", re.ASCII)
# First path segments of facebook.com that are Facebook's own features, not pages; each
# with what it is, for the one-line refusal.
_FEATURES = {
    "video": ("video.php", "watch", "reel", "reels", "videos"),
    "post": ("story.php", "permalink.php", "posts", "photo", "photo.php", "photos", "media"),
    "live map": ("livemap",),
    "event": ("events",),
    "group": ("groups",),
    "sharing link or dialog": ("sharer", "sharer.php", "share", "share.php", "dialog"),
    "plugin other than the page plugin": ("plugins",),
    "story": ("stories",),
    "page of Facebook itself": (
        "ads",
        "business",
        "gaming",
        "hashtag",
        "help",
        "home.php",
        "l.php",
        "login",
        "login.php",
        "marketplace",
        "messages",
        "notifications",
        "pages",
        "people",
        "pg",
        "policies",
        "privacy",
        "profile.php",
        "search",
        "settings",
    ),
}
_RESERVED = {segment: what for what, names in _FEATURES.items() for segment in names}
# Tabs of a page that still name the page itself.
_PAGE_TABS = frozenset(
    {"about", "community", "events", "photos", "posts", "reviews", "timeline", "videos"}
)
_PLUGIN = "https://www.facebook.com/plugins/page.php"
PLUGIN_WIDTH = 500  # the plugin's maximum
PLUGIN_HEIGHT = 560
_LOCALES = {"de": "de_DE", "en": "en_GB"}
_MAX_NAME = 200


class FacebookProvider(Provider):
    name = "facebook"
    label = "Facebook"
    recipient = Recipient(
        company="Meta Platforms Ireland Limited",
        address="Merrion Road, Dublin 4, D04 X2K5, Ireland",
        country_de="Irland, mit Übermittlung an Meta Platforms, Inc. in den USA",
        country_en="Ireland, with transfer to Meta Platforms, Inc. in the USA",
        transfer_de=(
            "Meta übermittelt Daten an Meta Platforms, Inc. in den USA auf Grundlage des "
            "EU-US Data Privacy Framework, nach dem Meta zertifiziert ist, und Ihrer "
            "Einwilligung (Art. 49 Abs. 1 lit. a DSGVO)"
        ),
        transfer_en=(
            "Meta transfers data to Meta Platforms, Inc. in the USA based on the EU-US Data "
            "Privacy Framework, under which Meta is certified, and on your consent "
            "(Art. 49(1)(a) GDPR)"
        ),
        privacy_url="https://www.facebook.com/privacy/policy/",
        data_de=(
            "IP-Adresse",
            "Geräte- und Browserdaten",
            "die aufgerufene Seite",
            "Cookies von Facebook (z. B. datr, fr); wenn Sie bei Facebook angemeldet sind, "
            "auch Ihr Konto",
        ),
        data_en=(
            "IP address",
            "device and browser data",
            "the page you are on",
            "Facebook cookies (e.g. datr, fr); if you are logged in to Facebook, also your account",
        ),
        # CJEU C-40/17 Fashion ID: the embedding site shares responsibility for collecting
        # and transmitting the data.
        joint_controller=True,
    )
    upstream_hosts = frozenset()
    link_hosts = ("facebook.com", "fb.com")
    frame_height = 600
    frame_max_width = 500
    routes = ("/facebook/{page}",)
    consented_sources: ClassVar[CSPSources] = {"frame-src": ("https://www.facebook.com",)}
    preview_style = "tile"
    lead_text = N_(
        "Facebook page (Meta, Ireland/USA) – loads only with your consent, then Meta receives "
        "your data."
    )
    embed_code = EmbedCode(
        classes=frozenset({"fb-page", "fb-post", "fb-video", "fb-comment-embed", "fb-group"}),
        script_hosts=frozenset({"connect.facebook.net"}),
        frame_hosts=frozenset({"facebook.com"}),
    )

    def parse_url(self, url: str) -> EmbedRef | None:
        return self._parse(url, plugin_allowed=True)

    def title_from_id(self, item_id: str) -> str:
        return readable_slug(item_id)

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        ref = self._ref(params.get("page", ""))
        return ref.item_id if ref else None

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        # The address is all there is: "wirtschaft.in.mittelsachsen" reads "Wirtschaft in
        # Mittelsachsen", /people/Wirtschaft-in-Mittelsachsen/ID the same; a bare page id
        # gives no title (the admin can set one).
        title = self.title_from_id(ref.item_id) or ref.title_hint
        return Metadata(title=title, author_url=self.source_url_for(ref.item_id))

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        params = {
            "href": self.source_url_for(embed.item_id),
            "tabs": "timeline",
            "width": str(PLUGIN_WIDTH),
            "height": str(PLUGIN_HEIGHT),
            "small_header": "true",
            "adapt_container_width": "true",
            "hide_cover": "false",
            # Faces of the visitor's friends are other people's data; leave them out.
            "show_facepile": "false",
            "locale": _LOCALES.get(lang, "de_DE"),
        }
        return LoadedView(
            "providers/facebook_loaded.html",
            {
                "plugin_url": f"{_PLUGIN}?{urlencode(params)}",
                "plugin_width": PLUGIN_WIDTH,
                "plugin_height": PLUGIN_HEIGHT,
            },
        )

    def source_url(self, embed: Embed) -> str:
        return self.source_url_for(embed.item_id)

    @staticmethod
    def source_url_for(item_id: str) -> str:
        return f"https://www.facebook.com/{item_id}"

    def frame_size(self, embed: Embed) -> tuple[int, int]:
        return PLUGIN_WIDTH, 700

    def _parse(self, url: str, *, plugin_allowed: bool) -> EmbedRef | None:
        parts = parse_http_url(url)
        if parts is None or not _is_facebook(parts.hostname or ""):
            return None
        segments = path_segments(parts)
        query = parse_qs(parts.query)
        if segments == ["plugins", "page.php"] and plugin_allowed:
            # The plugin iframe an integrator swaps out names the page in its href.
            ref = self._parse(query.get("href", [""])[0], plugin_allowed=False)
            if ref is None:
                raise NotEmbeddable("a Facebook page plugin whose href is not a Facebook page")
            return ref
        if segments == ["profile.php"]:
            return self._numeric_ref(query.get("id", [""])[0])
        if len(segments) == 3 and segments[0] in ("pages", "people"):
            return self._numeric_ref(segments[2], name=segments[1])
        if len(segments) >= 2 and segments[0] == "pg":
            segments = segments[1:]  # the old page prefix: /pg/NAME/about
        return self._page_ref(segments)

    def _page_ref(self, segments: list[str]) -> EmbedRef:
        if not segments:
            raise NotEmbeddable("a Facebook link without a page")
        what = _RESERVED.get(segments[0].lower())
        if what is not None:
            raise NotEmbeddable(f"a Facebook {what}, not a page (embedguard shows pages)")
        if len(segments) == 1 or (len(segments) == 2 and segments[1].lower() in _PAGE_TABS):
            ref = self._ref(segments[0])
            if ref is None:
                raise NotEmbeddable(f"not a valid Facebook page name: {segments[0]!r}")
            return ref
        raise NotEmbeddable(
            f"a Facebook post, photo or video, not a page; use facebook.com/{segments[0]}"
        )

    def _numeric_ref(self, value: str, *, name: str = "") -> EmbedRef:
        """A page by its number; ``name`` is the page's name as the URL spells it."""
        page_id = canonical_digits(value)
        if page_id is None:
            raise NotEmbeddable(f"not a valid Facebook page id: {value!r}")
        hint = readable_slug(clean_text(unquote(name), _MAX_NAME))
        return EmbedRef(self, page_id, title_hint=hint)

    def _ref(self, value: str) -> EmbedRef | None:
        slug = value.lower()
        if not _SLUG.fullmatch(slug) or ".." in slug or slug in _RESERVED:
            return None
        if slug.isdigit() and canonical_digits(slug) is None:
            return None
        return self.ref(slug)


def _is_facebook(host: str) -> bool:
    host = host.lower().rstrip(".")
    return normalise_host(host) in _HOSTS or bool(_LOCALE_HOST.fullmatch(host))
