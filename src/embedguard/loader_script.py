"""``/embed.js`` with its table of recognised hosts filled in from the provider registry.

static/embed.js carries an empty table behind a marker; the table is filled in once per
running service, so no copy of the providers' hosts is kept by hand in the script.
"""

from __future__ import annotations

import functools
import hashlib
import json

from .assets import Asset
from .prepared import Prepared
from .providers import Registry

# A "/*!" comment: the minifier (minify.py) keeps it.
MARKER = b"/*! embedguard:kinds */[]"
LOADER_HEADERS = {
    # The URL has no version hash, so integrators get a changed script within the hour.
    "cache-control": "public, max-age=3600",
    # Host pages on other sites load it with a plain <script src>.
    "cross-origin-resource-policy": "cross-origin",
}


@functools.lru_cache(maxsize=8)
def filled_loader(asset: Asset, registry: Registry) -> Asset:
    """The loader script with the registry's table in place of the marker."""
    if MARKER not in asset.body:
        raise RuntimeError("static/embed.js has lost its embedguard:kinds marker")
    table = json.dumps(registry.loader_kinds(), ensure_ascii=True, separators=(",", ":"))
    # Safe inside a script however a label is spelt: no "</script>" can appear.
    table = table.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    body = asset.body.replace(MARKER, table.encode("ascii"), 1)
    prepared = Prepared(body, asset.media_type, LOADER_HEADERS, etag_length=16)
    return Asset(body, asset.media_type, hashlib.sha256(body).hexdigest()[:16], prepared)
