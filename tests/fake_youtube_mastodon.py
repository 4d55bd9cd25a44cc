"""The fake's YouTube and Mastodon parts, on their real paths (see fake_upstream.py).

YouTube: www.youtube.com's ``/oembed`` (shared with X's path; fake_upstream dispatches on
the ``url`` parameter's host) and i.ytimg.com's ``/vi/ID/hqdefault.jpg``.
Mastodon: one instance, ``https://mastodon.example`` (MASTODON_ORIGIN), answering
``/api/oembed``, ``/api/v1/statuses/ID`` and ``/api/v1/accounts/lookup``.
"""

from __future__ import annotations

import html
import io
import re
from urllib.parse import urlsplit

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

# --- YouTube ---------------------------------------------------------------------------------
YOUTUBE_OK = "MSwirtsch01"  # normal, 16:9, thumbnail on i.ytimg.com
YOUTUBE_SHORT = "MSshorts_-9"  # vertical (a Short)
YOUTUBE_PRIVATE = "MSprivate01"  # 401: private or embedding disabled
YOUTUBE_HOSTILE = "MShostile01"  # title and author carry markup; thumbnail on another host
# Any other id: 404.
YOUTUBE_OK_TITLE = "Mittelsachsen von oben"
YOUTUBE_AUTHOR = "Wirtschaftsförderung Mittelsachsen"
YOUTUBE_HOSTILE_TITLE = '<img src=x onerror=alert(1)>"Titel"'

_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}
_VIDEOS = {
    YOUTUBE_OK: (YOUTUBE_OK_TITLE, 200, 113),
    YOUTUBE_SHORT: ("Ausbildung in 30 Sekunden", 113, 200),
    YOUTUBE_HOSTILE: (YOUTUBE_HOSTILE_TITLE, 200, 113),
}


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()


YOUTUBE_JPEG = _jpeg(480, 360)


def is_youtube_url(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _YOUTUBE_HOSTS


async def youtube_oembed(request: Request) -> Response:
    url = request.query_params.get("url", "")
    if request.query_params.get("format", "json") != "json":
        return PlainTextResponse("501 Not Implemented", status_code=501)
    match = re.search(r"[?&]v=([A-Za-z0-9_-]{11})(?:&|$)", url)
    video_id = match.group(1) if match else ""
    if video_id == YOUTUBE_PRIVATE:
        return PlainTextResponse("Unauthorized", status_code=401)
    video = _VIDEOS.get(video_id)
    if video is None:
        return PlainTextResponse("Not Found", status_code=404)
    title, width, height = video
    thumbnail_host = "evil.example" if video_id == YOUTUBE_HOSTILE else "i.ytimg.com"
    return JSONResponse(
        {
            "title": title,
            "author_name": '<b onclick="x()">Evil</b>'
            if video_id == YOUTUBE_HOSTILE
            else YOUTUBE_AUTHOR,
            "author_url": "https://www.youtube.com/@wirtschaftmittelsachsen",
            "type": "video",
            "height": height,
            "width": width,
            "version": "1.0",
            "provider_name": "YouTube",
            "provider_url": "https://www.youtube.com/",
            "thumbnail_height": 360,
            "thumbnail_width": 480,
            "thumbnail_url": f"https://{thumbnail_host}/vi/{video_id}/hqdefault.jpg",
            "html": f'<iframe width="{width}" height="{height}" '
            f'src="https://www.youtube.com/embed/{video_id}?feature=oembed" '
            f'title="{html.escape(title)}"></iframe>',
        }
    )


async def youtube_thumbnail(request: Request) -> Response:
    if request.path_params["video_id"] not in _VIDEOS:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(YOUTUBE_JPEG, media_type="image/jpeg")


# --- Mastodon --------------------------------------------------------------------------------
MASTODON_ORIGIN = "https://mastodon.example"
MASTODON_INSTANCE = "mastodon.example"
MASTODON_USER = "wirtschaft"
MASTODON_NAME = "Wirtschaft Mittelsachsen"
MASTODON_ACCOUNT_URL = f"{MASTODON_ORIGIN}/@{MASTODON_USER}"
MASTODON_POST_OK = "113000000000000001"
MASTODON_POST_OK_2 = "113000000000000002"
MASTODON_POST_HOSTILE = "113000000000000666"
MASTODON_POST_PRIVATE = "113000000000000403"  # visibility "private"
MASTODON_POST_OTHER = "113000000000000777"  # belongs to @someoneelse
MASTODON_OK_TEXT = "Neue Gewerbeflächen in Freiberg"

_STATUSES = {
    MASTODON_POST_OK: (
        MASTODON_USER,
        "public",
        f'<p>{MASTODON_OK_TEXT}: <a href="https://mastodon.example/tags/wirtschaft" '
        'class="mention hashtag" rel="tag">#<span>wirtschaft</span></a></p>',
    ),
    MASTODON_POST_OK_2: (MASTODON_USER, "unlisted", "<p>Tag der Ausbildung am 14. Mai</p>"),
    MASTODON_POST_HOSTILE: (
        MASTODON_USER,
        "public",
        '<p>Gewinnspiel!<script>alert(1)</script><img src="https://evil.example/p.gif" '
        'onerror="alert(2)"><a href="javascript:alert(3)">klick</a>'
        '<iframe src="https://evil.example/"></iframe></p>',
    ),
    MASTODON_POST_PRIVATE: (MASTODON_USER, "private", "<p>Nur für Folgende</p>"),
    MASTODON_POST_OTHER: ("someoneelse", "public", "<p>Fremder Beitrag</p>"),
}


async def mastodon_oembed(request: Request) -> Response:
    url = request.query_params.get("url", "")
    match = re.fullmatch(r"https://mastodon\.example/@([a-z0-9_]+)/([0-9]+)", url)
    status = _STATUSES.get(match.group(2)) if match else None
    if match is None or status is None:
        return PlainTextResponse("Not Found", status_code=404)
    user = status[0]
    status_url = f"{MASTODON_ORIGIN}/@{user}/{match.group(2)}"
    return JSONResponse(
        {
            "type": "rich",
            "version": "1.0",
            "title": f"New status by {user}",
            "author_name": MASTODON_NAME if user == MASTODON_USER else user,
            "author_url": f"{MASTODON_ORIGIN}/@{user}",
            "provider_name": MASTODON_INSTANCE,
            "provider_url": f"{MASTODON_ORIGIN}/",
            "cache_age": 86400,
            "html": f'<iframe src="{status_url}/embed" class="mastodon-embed" width="400" '
            f'allowfullscreen="allowfullscreen"></iframe><script src="{MASTODON_ORIGIN}/embed.js" '
            'async="async"></script>',
            "width": 400,
            "height": None,
        }
    )


async def mastodon_status(request: Request) -> Response:
    status_id = request.path_params["status_id"]
    status = _STATUSES.get(status_id)
    if status is None:
        return JSONResponse({"error": "Record not found"}, status_code=404)
    user, visibility, content = status
    return JSONResponse(
        {
            "id": status_id,
            "url": f"{MASTODON_ORIGIN}/@{user}/{status_id}",
            "visibility": visibility,
            "content": content,
            "account": {"username": user, "acct": user, "display_name": MASTODON_NAME},
        }
    )


async def mastodon_account(request: Request) -> Response:
    acct = request.query_params.get("acct", "")
    if acct.lower() not in (MASTODON_USER, "someoneelse"):
        return JSONResponse({"error": "Record not found"}, status_code=404)
    return JSONResponse(
        {
            "id": "1",
            "username": acct.lower(),
            "acct": acct.lower(),
            "display_name": MASTODON_NAME,
            "url": f"{MASTODON_ORIGIN}/@{acct.lower()}",
        }
    )
