"""Mastodon: posts of allowed accounts, on whatever instance the account lives.

Mastodon is federated, so the instance is part of every item id (``INSTANCE/@user`` for an
account, ``INSTANCE/ID`` for a post) and the only host admitted for that item: embedguard
fetches only from it, and the loaded page's CSP frames only it. Before consent the visitor
sees the post's text from our own cache (the instance's status API, sanitized); after
consent the page frames the instance's own ``STATUS_URL/embed``.

Instance names are checked strictly: a DNS name in its ASCII (IDNA) form, with a dot and
an alphabetic top-level label, no port, no IP literal, no localhost or local-only names.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import SplitResult, quote, unquote, urlsplit

import idna
from markupsafe import Markup

from ..i18n import N_
from ..sanitize import clean_post_html
from ..store import Embed
from ..text import clean_text
from ..upstream import UpstreamClient, UpstreamError
from .base import (
    CSPSources,
    EmbedCode,
    EmbedRef,
    LoadedView,
    Metadata,
    NotEmbeddable,
    ProviderError,
    Recipient,
    canonical_digits,
    parse_http_url,
    path_segments,
)
from .picked_posts import AccountWithPickedPosts, post_metadata

_USER = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,28}[a-z0-9_])?", re.ASCII)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_LOCAL_NAMES = ("localhost", "local", "internal", "intranet", "lan", "home", "arpa", "onion")
_PUBLIC = frozenset({"public", "unlisted"})


def canonical_instance(value: str) -> str | None:
    """The instance's host name in lower-case ASCII form, or None if it is not one
    embedguard may contact."""
    if not value or len(value) > 253 or value != value.strip():
        return None
    try:
        ipaddress.ip_address(value.strip("[]"))
        return None  # an IP literal
    except ValueError:
        pass
    try:
        host = idna.encode(value.rstrip(".").lower(), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit() or labels[-1] in _LOCAL_NAMES or len(host) > 253:
        return None
    return host


_TRANSFER_DE = (
    "Ob Daten in ein Land außerhalb der EU gehen, hängt vom Betreiber der Instanz und "
    "seinem Server ab (siehe dessen Datenschutzerklärung); mit dem Laden willigen Sie "
    "auch in eine solche Übermittlung ein (Art. 49 Abs. 1 lit. a DSGVO)"
)
_TRANSFER_EN = (
    "Whether data leaves the EU depends on the instance's operator and its server "
    "(see its privacy policy); by loading, you also consent to such a transfer "
    "(Art. 49(1)(a) GDPR)"
)


def _instance_recipient(instance: str) -> Recipient:
    """The notice facts for one instance: its operator receives the data."""
    return Recipient(
        company=f"{instance}",
        address=f"https://{instance}/about",
        country_de="Sitz des Betreibers der Instanz: siehe deren Seite „about“",
        country_en="where the instance's operator is based: see its “about” page",
        transfer_de=_TRANSFER_DE,
        transfer_en=_TRANSFER_EN,
        privacy_url=f"https://{instance}/privacy-policy",
        data_de=("IP-Adresse", "Geräte- und Browserdaten", "die aufgerufene Seite"),
        data_en=("IP address", "device and browser data", "the page you are on"),
    )


class MastodonProvider(AccountWithPickedPosts):
    name = "mastodon"
    label = "Mastodon"
    # For /privacy and the consent overview: who receives data depends on the instance.
    recipient = Recipient(
        company="Betreiber der jeweiligen Mastodon-Instanz / the operator of the instance",
        address="siehe die Seite „about“ der Instanz / see the instance's “about” page",
        country_de="je nach Instanz",
        country_en="depending on the instance",
        transfer_de=_TRANSFER_DE,
        transfer_en=_TRANSFER_EN,
        privacy_url="https://joinmastodon.org/de/servers",
        data_de=("IP-Adresse", "Geräte- und Browserdaten", "die aufgerufene Seite"),
        data_en=("IP address", "device and browser data", "the page you are on"),
    )
    upstream_hosts = frozenset()  # per item: its instance only
    # The instance is named in the notice; in the one line its name could be any length.
    lead_text = N_(
        "Content from Mastodon – loads only with your consent, then the instance's operator "
        "receives your data."
    )
    embed_code = EmbedCode(classes=frozenset({"mastodon-embed"}), markup_host_script="/embed.js")
    # Account first: "@user" would otherwise match the post route's id parameter.
    routes = ("/mastodon/{instance}/@{user}", "/mastodon/{instance}/{status_id}")
    consented_sources: ClassVar[CSPSources] = {}
    placeholder_template = "providers/mastodon_placeholder.html"
    post_id_length = 24

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = parse_http_url(url)
        shape = _shape(parts) if parts else None
        if parts is None or shape is None:
            return None
        user, status_id = shape
        instance = canonical_instance(parts.hostname or "")
        if instance is None or _has_port(parts) or parts.username:
            raise NotEmbeddable("not a Mastodon instance embedguard may contact")
        if "@" in user:
            raise NotEmbeddable(
                f"a post or account of another instance seen from {instance}; "
                "add it from its own instance"
            )
        if not _USER.fullmatch(user.lower()):
            raise NotEmbeddable(f"not a valid Mastodon account name: {user[:40]!r}")
        account = f"{instance}/@{user.lower()}"
        if status_id is None:
            return self.ref(account)
        if canonical_digits(status_id, max_length=24) is None:
            raise NotEmbeddable(f"not a valid Mastodon post id: {status_id[:40]!r}")
        return EmbedRef(self, f"{instance}/{status_id}", parent_id=account)

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        instance = params.get("instance", "")
        if canonical_instance(instance) != instance:
            return None
        if "user" in params:
            user = params["user"]
            return f"{instance}/@{user}" if _USER.fullmatch(user) else None
        status_id = canonical_digits(params.get("status_id", ""), max_length=24)
        return f"{instance}/{status_id}" if status_id else None

    def parent_key(self, ref: EmbedRef) -> str | None:
        return f"{self.name}:{ref.parent_id}" if ref.parent_id else None

    def parent_of(self, embed: Embed) -> str | None:
        instance, status_id = _split(embed.item_id)
        if not status_id:
            return None
        # A post is shown only while the account it was confirmed for is allowed;
        # a post stored without its account can never be shown.
        return f"{self.name}:{_account_of(instance, embed.author_url) or instance + '/@'}"

    def upstream_hosts_for(self, ref: EmbedRef) -> frozenset[str]:
        return frozenset({_split(ref.item_id)[0]})

    def recipient_for(self, embed: Embed) -> Recipient:
        return _instance_recipient(_split(embed.item_id)[0])

    def consented_sources_for(self, embed: Embed) -> CSPSources:
        return {"frame-src": (f"https://{_split(embed.item_id)[0]}",)}

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        instance, status_id = _split(ref.item_id)
        if status_id is None:
            return await _account_metadata(client, instance, _user_of(ref.item_id))
        user = _user_of(ref.parent_id)
        return await _post_metadata(client, instance, user, status_id)

    def post_id(self, item_id: str) -> str | None:
        return _split(item_id)[1]

    def is_post_of(self, post: Embed, account: Embed) -> bool:
        instance = _split(account.item_id)[0]
        return _account_of(instance, post.author_url) == account.item_id

    def post_content(self, embed: Embed) -> Markup:
        instance = _split(embed.item_id)[0]
        # Cleaned when fetched; cleaning again keeps a page safe from a hand-edited store.
        return Markup(clean_post_html(embed.content, link_hosts={instance}))  # noqa: S704

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        # Mastodon has no embed for an account: its page links to the account and frames
        # nothing; its posts are embedded one by one.
        if _split(embed.item_id)[1] is None:
            return LoadedView("providers/mastodon_loaded.html", self.item_context(embed))
        return LoadedView(
            "providers/frame_loaded.html",
            {**self.item_context(embed), "frame_url": f"{self.source_url(embed)}/embed"},
        )

    def source_url(self, embed: Embed) -> str:
        instance, status_id = _split(embed.item_id)
        if status_id is None:
            return f"https://{embed.item_id}"
        account = _account_of(instance, embed.author_url)
        return f"https://{account}/{status_id}" if account else f"https://{instance}/"

    def frame_size(self, embed: Embed) -> tuple[int, int]:
        return 550, 600

    def item_context(self, embed: Embed) -> dict[str, Any]:
        instance, status_id = _split(embed.item_id)
        return {
            "instance": instance,
            "account_url": self.source_url(embed) if status_id is None else embed.author_url,
            "status_id": status_id,
            "content": self.post_content(embed),
        }


def _shape(parts: SplitResult) -> tuple[str, str | None] | None:
    """(user, status id or None) for the path forms Mastodon uses; None for any other."""
    segments = [unquote(s) for s in path_segments(parts)]
    if segments[:1] == ["web"]:
        segments = segments[1:]  # the old web interface: /web/@user/ID
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        user, rest = segments[0][1:], segments[1:]
        if rest in ([], ["with_replies"], ["media"]):
            return user, None
        if len(rest) in (1, 2) and rest[1:] in ([], ["embed"]):
            return user, rest[0]
        return None
    if len(segments) >= 2 and segments[0] == "users":
        if len(segments) == 2:
            return segments[1], None
        if len(segments) in (4, 5) and segments[2] == "statuses" and segments[5:] == []:
            return segments[1], segments[3]
    return None


def _has_port(parts: SplitResult) -> bool:
    return parts.port is not None or parts.netloc.endswith(":")


def _split(item_id: str) -> tuple[str, str | None]:
    """(instance, post id or None) from ``INSTANCE/ID`` or ``INSTANCE/@user``."""
    instance, _, rest = item_id.partition("/")
    return instance, None if rest.startswith("@") else rest


def _user_of(account_id: str) -> str:
    return account_id.partition("/@")[2]


def _account_of(instance: str, author_url: str) -> str | None:
    """``INSTANCE/@user`` from a stored author URL ``https://INSTANCE/@user``, if it is one."""
    try:
        parts = urlsplit(author_url)
    except ValueError:
        return None
    user = parts.path.removeprefix("/@")
    if parts.scheme != "https" or parts.netloc != instance or not _USER.fullmatch(user):
        return None
    return f"{instance}/@{user}"


async def _get(client: UpstreamClient, url: str, what: str) -> dict[str, Any]:
    try:
        data = await client.get_json(url)
    except UpstreamError as error:
        raise ProviderError(_explain(what, error)) from None
    if not isinstance(data, dict):
        raise ProviderError(f"the instance sent no usable data for {what}")
    return data


async def _account_metadata(client: UpstreamClient, instance: str, user: str) -> Metadata:
    what = f"account @{user}@{instance}"
    data = await _get(client, f"https://{instance}/api/v1/accounts/lookup?acct={user}", what)
    if str(data.get("acct", "")).lower() != user:
        raise ProviderError(f"{instance} answered for another account than @{user}")
    return Metadata(
        title=f"@{user}@{instance}",
        author=clean_text(data.get("display_name"), 200) or f"@{user}",
        author_url=f"https://{instance}/@{user}",
        width=550,
        height=600,
    )


async def _post_metadata(
    client: UpstreamClient, instance: str, user: str, status_id: str
) -> Metadata:
    what = f"post {status_id} of @{user}@{instance}"
    status_url = f"https://{instance}/@{user}/{status_id}"
    oembed = await _get(
        client, f"https://{instance}/api/oembed?url={quote(status_url, safe='')}", what
    )
    owner = _account_of(instance, str(oembed.get("author_url", "")).lower())
    if owner != f"{instance}/@{user}":
        raise ProviderError(f"{what}: the instance names another author")
    status = await _get(client, f"https://{instance}/api/v1/statuses/{status_id}", what)
    account = status.get("account")
    acct = account.get("acct") if isinstance(account, dict) else None
    if not isinstance(acct, str) or acct.lower() != user:
        raise ProviderError(f"{what}: the post belongs to another account")
    if status.get("visibility") not in _PUBLIC:
        raise ProviderError(f"{what} is not public")
    return post_metadata(
        clean_post_html(status.get("content"), link_hosts={instance}),
        author_name=oembed.get("author_name"),
        author=f"@{user}",
        author_url=f"https://{instance}/@{user}",
        no_text=f"the instance sent no text for {what}",
    )


def _explain(what: str, error: UpstreamError) -> str:
    if error.status in (404, 410):
        return f"the instance does not know {what} (wrong name or id, deleted, or private)"
    if error.status in (401, 403):
        return f"the instance refuses {what} (private, or the instance allows no lookups)"
    return f"the instance could not be asked about {what}: {error.reason}"
