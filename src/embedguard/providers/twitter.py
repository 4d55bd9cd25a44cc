"""X (Twitter): an account's timeline and the posts an admin picked.

Before consent the visitor sees the post's text from our own cache (X's oEmbed with
``omit_script``, sanitized); a timeline placeholder lists the account's picked posts the
same way, because X's timeline widget often shows nothing to visitors who are not logged
in. After consent the page loads X's widget script with ``data-dnt="true"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import SplitResult, quote, unquote, urlsplit

from markupsafe import Markup

from ..i18n import N_
from ..sanitize import clean_post_html
from ..store import Embed
from ..text import clean_url
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
    normalise_host,
    parse_http_url,
)
from .picked_posts import AccountWithPickedPosts, post_metadata

_HANDLE = re.compile(r"[a-z0-9_]{1,15}", re.ASCII)
# First path segments on twitter.com/x.com that are pages of X itself, not accounts.
_RESERVED = frozenset(
    {
        "about",
        "account",
        "compose",
        "download",
        "explore",
        "hashtag",
        "help",
        "home",
        "i",
        "intent",
        "jobs",
        "login",
        "logout",
        "messages",
        "notifications",
        "oauth",
        "privacy",
        "search",
        "settings",
        "share",
        "signup",
        "tos",
        "web",
    }
)
# Tabs of an account's page that show its own posts: they name the account.
_ACCOUNT_TABS = frozenset({"tweets", "with_replies", "media", "highlights", "articles"})
_X_HOSTS = frozenset({"twitter.com", "x.com"})
_LINK_HOSTS = frozenset(
    {"t.co", "twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com", "www.x.com"}
)
_OEMBEDS = (
    ("https://publish.twitter.com/oembed", "https://twitter.com"),
    ("https://publish.x.com/oembed", "https://x.com"),
)
# oEmbed answers that mean "this item is not there": asking the other host will not help.
_DEFINITE = frozenset({400, 401, 403, 404, 410})
_WIDGETS_SCRIPT = "https://platform.x.com/widgets.js"
# X moved its widgets from platform.twitter.com to platform.x.com in 2026; allow both.
_PLATFORM = ("https://platform.x.com", "https://platform.twitter.com")


class TwitterProvider(AccountWithPickedPosts):
    name = "twitter"
    label = "X"  # "X (formerly Twitter)" where a page first names it
    recipient = Recipient(
        company="Twitter International Unlimited Company",
        address="One Cumberland Place, Fenian Street, Dublin 2, D02 AX07, Ireland",
        country_de="Irland, mit Übermittlung an X Corp. in den USA",
        country_en="Ireland, with transfer to X Corp. in the USA",
        transfer_de=(
            "X übermittelt Daten an X Corp. in den USA und stützt sich dafür auf "
            "EU-Standardvertragsklauseln (Art. 46 DSGVO). Für die USA gilt der "
            "Angemessenheitsbeschluss nur, soweit X Corp. nach dem EU-US Data Privacy "
            "Framework zertifiziert ist. Mit dem Laden willigen Sie auch in diese Übermittlung "
            "ein (Art. 49 Abs. 1 lit. a DSGVO); dort ist Ihr Schutz schwächer als in der EU"
        ),
        transfer_en=(
            "X transfers data to X Corp. in the USA, relying on EU standard contractual "
            "clauses (Art. 46 GDPR). The adequacy decision for the USA applies only as far as "
            "X Corp. is certified under the EU-US Data Privacy Framework. By loading, you also "
            "consent to this transfer (Art. 49(1)(a) GDPR); your data is less protected there "
            "than in the EU"
        ),
        privacy_url="https://x.com/privacy",
        data_de=(
            "IP-Adresse",
            "Geräte- und Browserdaten",
            "die aufgerufene Seite",
            "Cookies von X (z. B. guest_id); wenn Sie bei X angemeldet sind, auch Ihr Konto",
        ),
        data_en=(
            "IP address",
            "device and browser data",
            "the page you are on",
            "X cookies (e.g. guest_id); if you are logged in to X, also your account",
        ),
    )
    upstream_hosts = frozenset({"publish.twitter.com", "publish.x.com"})
    link_hosts = ("twitter.com", "x.com")
    frame_height = 640
    post_frame_height = 520
    frame_max_width = 550
    routes = ("/twitter/{handle}", "/twitter/{handle}/status/{post_id}")
    consented_sources: ClassVar[CSPSources] = {
        "script-src": _PLATFORM,
        "style-src": _PLATFORM,
        "frame-src": (*_PLATFORM, "https://syndication.twitter.com", "https://syndication.x.com"),
    }
    placeholder_template = "providers/twitter_placeholder.html"
    long_label = N_("X (formerly Twitter)")
    lead_text = N_(
        "Posts on X (formerly Twitter), Ireland/USA – load only with your consent, then X "
        "receives your data."
    )
    post_lead: ClassVar[str] = N_(
        "Post on X (formerly Twitter), Ireland/USA – loads only with your consent, then X "
        "receives your data."
    )
    embed_code = EmbedCode(
        classes=frozenset({"twitter-tweet", "twitter-video", "twitter-timeline", "twitter-grid"}),
        script_hosts=frozenset({"platform.twitter.com", "platform.x.com"}),
        frame_hosts=frozenset({"platform.twitter.com", "platform.x.com"}),
    )

    def lead(self, embed: Embed) -> str:
        return self.post_lead if self.post_id(embed.item_id) else self.lead_text

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = parse_http_url(url)
        if parts is None or normalise_host(parts.hostname or "") not in _X_HOSTS:
            return None
        segments = _x_path(parts)
        if not segments:
            raise NotEmbeddable("an X link without an account or post")
        if segments[0].lower() in ("i", "web") and "status" in segments[1:3]:
            raise NotEmbeddable(
                "an X post link without its account; open the post and copy the "
                "address that names the account (x.com/NAME/status/ID)"
            )
        if len(segments) >= 3 and segments[1] in ("status", "statuses"):
            return self._checked(segments[0], segments[2])
        if segments[0].lower() in _RESERVED:
            raise NotEmbeddable(f"x.com/{segments[0]} is a page of X itself, not an account")
        if len(segments) == 1 or (len(segments) == 2 and segments[1].lower() in _ACCOUNT_TABS):
            return self._checked(segments[0], None)
        raise NotEmbeddable("an X page that is neither an account nor a post")

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        ref = self._ref(params.get("handle", ""), params.get("post_id"))
        return ref.item_id if ref else None

    def parent_key(self, ref: EmbedRef) -> str | None:
        handle, post_id = _split(ref.item_id)
        return f"{self.name}:{handle}" if post_id else None

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        handle, post_id = _split(ref.item_id)
        data = await _oembed(client, ref.item_id, handle, post_id)
        if not isinstance(data, dict) or not isinstance(data.get("html"), str):
            raise ProviderError(f"X sent no usable data for {_describe(handle, post_id)}")
        author_url = clean_url(data.get("author_url"), hosts=_X_HOSTS)
        owner = _handle_of(author_url)
        if post_id is not None and owner is not None and owner != handle:
            raise ProviderError(f"X post {post_id} belongs to @{owner}, not to @{handle}")
        if post_id is None:
            return Metadata(
                title=f"@{handle}",
                author=f"@{handle}",
                author_url=f"https://x.com/{handle}",
                width=550,
                height=700,
            )
        return post_metadata(
            clean_post_html(data["html"], link_hosts=_LINK_HOSTS),
            author_name=data.get("author_name"),
            author=f"@{handle}",
            author_url=f"https://x.com/{handle}",
            no_text=f"X sent no text for post {post_id}",
        )

    def post_id(self, item_id: str) -> str | None:
        return _split(item_id)[1]

    def is_post_of(self, post: Embed, account: Embed) -> bool:
        return _split(post.item_id)[0] == _split(account.item_id)[0]

    def post_content(self, embed: Embed) -> Markup:
        # Stored content was cleaned when it was fetched; cleaning again costs microseconds
        # and keeps a page safe even from a store someone edited by hand.
        return Markup(clean_post_html(embed.content, link_hosts=_LINK_HOSTS))  # noqa: S704

    def item_context(self, embed: Embed) -> dict[str, Any]:
        handle, post_id = _split(embed.item_id)
        return {
            "handle": handle,
            "post_id": post_id,
            "account_url": f"https://x.com/{handle}",
            "content": self.post_content(embed),
        }

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        return LoadedView(
            "providers/twitter_loaded.html",
            {**self.item_context(embed), "widgets_script": _WIDGETS_SCRIPT},
            script_document="providers/twitter_widget.html",
        )

    def source_url(self, embed: Embed) -> str:
        return f"https://x.com/{embed.item_id}"

    def frame_size(self, embed: Embed) -> tuple[int, int]:
        return (550, 600) if _split(embed.item_id)[1] else (550, 700)

    def _ref(self, handle: str, post_id: str | None) -> EmbedRef | None:
        handle = handle.lower()
        if not _HANDLE.fullmatch(handle) or handle in _RESERVED:
            return None
        if post_id is None:
            return self.ref(handle)
        if canonical_digits(post_id) is None:
            return None
        return self.ref(f"{handle}/status/{post_id}")

    def _checked(self, handle: str, post_id: str | None) -> EmbedRef:
        ref = self._ref(handle, post_id)
        if ref is None:
            what = f"post id {post_id!r}" if post_id else f"account name {handle!r}"
            raise NotEmbeddable(f"not a valid X {what}")
        return ref


def _x_path(parts: SplitResult) -> list[str]:
    """Path segments, reading old ``#!/NAME`` links (also percent-encoded) as ``/NAME``."""
    path = unquote(parts.path)
    if path.startswith("/#!"):
        path = path[3:]
    elif path in ("", "/") and parts.fragment.startswith("!/"):
        path = parts.fragment[1:]
    return [s for s in path.partition("?")[0].split("/") if s]


def _split(item_id: str) -> tuple[str, str | None]:
    """(handle, post id or None) from ``HANDLE`` or ``HANDLE/status/ID``."""
    handle, _, post_id = item_id.partition("/status/")
    return handle, post_id or None


def _describe(handle: str, post_id: str | None) -> str:
    return f"post {post_id} of @{handle}" if post_id else f"account @{handle}"


def _handle_of(url: str) -> str | None:
    segments = [s for s in urlsplit(url).path.split("/") if s] if url else []
    return segments[0].lower() if segments else None


async def _oembed(client: UpstreamClient, item_id: str, handle: str, post_id: str | None) -> Any:
    """Ask publish.twitter.com, and publish.x.com when the first cannot answer at all."""
    first: UpstreamError | None = None
    for endpoint, site in _OEMBEDS:
        page = quote(f"{site}/{item_id}", safe="")
        url = f"{endpoint}?url={page}&omit_script=1&dnt=true"
        try:
            return await client.get_json(url)
        except UpstreamError as error:
            if error.status in _DEFINITE:
                raise ProviderError(_explain(handle, post_id, error)) from None
            first = first or error
    assert first is not None
    raise ProviderError(_explain(handle, post_id, first))


def _explain(handle: str, post_id: str | None, error: UpstreamError) -> str:
    what = _describe(handle, post_id)
    if error.status in (404, 410):
        return f"X does not know {what} (wrong name or id, deleted, or protected)"
    if error.status in (401, 403):
        return f"X refuses {what} (protected, suspended or not embeddable)"
    return f"X could not be asked about {what}: {error.reason}"
