"""YouTube videos: oEmbed metadata and a self-hosted poster before consent, the
privacy-enhanced player (www.youtube-nocookie.com) after."""

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
    NotEmbeddable,
    Provider,
    ProviderError,
    Recipient,
    normalise_host,
    parse_http_url,
    parse_start_time,
    path_segments,
)

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}", re.ASCII)
# /embed/videoseries?list=… embeds a playlist; the word happens to fit the id pattern.
_PLAYLIST_EMBED = "videoseries"
_SITE_HOSTS = frozenset({"youtube.com", "youtube-nocookie.com"})
# Path prefixes whose next segment is the video id.
_ID_PATHS = frozenset({"shorts", "embed", "live", "v", "e"})
_PLAYER = "https://www.youtube-nocookie.com/embed/"
_THUMBNAIL_HOSTS = frozenset({"i.ytimg.com"})
_OEMBED_WIDTH = 1280
# YouTube rounds its player sizes (200x113 for 16:9); snap those back to the real shape.
_SHAPES = ((16, 9), (9, 16), (4, 3))


class YouTubeProvider(Provider):
    name = "youtube"
    label = "YouTube"
    recipient = Recipient(
        company="Google Ireland Limited",
        address="Gordon House, Barrow Street, Dublin 4, Ireland",
        country_de="Irland, mit Übermittlung an Google LLC in den USA",
        country_en="Ireland, with transfer to Google LLC in the USA",
        transfer_de=(
            "Google übermittelt Daten an Google LLC in den USA auf Grundlage des EU-US Data "
            "Privacy Framework, nach dem Google LLC zertifiziert ist, und Ihrer Einwilligung "
            "(Art. 49 Abs. 1 lit. a DSGVO). Der Player kommt von youtube-nocookie.com; sobald "
            "das Video abgespielt wird, kontaktiert er trotzdem Google"
        ),
        transfer_en=(
            "Google transfers data to Google LLC in the USA based on the EU-US Data Privacy "
            "Framework, under which Google LLC is certified, and on your consent "
            "(Art. 49(1)(a) GDPR). The player comes from youtube-nocookie.com; once the video "
            "plays, it still contacts Google"
        ),
        privacy_url="https://policies.google.com/privacy",
        data_de=(
            "IP-Adresse",
            "Geräte- und Browserdaten",
            "die aufgerufene Seite",
            "Kennungen im Browser-Speicher des Players; wenn Sie bei Google angemeldet sind, "
            "auch Ihr Konto",
        ),
        data_en=(
            "IP address",
            "device and browser data",
            "the page you are on",
            "identifiers in the player's browser storage; if you are logged in to Google, "
            "also your account",
        ),
    )
    upstream_hosts = frozenset({"www.youtube.com", "i.ytimg.com"})
    routes = ("/youtube/{video_id}",)
    consented_sources: ClassVar[CSPSources] = {"frame-src": ("https://www.youtube-nocookie.com",)}
    link_hosts = ("youtube.com", "youtu.be", "youtube-nocookie.com")
    ratio_locked = True
    is_video = True
    lead_text = N_(
        "Video from YouTube (Google, Ireland/USA) – loads only with your consent, then Google "
        "receives your data."
    )
    embed_code = EmbedCode(
        script_hosts=frozenset({"youtube.com"}),
        frame_hosts=frozenset({"youtube.com", "youtube-nocookie.com"}),
    )

    def parse_url(self, url: str) -> EmbedRef | None:
        parts = parse_http_url(url)
        host = normalise_host(parts.hostname or "") if parts else ""
        if parts is None or (host not in _SITE_HOSTS and host != "youtu.be"):
            return None
        segments = path_segments(parts)
        if host == "youtu.be":
            video_id = segments[0] if len(segments) == 1 else ""
        elif segments == ["watch"]:
            video_id = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) >= 2 and segments[0] in _ID_PATHS:
            video_id = segments[1]
        else:
            raise NotEmbeddable(
                "a YouTube page that is not a video (channels and playlists cannot be embedded)"
            )
        if video_id == _PLAYLIST_EMBED:
            raise NotEmbeddable("a YouTube playlist, not a single video")
        if not _VIDEO_ID.fullmatch(video_id):
            raise NotEmbeddable(f"not a valid YouTube video id: {video_id[:40]!r}")
        return self.ref(video_id)

    def item_id_from_path(self, params: Mapping[str, str]) -> str | None:
        video_id = params.get("video_id", "")
        canonical = _VIDEO_ID.fullmatch(video_id) and video_id != _PLAYLIST_EMBED
        return video_id if canonical else None

    async def fetch_metadata(self, ref: EmbedRef, client: UpstreamClient) -> Metadata:
        page = quote(f"https://www.youtube.com/watch?v={ref.item_id}", safe="")
        try:
            data = await client.get_json(
                f"https://www.youtube.com/oembed?url={page}&format=json&maxwidth={_OEMBED_WIDTH}"
            )
        except UpstreamError as error:
            raise ProviderError(_explain(ref, error)) from None
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            raise ProviderError(f"YouTube sent no usable data for video {ref.item_id}")
        return _metadata(data)

    def loaded_view(self, embed: Embed, query: Mapping[str, str], lang: str) -> LoadedView:
        params = {"autoplay": "1", "rel": "0", "hl": lang}
        start = parse_start_time(query.get("t", ""))
        if start:
            params["start"] = str(start)
        return LoadedView(
            "providers/frame_loaded.html",
            {"frame_url": f"{_PLAYER}{embed.item_id}?{urlencode(params)}"},
        )

    def source_url(self, embed: Embed) -> str:
        return f"https://www.youtube.com/watch?v={embed.item_id}"

    def url_query(self, url: str) -> dict[str, str]:
        parts = parse_http_url(url)
        query: dict[str, str] = {}
        for source in (parts.query, parts.fragment) if parts else ():
            params = parse_qs(source)
            start = params.get("t") or params.get("start")
            if start:
                query["t"] = start[0]
        return query

    def passthrough_query(self, query: Mapping[str, str]) -> dict[str, str]:
        start = parse_start_time(query.get("t", "") or query.get("start", ""))
        return {"t": str(start)} if start else {}


def _explain(ref: EmbedRef, error: UpstreamError) -> str:
    if error.status in (400, 404):
        return f"YouTube does not know video {ref.item_id} (wrong id, deleted or private)"
    if error.status in (401, 403):
        return f"YouTube refuses video {ref.item_id} (private or embedding disabled)"
    return f"YouTube could not be asked about video {ref.item_id}: {error.reason}"


def _metadata(data: dict[str, Any]) -> Metadata:
    width, height = _shape(_dimension(data.get("width")), _dimension(data.get("height")))
    return Metadata(
        title=clean_text(data.get("title"), 300),
        author=clean_text(data.get("author_name"), 200),
        author_url=clean_url(data.get("author_url"), hosts={"youtube.com"}),
        width=width,
        height=height,
        thumbnail_url=clean_url(data.get("thumbnail_url"), hosts=_THUMBNAIL_HOSTS) or None,
    )


def _shape(width: int | None, height: int | None) -> tuple[int, int]:
    if not (width and height):
        return 16, 9
    for shape_w, shape_h in _SHAPES:
        if abs(width / height - shape_w / shape_h) < 0.02:
            return shape_w, shape_h
    return width, height


def _dimension(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 < value <= 10_000 else None
