"""A fake of every upstream embedguard talks to, on one origin, answering the real paths.

It stands in for vimeo.com (`/api/oembed.json`), i.vimeocdn.com (`/video/{name}`),
publish.twitter.com and publish.x.com (`/oembed`), and platform.x.com's `/widgets.js`
(a well-behaved stand-in; `/hostile/widgets.js` is a compromised one); YouTube and a
Mastodon instance in fake_youtube_mastodon.py. Point `EMBEDGUARD_UPSTREAM_MAP` at it
(see `tests/servers.py: upstream_map_for`). Each behaviour is keyed by a video or post id,
exported below as a constant, so tests name the case they exercise.

Every request it receives is recorded in `app.state.requests` (a list of `RecordedRequest`),
so a test can assert that no upstream call happened; `app.state.requests.clear()` resets.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import fake_youtube_mastodon

# --- Vimeo videos, by behaviour ---------------------------------------------------------
VIMEO_OK = 76979871  # normal, 1280x720
VIMEO_OK_2 = 76979872  # a second normal video, 16:9, its own thumbnail
VIMEO_UNLISTED = 11111111  # 404 unless the url carries VIMEO_UNLISTED_HASH; then no thumbnail
VIMEO_UNLISTED_HASH = "abc123def0"
VIMEO_FORBIDDEN = 22222222  # 403: embedding disabled
VIMEO_GARBAGE = 33333333  # 200, content-type application/json, body is not JSON
VIMEO_THUMB_404 = 44444444  # metadata fine, its thumbnail URL answers 404
VIMEO_HOSTILE = 55555555  # title, author and description carry markup and script
VIMEO_SLOW = 66666666  # answers only after SLOW_SECONDS (timeout test)
VIMEO_VERTICAL = 77777777  # 1080x1920 with a portrait thumbnail
VIMEO_THUMB_WRONG_TYPE = 88888888  # metadata fine, its thumbnail URL answers text/html
# Any other id: 404.

SLOW_SECONDS = 10.0

VIMEO_OK_TITLE = "Leben und Arbeiten in Mittelsachsen"
VIMEO_OK_AUTHOR = "Wirtschaftsförderung Mittelsachsen"
VIMEO_OK_2_TITLE = "Fachkräfte gesucht: Ausbildung im Landkreis"
VIMEO_AUTHOR_URL = "https://vimeo.com/wirtschaftmittelsachsen"
VIMEO_HOSTILE_TITLE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
VIMEO_HOSTILE_AUTHOR = '<b onmouseover="alert(2)">Evil</b> <a href="javascript:alert(3)">Corp</a>'

# --- Thumbnails on i.vimeocdn.com --------------------------------------------------------
THUMB_BASE = "https://i.vimeocdn.com"
THUMB_OK = f"{THUMB_BASE}/video/1000001-aaaa-d_1280x720"
THUMB_OK_2 = f"{THUMB_BASE}/video/1000002-bbbb-d_1280x720"
THUMB_MISSING = f"{THUMB_BASE}/video/1000004-dddd-d_1280x720"  # answers 404
THUMB_HOSTILE = f"{THUMB_BASE}/video/1000005-eeee-d_1280x720"
THUMB_PORTRAIT = f"{THUMB_BASE}/video/1000007-gggg-d_1080x1920"
THUMB_HTML = f"{THUMB_BASE}/video/1000009-html"  # answers text/html

# --- X / Twitter ---------------------------------------------------------------------------
X_HANDLE = "mswirtschaft"
X_AUTHOR_NAME = "Wirtschaft Mittelsachsen"
X_POST_OK = "1790000000000000001"
X_POST_OK_2 = "1790000000000000002"
X_POST_HOSTILE = "1790000000000000666"
X_POST_404 = "1790000000000000404"
X_POST_OK_URL = f"https://twitter.com/{X_HANDLE}/status/{X_POST_OK}"
X_TIMELINE_URL = f"https://twitter.com/{X_HANDLE}"
X_WIDGETS_SCRIPT = (
    '\n<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
)

_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}
_X_HOSTS = {"twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com", "www.x.com"}
_DIGITS = re.compile(r"[0-9]+")
_TRUE = {"1", "true", "t", "on", "yes"}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str  # the raw query string
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, last value wins."""
        return {k: v[-1] for k, v in parse_qs(self.query, keep_blank_values=True).items()}


# --- Images, made once ---------------------------------------------------------------------


def _jpeg(width: int, height: int, tint: tuple[int, int, int]) -> bytes:
    """A diagonal-ish gradient in the given tint, so each picture is recognisable."""
    ramp = Image.linear_gradient("L").resize((width, height))
    flipped = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    channels = [
        (ramp if i % 2 == 0 else flipped).point([(v + c) // 2 for v in range(256)])
        for i, c in enumerate(tint)
    ]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, "JPEG", quality=80)
    return out.getvalue()


LANDSCAPE_JPEG = _jpeg(1280, 720, (30, 90, 160))
LANDSCAPE_2_JPEG = _jpeg(1280, 720, (40, 150, 60))
PORTRAIT_JPEG = _jpeg(1080, 1920, (170, 60, 40))

# picture id (the part of the name before the first "-" or "_") -> image
_PICTURES: dict[str, bytes] = {
    "1000001": LANDSCAPE_JPEG,
    "1000002": LANDSCAPE_2_JPEG,
    "1000005": LANDSCAPE_JPEG,
    "1000007": PORTRAIT_JPEG,
}


# --- Vimeo oEmbed --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Video:
    title: str
    author_name: str
    author_url: str
    description: str
    duration: int
    width: int
    height: int
    thumbnail_url: str | None
    upload_date: str = "2024-03-12 09:15:02"


_VIDEOS: dict[int, _Video] = {
    VIMEO_OK: _Video(
        VIMEO_OK_TITLE,
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "Unternehmen, Menschen und Landschaft zwischen Freiberg und Döbeln.",
        154,
        1280,
        720,
        THUMB_OK,
    ),
    VIMEO_OK_2: _Video(
        VIMEO_OK_2_TITLE,
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "Ausbildungsbetriebe im Landkreis stellen sich vor.",
        212,
        1920,
        1080,
        THUMB_OK_2,
        "2024-06-03 14:40:11",
    ),
    VIMEO_UNLISTED: _Video(
        "Interner Messerundgang 2024",
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "",
        98,
        1280,
        720,
        None,
    ),
    VIMEO_THUMB_404: _Video(
        "Gründerpreis Mittelsachsen",
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "",
        75,
        1280,
        720,
        THUMB_MISSING,
    ),
    VIMEO_HOSTILE: _Video(
        VIMEO_HOSTILE_TITLE,
        VIMEO_HOSTILE_AUTHOR,
        "javascript:alert(4)",
        '<iframe src="https://evil.example/"></iframe><script>alert(5)</script>',
        60,
        1280,
        720,
        THUMB_HOSTILE,
    ),
    VIMEO_SLOW: _Video(
        "Langsames Video", VIMEO_OK_AUTHOR, VIMEO_AUTHOR_URL, "", 30, 1280, 720, None
    ),
    VIMEO_VERTICAL: _Video(
        "Hochformat: Ein Tag im Ausbildungszentrum",
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "",
        45,
        1080,
        1920,
        THUMB_PORTRAIT,
    ),
    VIMEO_THUMB_WRONG_TYPE: _Video(
        "Vorschaubild mit falschem Typ",
        VIMEO_OK_AUTHOR,
        VIMEO_AUTHOR_URL,
        "",
        20,
        1280,
        720,
        THUMB_HTML,
    ),
}


def parse_vimeo_url(url: str) -> tuple[int, str | None] | None:
    """(video id, unlisted hash or None) for vimeo.com/ID, vimeo.com/ID/HASH and
    player.vimeo.com/video/ID?h=HASH; None for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in _VIMEO_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if parts.hostname == "player.vimeo.com":
        if len(segments) != 2 or segments[0] != "video":
            return None
        segments = segments[1:]
    if not segments or len(segments) > 2 or not _DIGITS.fullmatch(segments[0]):
        return None
    query_hash = parse_qs(parts.query).get("h", [None])[-1]
    return int(segments[0]), (segments[1] if len(segments) == 2 else query_hash)


def _vimeo_oembed_body(video_id: int, video: _Video, unlisted_hash: str | None) -> dict[str, Any]:
    player = f"https://player.vimeo.com/video/{video_id}"
    player += f"?h={unlisted_hash}&app_id=122963" if unlisted_hash else "?app_id=122963"
    iframe = (
        f'<iframe src="{html.escape(player)}" width="{video.width}" height="{video.height}" '
        'frameborder="0" allow="autoplay; fullscreen; picture-in-picture; clipboard-write; '
        f'encrypted-media" title="{html.escape(video.title)}"></iframe>'
    )
    if video_id == VIMEO_HOSTILE:
        iframe += '<script src="https://evil.example/x.js"></script>'
    body: dict[str, Any] = {
        "type": "video",
        "version": "1.0",
        "provider_name": "Vimeo",
        "provider_url": "https://vimeo.com/",
        "title": video.title,
        "author_name": video.author_name,
        "author_url": video.author_url,
        "is_plus": "0",
        "account_type": "basic",
        "html": iframe,
        "width": video.width,
        "height": video.height,
        "duration": video.duration,
        "description": video.description,
        "upload_date": video.upload_date,
        "video_id": video_id,
        "uri": f"/videos/{video_id}" + (f":{unlisted_hash}" if unlisted_hash else ""),
    }
    if video.thumbnail_url is not None:
        w, h = (1080, 1920) if video.height > video.width else (1280, 720)
        body["thumbnail_url"] = video.thumbnail_url
        body["thumbnail_width"] = w
        body["thumbnail_height"] = h
        body["thumbnail_url_with_play_button"] = (
            f"{THUMB_BASE}/filter/overlay?src0={video.thumbnail_url}"
        )
    return body


def _make_vimeo_oembed(slow_seconds: float) -> Callable[[Request], Awaitable[Response]]:
    async def vimeo_oembed(request: Request) -> Response:
        url = request.query_params.get("url")
        if not url:
            return PlainTextResponse("400 Bad Request: url is required", status_code=400)
        parsed = parse_vimeo_url(url)
        if parsed is None:
            return PlainTextResponse("404 Not Found", status_code=404)
        video_id, unlisted_hash = parsed
        if video_id == VIMEO_FORBIDDEN:
            return PlainTextResponse("403 Forbidden", status_code=403)
        if video_id == VIMEO_GARBAGE:
            return Response(
                b'{"type": "video", "title": \x00\xff<html>garbage',
                media_type="application/json",
            )
        if video_id == VIMEO_SLOW:
            await asyncio.sleep(slow_seconds)
        video = _VIDEOS.get(video_id)
        if video is None:
            return PlainTextResponse("404 Not Found", status_code=404)
        if video_id == VIMEO_UNLISTED:
            if unlisted_hash != VIMEO_UNLISTED_HASH:
                return PlainTextResponse("404 Not Found", status_code=404)
        else:
            unlisted_hash = None
        return JSONResponse(_vimeo_oembed_body(video_id, video, unlisted_hash))

    return vimeo_oembed


async def vimeo_image(request: Request) -> Response:
    name: str = request.path_params["name"]
    if name.startswith("1000009-"):
        return Response(
            "<!doctype html><title>Not an image</title><p>Hello</p>", media_type="text/html"
        )
    picture = _PICTURES.get(re.split(r"[-_.]", name, maxsplit=1)[0])
    if picture is None:
        return PlainTextResponse("404 Not Found", status_code=404)
    return Response(
        picture,
        media_type="image/jpeg",
        headers={"Cache-Control": "max-age=31536000"},
    )


# --- X oEmbed ------------------------------------------------------------------------------


def _post_html(post_id: str, paragraph: str, date: str, dnt: bool) -> str:
    dnt_attr = ' data-dnt="true"' if dnt else ""
    return (
        f'<blockquote class="twitter-tweet"{dnt_attr}><p lang="de" dir="ltr">{paragraph}</p>'
        f"&mdash; {X_AUTHOR_NAME} (@{X_HANDLE}) "
        f'<a href="https://twitter.com/{X_HANDLE}/status/{post_id}?ref_src=twsrc%5Etfw">'
        f"{date}</a></blockquote>"
    )


_POSTS: dict[str, tuple[str, str]] = {
    X_POST_OK: (
        'Neue Fachkräfte-Broschüre ist da! <a href="https://t.co/abc">https://t.co/abc</a>',
        "May 2, 2026",
    ),
    X_POST_OK_2: (
        "Am 14. Mai öffnen 40 Betriebe in Freiberg ihre Türen: Tag der Ausbildung. "
        '<a href="https://t.co/def">https://t.co/def</a>',
        "May 5, 2026",
    ),
    X_POST_HOSTILE: (
        '<span onclick="alert(1)">Gewinnspiel!</span> '
        '<a href="javascript:alert(document.cookie)">Hier klicken</a>'
        '<script>alert("xss")</script>'
        '<iframe src="https://evil.example/frame"></iframe>'
        '<svg onload="alert(2)"><circle r="1"></circle></svg>'
        "<style>body { display: none }</style>"
        '<img src="https://evil.example/pixel.gif" onerror="alert(3)">',
        "May 6, 2026",
    ),
}


def parse_x_url(url: str) -> tuple[str, str | None] | None:
    """(handle, post id or None) for twitter.com/x.com profile and status URLs."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in _X_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) == 1:
        return segments[0], None
    if len(segments) == 3 and segments[1] == "status" and _DIGITS.fullmatch(segments[2]):
        return segments[0], segments[2]
    return None


async def x_oembed(request: Request) -> Response:
    url = request.query_params.get("url")
    if not url:
        return PlainTextResponse("400 Bad Request: url is required", status_code=400)
    parsed = parse_x_url(url)
    if parsed is None or parsed[0].lower() != X_HANDLE:
        return PlainTextResponse("404 Not Found", status_code=404)
    post_id = parsed[1]
    dnt = request.query_params.get("dnt", "").lower() in _TRUE
    omit_script = request.query_params.get("omit_script", "").lower() in _TRUE
    script = "" if omit_script else X_WIDGETS_SCRIPT
    common = {
        "type": "rich",
        "cache_age": "3153600000",
        "provider_name": "Twitter",
        "provider_url": "https://twitter.com",
        "version": "1.0",
        "width": 550,
        "height": None,
    }
    if post_id is None:
        dnt_attr = ' data-dnt="true"' if dnt else ""
        timeline = (
            f'<a class="twitter-timeline"{dnt_attr} href="{X_TIMELINE_URL}">'
            f"Tweets by {X_HANDLE}</a>"
        )
        return JSONResponse(
            {**common, "url": X_TIMELINE_URL, "title": "", "html": timeline + script}
        )
    post = _POSTS.get(post_id)
    if post is None:
        return PlainTextResponse("404 Not Found", status_code=404)
    return JSONResponse(
        {
            **common,
            "url": f"https://twitter.com/{X_HANDLE}/status/{post_id}",
            "author_name": X_AUTHOR_NAME,
            "author_url": X_TIMELINE_URL,
            "html": _post_html(post_id, *post, dnt=dnt) + script,
        }
    )


async def _oembed_by_site(request: Request) -> Response:
    """X and YouTube both answer on /oembed; the ``url`` parameter says whose."""
    if fake_youtube_mastodon.is_youtube_url(request.query_params.get("url", "")):
        return await fake_youtube_mastodon.youtube_oembed(request)
    return await x_oembed(request)


# --- X's widgets.js, as browser tests route platform.x.com/widgets.js to it -------------------
WIDGETS_RENDERED_TEXT = "Rendered by the widgets.js stand-in"
WIDGETS_RENDERED_HEIGHT = 900

_WHEN_READY = """
function whenReady(run) {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}
"""

# Replaces the markup X's script would replace, the way widgets.js does, with a tall box.
GOOD_WIDGETS_JS = (
    _WHEN_READY
    + """
whenReady(function () {
  document.querySelectorAll(".twitter-tweet, .twitter-timeline").forEach(function (old) {
    const box = document.createElement("div");
    box.className = "stand-in-widget";
    box.style.height = "HEIGHTpx";
    box.textContent = "TEXT";
    old.replaceWith(box);
  });
});
""".replace("HEIGHT", str(WIDGETS_RENDERED_HEIGHT)).replace("TEXT", WIDGETS_RENDERED_TEXT)
)

# A compromised widgets.js: tries what a script in embedguard's origin could do, and writes
# what happened into <pre id="hostile-report"> (JSON: attempt -> "blocked" or what leaked).
HOSTILE_WIDGETS_JS = (
    _WHEN_READY
    + """
whenReady(async function () {
  const report = {};
  function note(name, fn) {
    try {
      const value = fn();
      report[name] = value === undefined ? "blocked" : "LEAK: " + String(value);
    } catch (error) {
      report[name] = "blocked";
    }
  }
  note("cookie", function () { return document.cookie; });
  note("localStorage", function () { localStorage.setItem("x", "1"); return "written"; });
  note("sessionStorage", function () { sessionStorage.setItem("x", "1"); return "written"; });
  note("parent", function () { return parent.document.cookie; });
  const body = new URLSearchParams({ provider: "vimeo", scope: "always", next: "/vimeo/76979871" });
  for (const mode of ["cors", "no-cors"]) {
    try {
      const response = await fetch("/consent", {
        method: "POST", mode: mode, credentials: "include", body: body,
      });
      report["fetch-" + mode] = "LEAK: " + response.type + " " + response.status;
    } catch (error) {
      report["fetch-" + mode] = "blocked";
    }
  }
  let popup = null;
  try {
    popup = window.open("/admin/texts", "_blank");
  } catch (error) {
    popup = null;
  }
  await new Promise(function (done) { setTimeout(done, 1500); });
  note("admin-popup", function () {
    if (!popup) {
      return undefined;
    }
    const field = popup.document.querySelector("input[name=csrf_token]");
    return field ? field.value : popup.document.title;
  });
  const out = document.createElement("pre");
  out.id = "hostile-report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
"""
)


async def widgets_js(request: Request) -> Response:
    hostile = request.url.path.startswith("/hostile/")
    body = HOSTILE_WIDGETS_JS if hostile else GOOD_WIDGETS_JS
    return Response(body, media_type="text/javascript")


# --- App -----------------------------------------------------------------------------------


class _Recorder:
    """Records every HTTP request before routing, so 404s and bad paths are counted too."""

    def __init__(self, app: ASGIApp, requests: list[RecordedRequest]) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.requests.append(
                RecordedRequest(
                    scope["method"], scope["path"], scope["query_string"].decode(), headers
                )
            )
        await self.app(scope, receive, send)


def create_fake_upstream(*, slow_seconds: float = SLOW_SECONDS) -> Starlette:
    """The fake upstream app. `slow_seconds`: how long VIMEO_SLOW takes to answer."""
    requests: list[RecordedRequest] = []
    app = Starlette(
        routes=[
            Route("/api/oembed.json", _make_vimeo_oembed(slow_seconds), methods=["GET"]),
            Route("/video/{name}", vimeo_image, methods=["GET"]),
            Route("/oembed", _oembed_by_site, methods=["GET"]),
            Route("/vi/{video_id}/{name}", fake_youtube_mastodon.youtube_thumbnail),
            Route("/api/oembed", fake_youtube_mastodon.mastodon_oembed),
            Route("/api/v1/statuses/{status_id}", fake_youtube_mastodon.mastodon_status),
            Route("/api/v1/accounts/lookup", fake_youtube_mastodon.mastodon_account),
            Route("/widgets.js", widgets_js, methods=["GET"]),
            Route("/hostile/widgets.js", widgets_js, methods=["GET"]),
        ],
        middleware=[Middleware(_Recorder, requests=requests)],
    )
    app.state.requests = requests
    return app
