"""The Provider interface: what an embed is, where it comes from, and what it may load.

Adding a provider means one module in this package that subclasses :class:`Provider`,
its loaded-page template, and an entry in ``providers/__init__.py``'s registry; the routes,
consent flow, CSP and contract tests pick it up from there.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..store import Embed
from ..upstream import UpstreamClient


class ProviderError(Exception):
    """The provider cannot confirm an item; the message is one line for the admin."""


@dataclass(frozen=True)
class EmbedRef:
    """One item a provider can show, as recognised from a URL or a route."""

    provider: str
    item_id: str
    secret: str = ""

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.item_id}"


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

    @abstractmethod
    def parse_url(self, url: str) -> EmbedRef | None:
        """Recognise a URL of this provider; None if it is not one."""

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

    def embed_path(self, item_id: str) -> str:
        return f"/{self.name}/{item_id}"

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


def normalise_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def canonical_digits(value: str, *, max_length: int = 20) -> str | None:
    """ASCII digits without a leading zero, or None."""
    if re.fullmatch(rf"[1-9][0-9]{{0,{max_length - 1}}}", value, flags=re.ASCII):
        return value
    return None
