"""A small forward proxy on 127.0.0.1 that records every request it relays.

Plain-HTTP requests arrive in absolute form (``GET http://host:port/path``) and are relayed
with ``Connection: close``; ``CONNECT host:port`` opens a tunnel. Every loop is bounded by
the socket timeouts, so a stuck peer cannot hold up a test.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

TIMEOUT = 10.0
MAX_HEADER_BYTES = 64 * 1024


class _Handler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(TIMEOUT)
        head = _read_head(client)
        if not head:
            return
        request_line, _, rest = head.partition(b"\r\n")
        method, target, _version = request_line.decode("latin-1").split(" ", 2)
        self.server.log.append(f"{method} {target}")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _tunnel(client, upstream)
            return
        url = urlsplit(target)
        path = url.path + (f"?{url.query}" if url.query else "")
        headers = [
            line
            for line in rest.split(b"\r\n")
            if line and not line.lower().startswith((b"proxy-", b"connection:"))
        ]
        forwarded = b"\r\n".join(
            [f"{method} {path} HTTP/1.1".encode(), *headers, b"Connection: close", b"", b""]
        )
        with socket.create_connection((url.hostname, url.port or 80), timeout=TIMEOUT) as upstream:
            upstream.sendall(forwarded)
            while chunk := upstream.recv(65536):
                client.sendall(chunk)


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_HEADER_BYTES:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def _tunnel(a: socket.socket, b: socket.socket) -> None:
    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=pump, args=(b, a), daemon=True)
    other.start()
    pump(a, b)
    other.join(TIMEOUT)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[str] = []


@contextlib.contextmanager
def logging_proxy() -> Iterator[tuple[str, list[str]]]:
    """Yield the proxy URL and the list of request lines it has relayed so far."""
    server = _ProxyServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        port = server.server_address[1]
        yield f"http://127.0.0.1:{port}", server.log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
