"""Static files served from memory.

They are few and small; reading them once beats a thread hop and a file read per request
(figures in docs/ARCHITECTURE.md, "Storage and caching"). URLs carry a content hash, so
responses can be cached forever.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from .minify import minify_css, minify_js
from .prepared import Prepared

IMMUTABLE = "public, max-age=31536000, immutable"
_MAX_FILE_SIZE = 2 * 1024 * 1024
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    digest: str
    # The answer to /static/NAME, compressed once (see prepared.py).
    prepared: Prepared


class Assets:
    def __init__(self, directory: Path) -> None:
        self._files: dict[str, Asset] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.stat().st_size <= _MAX_FILE_SIZE:
                self._files[path.relative_to(directory).as_posix()] = _load(path)

    def url(self, name: str) -> str:
        """The cache-busting URL of a static file; a missing one is a bug, so raise."""
        return f"/static/{name}?v={self._files[name].digest}"

    def get(self, name: str) -> Asset | None:
        return self._files.get(name)

    async def endpoint(self, request: Request) -> Response:
        asset = self._files.get(request.path_params["path"])
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        etag = asset.prepared.representation(request.headers.get("accept-encoding")).etag
        not_modified = request.headers.get("if-none-match") == etag
        return asset.prepared.response(request, not_modified=not_modified)


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    if path.suffix == ".css":
        body = minify_css(body.decode("utf-8")).encode("utf-8")
    elif path.suffix == ".js":
        body = minify_js(body.decode("utf-8")).encode("utf-8")
    media_type = (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    prepared = Prepared(body, media_type, {"cache-control": IMMUTABLE}, etag_length=16)
    return Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16], prepared)
