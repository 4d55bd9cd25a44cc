"""The Provider interface: what an embed is, where it comes from, and what it may load.

Everything that differs between providers lives on the provider: URL recognition, routes,
the page query it keeps, aspect ratio, upstream hosts and CSP sources (per embed, for a
federated provider), the notice facts. Adding a provider means one module in this package
that subclasses :class:`Provider`, its templates, and an entry in ``providers/__init__.py``
(or ``Services.build(settings, registry=...)``); routes, consent, CSP, snippets, embed.js,
the notice and /privacy pick it up from there (tests/test_provider_contract.py proves it).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import SplitResult, urlsplit

from ..i18n import N_
from ..store import Embed
from ..upstream import UpstreamClient

# The placeholder's one line when a provider writes none of its own (see Provider.lead).
VIDEO_LEAD = N_(
    "Video from %(provider)s – loads only with your consent, then %(recipient)s receives your data."
)
CONTENT_LEAD = N_(
    "Content from %(provider)s – loads only with your consent, then %(recipient)s receives "
    "your data."
)
# What the placeholder shows when the admin gave no image of its own: "poster" (the preview
# fetched from the provider, or the neutral one made in its place), "tile" (the item's name
# on a neutral tile) or "text" (no picture: the posts' own text is the preview).
PreviewStyle = Literal["poster", "tile", "text"]


class ProviderError(Exception):
    """The provider cannot confirm an item; the message is one line for the admin."""


class NotEmbeddable(ValueError):
    """A URL on a provider's site that names no embeddable item (a search, a photo, a
    sharing dialog); the message is one line saying what it is instead."""


class UnknownURL(NotEmbeddable):
    """A URL no registered provider claims at all."""


@dataclass(frozen=True)
class EmbedRef:
    """One item a provider can show, as recognised from a URL or a route."""

    provider: Provider
    item_id: str
    secret: str = ""
    # The parent's item id when the URL names it but the item id does not
    # (a Mastodon post URL names its account; the post's key does not).
    parent_id: str = ""
    # A readable name the URL carries besides the item id (a Facebook page's
    # /people/NAME/ID), for the title when the provider is not asked.
    title_hint: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.provider.name}:{self.item_id}"


@dataclass(frozen=True)
class Metadata:
    """What the provider tells us about an item; every string is untrusted plain text,
    except ``content``, which a provider has already sanitized."""

    title: str = ""
    author: str = ""
    author_url: str = ""
    description: str = ""
    duration: int | None = None
    width: int = 16
    height: int = 9
    thumbnail_url: str | None = None
    content: str = ""


@dataclass(frozen=True)
class Recipient:
    """Who receives visitor data once the embed loads: the facts the notice states."""

    company: str
    address: str
    country_de: str
    country_en: str
    transfer_de: str
    transfer_en: str
    privacy_url: str
    data_de: tuple[str, ...]
    data_en: tuple[str, ...]
    joint_controller: bool = False


@dataclass(frozen=True)
class LoadedView:
    """What the consented page needs: its template, context and CSP additions."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    # A view that runs the provider's own script names the template of a separate document
    # for it; the page puts that document into a sandboxed frame with an opaque origin
    # (templates/embed/script_sandbox.html), never into the origin that serves /consent
    # and /admin. A provider whose consented_sources admit script must set it.
    script_document: str | None = None


@dataclass(frozen=True)
class EmbedCode:
    """The provider's own embedding code as a page carries it, for ``embedguard scan``: what
    no URL reveals. Hosts count with their subdomains."""

    classes: frozenset[str] = frozenset()  # markup the provider's script turns into an embed
    script_hosts: frozenset[str] = frozenset()  # that script, and player APIs
    frame_hosts: frozenset[str] = frozenset()  # iframes that are direct even when unrecognised
    # A script at this path on the host of the markup itself (a Mastodon instance's).
    markup_host_script: str = ""


CSPSources = Mapping[str, tuple[str, ...]]


class Provider(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    recipient: ClassVar[Recipient]
    # Hosts embedguard itself fetches from, server-side (oEmbed, images).
    upstream_hosts: ClassVar[frozenset[str]]
    # Route patterns for the embed pages; parameters go to item_id_from_path.
    routes: ClassVar[tuple[str, ...]]
    # Hosts the browser may contact after consent, per CSP directive.
    consented_sources: ClassVar[CSPSources]
    placeholder_template: ClassVar[str] = "embed/placeholder.html"
    # Hosts of the provider's own links, for embed.js's labels (recognition is server-side).
    link_hosts: ClassVar[tuple[str, ...]] = ()
    # Players keep their video's shape; pages and timelines get a fixed frame size instead.
    ratio_locked: ClassVar[bool] = False
    # embed.js's fixed frame for unlocked kinds: height, height for a single post, max width
    # (0: embed.js's default), so the host page never moves when the frame loads.
    frame_height: ClassVar[int] = 0
    post_frame_height: ClassVar[int] = 0
    frame_max_width: ClassVar[int] = 0
    # A video: the placeholder shows its poster as the main surface, with a play mark.
    is_video: ClassVar[bool] = False
    # What stands in for an image of the admin's own (PreviewStyle).
    preview_style: ClassVar[PreviewStyle] = "poster"
    # The placeholder's one line (see lead); '' for the default one.
    lead_text: ClassVar[str] = ""
    # The provider's name where a page first introduces it, as a message id
    # ("X (formerly Twitter)"); '' when the label says it all.
    long_label: ClassVar[str] = ""
    # How a page embeds the provider directly, for embedguard scan; empty: only by URL.
    embed_code: ClassVar[EmbedCode] = EmbedCode()

    @abstractmethod
    def parse_url(self, url: str) -> EmbedRef | None:
        """Recognise a URL of this provider; None if it is not one, NotEmbeddable if it
        is the provider's but names nothing that can be embedded."""

    @abstractmethod
    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        """The canonical item id for route parameters; None (a 404) if not canonical."""

    @abstractmethod
    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        """Ask the provider about an item; ProviderError if it cannot be confirmed."""

    @abstractmethod
    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        """The consented page: the provider's frame or script, with its privacy options."""

    @abstractmethod
    def source_url(self, embed: Embed) -> str:
        """The item on the provider's own site, for the plain link that always works."""

    def lead(self, embed: Embed) -> str:
        """The placeholder's one line, shown at every size: what this is, whose, where the
        data goes, and that it waits for consent. A message id (German in locale/),
        formatted with ``provider`` (the label) and ``recipient`` (who receives the data)."""
        return self.lead_text or (VIDEO_LEAD if self.is_video else CONTENT_LEAD)

    def title_from_id(self, item_id: str) -> str:
        """A readable title from the item id alone, for an item stored without one; '' when
        the id says nothing (a number)."""
        return ""

    def ref(self, item_id: str, secret: str = "") -> EmbedRef:
        return EmbedRef(self, item_id, secret)

    def embed_path(self, item_id: str) -> str:
        return f"/{self.name}/{item_id}"

    def page_query(self, embed: Embed) -> dict[str, str]:
        """Query parameters the embed's page URL always carries (a Vimeo hash); default none."""
        return {}

    def url_query(self, url: str) -> dict[str, str]:
        """Page parameters a pasted provider URL carries besides the item (a start time);
        candidates only: :meth:`passthrough_query` keeps the valid ones."""
        return {}

    def upstream_hosts_for(self, ref: EmbedRef) -> frozenset[str]:
        """Where embedguard may fetch from for this item; a federated provider names the
        item's own instance."""
        return self.upstream_hosts

    def recipient_for(self, embed: Embed) -> Recipient:
        """Who receives visitor data when this embed loads; a federated provider names
        the item's instance."""
        return self.recipient

    def consented_sources_for(self, embed: Embed) -> CSPSources:
        """The CSP additions of the loaded page for this embed."""
        return self.consented_sources

    def parent_of(self, embed: Embed) -> str | None:
        """The key of the embed that must be enabled for this stored one to be shown."""
        return self.parent_key(self.ref(embed.item_id, embed.secret))

    def frame_size(self, embed: Embed) -> tuple[int, int]:
        """Width and height for the iframe snippet; by default the item's own, 640 wide."""
        width = 640
        return width, max(1, round(width * embed.height / max(embed.width, 1)))

    def parent_key(self, ref: EmbedRef) -> str | None:
        """An embed that must be allowed before this one (a post's account); default none."""
        return None

    def placeholder_context(
        self, embed: Embed, lang: str, siblings: Sequence[Embed] = ()
    ) -> dict[str, Any]:
        """Extra context for the placeholder; by default nothing. ``siblings`` are this
        provider's other stored embeds (e.g. an account's posts for its timeline)."""
        return {}

    def accepts_query(self, embed: Embed, query: Mapping[str, str]) -> bool:
        """Whether the page URL's parameters fit this embed (e.g. a secret); default yes."""
        return True

    def passthrough_query(self, query: Mapping[str, str]) -> dict[str, str]:
        """Query parameters that survive the consent round-trip; by default none."""
        return {}


_HOST_PREFIXES = ("www.", "m.", "mobile.", "web.")
_START_TIME = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,3})m)?(?:(\d{1,5})s?)?", re.ASCII)
_MAX_START_SECONDS = 24 * 3600


def parse_start_time(value: str) -> int | None:
    """Seconds from ``90``, ``90s``, ``1m30s`` or ``1h2m3s``; None for anything else."""
    match = _START_TIME.fullmatch(value)
    if not value or match is None:
        return None
    hours, minutes, seconds = (int(group) if group else 0 for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total if 0 < total <= _MAX_START_SECONDS else None


def normalise_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def parse_http_url(url: str) -> SplitResult | None:
    """``url`` split, if it is http(s) or protocol-relative (``//host/…`` from older pasted
    embed codes); None for anything else or anything that does not parse."""
    url = url.strip()
    if url.startswith("//"):
        url = f"https:{url}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts


def path_segments(parts: SplitResult) -> list[str]:
    return [s for s in parts.path.split("/") if s]


def canonical_digits(value: str, *, max_length: int = 20) -> str | None:
    """ASCII digits without a leading zero, or None."""
    if re.fullmatch(rf"[1-9][0-9]{{0,{max_length - 1}}}", value, flags=re.ASCII):
        return value
    return None
