"""The built-in server: uvicorn with the limits a service facing the internet needs.

uvicorn's httptools parser has no header limits and no header timeout of its own, so the
protocol below adds them: a request whose header block (request line included) passes
16 KB or 100 fields gets 431 and the connection is closed, and a connection that has not
sent its complete headers 10 s after it opened (or after its next request began) is
closed. The open-file limit is raised to the hard limit, so a thousand idle connections do
not starve new ones, and repeated server log lines (accept errors, bad requests) are
rate-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .logconfig import log_config as base_log_config

MAX_HEADER_BYTES = 16 * 1024
MAX_HEADER_FIELDS = 100
HEADER_TIMEOUT = 10.0
# Above this many open connections plus running requests, uvicorn answers 503 at once.
LIMIT_CONCURRENCY = 8192
BACKLOG = 4096
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 32\r\n"
    b"connection: close\r\n\r\n"
    b"Request header fields too large\n"
)


class _HeadTooLarge(Exception):
    pass


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, field and time limits."""

    header_timeout: ClassVar[float] = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # httptools holds an unfinished header in memory: bound it by the bytes seen.
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > MAX_HEADER_BYTES:
                self._refuse()

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head()

    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _start_head(self) -> None:
        self._in_head = True
        self._too_large = False
        self._head_bytes = self._raw_head_bytes = self._head_fields = 0
        self._head_started = self.loop.time()
        # One timer per connection, not per request: when it fires it checks the request
        # under way, so a busy keep-alive connection does not schedule one per request.
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(
                self._head_started + self.header_timeout, self._check_head
            )

    def _check_head(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        deadline = self._head_started + self.header_timeout
        if self.loop.time() >= deadline:
            self.transport.close()
        else:
            self._head_timer = self.loop.call_at(deadline, self._check_head)

    def _count(self, size: int, fields: int) -> None:
        self._head_bytes += size
        self._head_fields += fields
        if self._head_bytes > MAX_HEADER_BYTES or self._head_fields > MAX_HEADER_FIELDS:
            self._too_large = True
            raise _HeadTooLarge  # stops the parser; uvicorn then calls send_400_response

    def _refuse(self) -> None:
        self._in_head = False
        if not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            self.transport.close()


def _no_delay(transport: asyncio.Transport) -> None:
    # asyncio sets TCP_NODELAY only where the socket says IPPROTO_TCP; the one uvicorn binds
    # for several workers says 0, and then every response (headers and body are two
    # writes) waits ~40 ms for a delayed ACK: 2 workers served a tenth of what 1 did.
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def protocol_with_timeout(seconds: float) -> type[LimitedHttpToolsProtocol]:
    """The protocol with another header timeout (tests use a short one)."""
    if seconds == HEADER_TIMEOUT:
        return LimitedHttpToolsProtocol
    return type("ShortTimeoutProtocol", (LimitedHttpToolsProtocol,), {"header_timeout": seconds})


class RateLimitFilter(logging.Filter):
    """Lets through ``burst`` records with the same message per ``window`` seconds; the
    next one let through says how many were dropped. At the open-file limit the accept
    loop would otherwise log the same error thousands of times a second."""

    def __init__(self, name: str = "", burst: int = 5, window: float = 10.0) -> None:
        super().__init__(name)
        self._burst = burst
        self._window = window
        self._seen: dict[tuple[str, object], list[float | int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = (record.name, record.msg)
        state = self._seen.get(key)
        if state is None or now - state[0] >= self._window:
            dropped = int(state[2]) if state else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 256:
                self._seen = {key: self._seen[key]}
            if dropped:
                record.msg = f"{record.msg} ({dropped} similar messages dropped)"
            return True
        if state[1] < self._burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def log_config() -> dict[str, Any]:
    """embedguard's log format (logconfig.py) with the rate limit on every line, and
    asyncio's records (the accept loop's errors) through it as well."""
    config = base_log_config()
    config["filters"] = {"rate_limit": {"()": "embedguard.server.RateLimitFilter"}}
    config["handlers"]["stderr"]["filters"] = ["rate_limit"]
    config["loggers"]["asyncio"] = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return config


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def options(header_timeout: float = HEADER_TIMEOUT) -> dict[str, Any]:
    """uvicorn's settings for embedguard (behind a proxy or not)."""
    return {
        "http": protocol_with_timeout(header_timeout),
        "proxy_headers": True,
        "server_header": False,
        "access_log": False,
        "log_level": "info",
        "log_config": log_config(),
        "limit_concurrency": LIMIT_CONCURRENCY,
        "backlog": BACKLOG,
    }


def serve(app: Any, *, host: str, port: int, workers: int = 1, factory: bool = False) -> None:
    """Run until stopped; several ``workers`` need ``app`` as an import string."""
    raise_open_file_limit()
    uvicorn.run(app, host=host, port=port, workers=workers, factory=factory, **options())
