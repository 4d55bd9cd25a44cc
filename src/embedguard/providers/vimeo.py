"""Vimeo videos: oEmbed metadata and a self-hosted poster before consent, the player after."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlencode

from ..i18n import N_
from ..store import Embed
from ..text import clean_text, clean_url
from ..upstream import UpstreamClient, UpstreamError
from .base import (
    CSPSources,
    EmbedCode,
    EmbedRef,
    LoadedView,
    Metadata,
    Provider,
    ProviderError,
    Recipient,
    canonical_digits,
    normalise_host,
    parse_http_url,
    parse_start_time,
    path_segments,
)

__all__ = ["VimeoProvider", "parse_start_time"]

_HASH = re.compile(r"[0-9a-f]{6,32}", re.ASCII)
# Vimeo answers with the thumbnail size closest below the requested width.
_OEMBED_WIDTH = 1280


class VimeoProvider(Provider):
    name = "vimeo"
    label = "Vimeo"
    recipient = Recipient(
        company="Vimeo.com, Inc.",
        address="330 West 34th Street, 5th Floor, New York, NY 10001, USA",
        country_de="USA",
        country_en="USA",
        transfer_de=(
            "Datenübermittlung in die USA auf Grundlage Ihrer Einwilligung "
            "(Art. 49 Abs. 1 lit. a DSGVO) und des EU-US Data Privacy Framework, "
            "soweit Vimeo dort zertifiziert ist"
        ),
        transfer_en=(
            "Transfer to the USA based on your consent (Art. 49(1)(a) GDPR) and the "
            "EU-US Data Privacy Framework, as far as Vimeo is certified under it"
        ),
        privacy_url="https://vimeo.com/privacy",
        data_de=(
            "IP-Adresse",
            "Geräte- und Browserdaten",
            "die aufgerufene Seite",
            "Cookies des Players (z. B. vuid, player, __cf_bm)",
        ),
        data_en=(
            "IP address",
            "device and browser data",
            "the page you are on",
            "player cookies (e.g. vuid, player, __cf_bm)",
        ),
    )
    upstream_hosts = frozenset({"vimeo.com", "i.vimeocdn.com"})
    link_hosts = ("vimeo.com", "player.vimeo.com")
    ratio_locked = True
    routes = ("/vimeo/{item_id}",)
    consented_sources: ClassVar[CSPSources] = {"frame-src": ("https://player.vimeo.com",)}
    is_video = True
    lead_text = N_(
        "Video from Vimeo (USA) – loads only with your consent, then Vimeo receives your data."
    )
    embed_code = EmbedCode(
        script_hosts=frozenset({"player.vimeo.com"}), frame_hosts=frozenset({"player.vimeo.com"})
    )

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = parse_http_url(url)
        if parts is None:
            return None
        host = normalise_host(parts.hostname or "")
        segments = path_segments(parts)
        if host == "player.vimeo.com" and len(segments) == 2 and segments[0] == "video":
            video_id, secret = segments[1], parse_qs(parts.query).get("h", [""])[0]
        elif host == "vimeo.com" and segments:
            video_id, secret = _id_and_hash(segments)
        else:
            return None
        if canonical_digits(video_id) is None or (secret and not _HASH.fullmatch(secret)):
            return None
        return self.ref(video_id, secret)

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        return canonical_digits(params.get("item_id", ""))

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        page = f"https://vimeo.com/{ref.item_id}" + (f"/{ref.secret}" if ref.secret else "")
        oembed = (
            f"https://vimeo.com/api/oembed.json?url={quote(page, safe='')}&width={_OEMBED_WIDTH}"
        )
        try:
            data = await client.get_json(oembed)
        except UpstreamError as error:
            raise ProviderError(_explain(ref, error)) from None
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            raise ProviderError(f"Vimeo sent no usable data for video {ref.item_id}")
        return _metadata(data)

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        params = {"dnt": "1", "autoplay": "1"}
        if embed.secret:
            params = {"h": embed.secret, **params}
        start = parse_start_time(query.get("t", ""))
        fragment = f"#t={start}s" if start else ""
        player_url = f"https://player.vimeo.com/video/{embed.item_id}?{urlencode(params)}{fragment}"
        return LoadedView("providers/vimeo_loaded.html", {"player_url": player_url})

    def source_url(self, embed: Embed) -> str:
        suffix = f"/{embed.secret}" if embed.secret else ""
        return f"https://vimeo.com/{embed.item_id}{suffix}"

    def accepts_query(self, embed: Embed, query: Mapping[str, str]) -> bool:
        # An unlisted video is shown only with its hash; a hash that does not match the
        # stored one (or is given for a public video) is treated as an unknown video.
        given = query.get("h")
        return given == embed.secret if (given is not None or embed.secret) else True

    def page_query(self, embed: Embed) -> dict[str, str]:
        return {"h": embed.secret} if embed.secret else {}

    def url_query(self, url: str) -> dict[str, str]:
        ref, parts = self.parse_url(url), parse_http_url(url)
        query = {"h": ref.secret} if ref and ref.secret else {}
        # A start time may come as ?t= or #t= on the Vimeo URL.
        for source in (parts.query, parts.fragment) if parts else ():
            start = parse_qs(source).get("t")
            if start:
                query["t"] = start[0]
        return query

    def passthrough_query(self, query: Mapping[str, str]) -> dict[str, str]:
        kept: dict[str, str] = {}
        if _HASH.fullmatch(query.get("h", "")):
            kept["h"] = query["h"]
        start = parse_start_time(query.get("t", ""))
        if start:
            kept["t"] = str(start)
        return kept


def _id_and_hash(segments: list[str]) -> tuple[str, str]:
    """vimeo.com/ID, vimeo.com/ID/HASH, vimeo.com/channels/NAME/ID, …/videos/ID."""
    if segments[0] in ("channels", "groups", "showcase", "album") and len(segments) >= 3:
        return segments[-1], ""
    if len(segments) == 1:
        return segments[0], ""
    if len(segments) == 2 and _HASH.fullmatch(segments[1]):
        return segments[0], segments[1]
    return "", ""


def _explain(ref: EmbedRef, error: UpstreamError) -> str:
    if error.status == 404:
        return f"Vimeo does not know video {ref.item_id} (wrong id, private, or hash missing)"
    if error.status in (401, 403):
        return f"Vimeo refuses video {ref.item_id} (private or embedding disabled)"
    return f"Vimeo could not be asked about video {ref.item_id}: {error.reason}"


def _metadata(data: dict[str, Any]) -> Metadata:
    width, height = _dimension(data.get("width")), _dimension(data.get("height"))
    if not (width and height):
        width, height = 16, 9
    duration = data.get("duration")
    return Metadata(
        title=clean_text(data.get("title"), 300),
        author=clean_text(data.get("author_name"), 200),
        author_url=clean_url(data.get("author_url"), hosts={"vimeo.com"}),
        description=clean_text(data.get("description"), 2000),
        duration=duration if isinstance(duration, int) and 0 < duration < 10**6 else None,
        width=width,
        height=height,
        thumbnail_url=clean_url(data.get("thumbnail_url"), hosts={"i.vimeocdn.com"}) or None,
    )


def _dimension(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 < value <= 10_000 else None
