"""A response body prepared once: its compressed variants, their ETags and header lists.

The embed pages and static files answer most traffic with bytes that change only when the
store or the package does. Everything about such a response that does not depend on the
request is computed here once, so serving it is a lookup (see hotpath.py), and the
Starlette views answer from the same object, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .compression import IDENTITY, preferred_codings, variants

RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Representation:
    """The body under one content coding, with the headers a view would send for it."""

    body: bytes
    etag: str | None
    headers: RawHeaders  # for the 200 answer
    not_modified_headers: RawHeaders  # for a 304 to its ETag
    # The view's own Content-Security-Policy and the lists above without it, for answers
    # that add the security headers themselves (security.security_headers).
    policy: bytes | None
    headers_without_policy: RawHeaders
    not_modified_without_policy: RawHeaders


class Prepared:
    def __init__(
        self,
        body: bytes,
        media_type: str,
        headers: Mapping[str, str],
        *,
        etag_length: int | None = None,
    ) -> None:
        """``headers`` are the view's own (cache-control, vary, ...); an ETag of
        ``etag_length`` hex digits of the SHA-256 of the bytes sent is added per coding."""
        encoded = variants(body, media_type)
        own = dict(headers)
        if len(encoded) > 1:
            vary = own.get("vary")
            own["vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
        self._by_coding = {
            coding: _representation(data, coding, media_type, own, etag_length)
            for coding, data in encoded.items()
        }
        self.identity = self._by_coding[IDENTITY]

    def representation(self, accept_encoding: str | None) -> Representation:
        for coding in preferred_codings(accept_encoding):
            found = self._by_coding.get(coding)
            if found is not None:
                return found
        return self.identity  # pragma: no cover - identity is always among the codings

    def response(self, request: Request, *, not_modified: bool = False) -> Response:
        """The Starlette response for a view; ``not_modified`` answers 304 instead."""
        chosen = self.representation(request.headers.get("accept-encoding"))
        if not_modified:
            return RawResponse(304, chosen.not_modified_headers, b"")
        return RawResponse(200, chosen.headers, chosen.body)


class RawResponse(Response):
    """A Response whose header list is already made (Starlette's would rebuild it)."""

    def __init__(self, status_code: int, raw_headers: RawHeaders, body: bytes) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        # A copy: the security middleware edits the list it is given.
        self.raw_headers = list(raw_headers)


def _representation(
    body: bytes,
    coding: str,
    media_type: str,
    own: Mapping[str, str],
    etag_length: int | None,
) -> Representation:
    etag = f'"{hashlib.sha256(body).hexdigest()[:etag_length]}"' if etag_length else None
    named = {**own, "etag": etag} if etag else dict(own)
    base = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in named.items()]
    full = list(base)
    if coding:
        full.append((b"content-encoding", coding.encode("latin-1")))
    full.append((b"content-length", str(len(body)).encode("latin-1")))
    full.append((b"content-type", media_type.encode("latin-1")))
    policy = next((value for name, value in full if name == _CSP), None)
    return Representation(body, etag, full, base, policy, _without_csp(full), _without_csp(base))


_CSP = b"content-security-policy"


def _without_csp(headers: RawHeaders) -> RawHeaders:
    return [(name, value) for name, value in headers if name != _CSP]
