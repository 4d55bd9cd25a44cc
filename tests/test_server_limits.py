"""`embedguard serve` without a proxy: header size, field and time limits, many idle
connections, workers and the importable app. Raw sockets on 127.0.0.1, every loop bounded."""

from __future__ import annotations

import contextlib
import logging
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from embedguard import server
from embedguard.asgi import create
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Embed

from .servers import HOST, run_embedguard

KEY = "server-limits-test-key-0123456789abcdef"
VIDEO = "76979871"
IDLE_CONNECTIONS = 1000


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    data_dir = tmp_path / "data"
    services = Services.build(Settings(secret_keys=(KEY,), data_dir=data_dir))
    services.store.save_embed(Embed(key=f"vimeo:{VIDEO}", provider="vimeo", item_id=VIDEO))
    services.store.close()
    return {
        "EMBEDGUARD_SECRET_KEYS": KEY,
        "EMBEDGUARD_DATA_DIR": str(data_dir),
        "EMBEDGUARD_PUBLIC_URL": "http://127.0.0.1",
    }


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    with run_embedguard(env) as base:
        port = urlsplit(base).port
        assert port
        yield HOST, port


def exchange(address: tuple[str, int], data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes; read until the server closes (bounded by `timeout`)."""
    with socket.create_connection(address, timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close while we still send
            sock.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(received) < 1 << 20:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"connection still open after {timeout} s: {received[:200]!r}")


def request(*headers: bytes) -> bytes:
    lines = [b"GET /healthz HTTP/1.1", b"Host: 127.0.0.1", *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_header_over_16_kb_gets_431_and_is_closed(served: tuple[str, int]) -> None:
    answer = exchange(served, request(b"X-Big: " + b"a" * 20 * 1024))
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"connection: close" in answer.lower()


def test_unfinished_header_over_16_kb_gets_431(served: tuple[str, int]) -> None:
    # No end of headers ever comes: the server must not wait for one, nor keep the bytes.
    answer = exchange(served, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20 * 1024)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_101_fields_get_431_and_100_pass(served: tuple[str, int]) -> None:
    fields = [b"X-Field-%d: 1" % n for n in range(101)]
    assert exchange(served, request(*fields)).startswith(b"HTTP/1.1 431 ")
    # Host plus Connection plus 98: exactly 100 fields.
    assert exchange(served, request(*fields[:98])).startswith(b"HTTP/1.1 200 ")
    assert exchange(served, request(b"X-Big: " + b"a" * 15 * 1024)).startswith(b"HTTP/1.1 200 ")


def test_default_header_timeout_is_ten_seconds() -> None:
    assert server.HEADER_TIMEOUT == 10.0
    protocol = server.options()["http"]
    assert protocol is server.LimitedHttpToolsProtocol
    assert protocol.header_timeout == 10.0
    assert server.MAX_HEADER_BYTES == 16 * 1024 and server.MAX_HEADER_FIELDS == 100


@contextlib.contextmanager
def short_timeout_server(env: dict[str, str], seconds: float) -> Iterator[tuple[str, int]]:
    """The real app behind the protocol with a short header timeout, in a thread."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = create()
    sock = socket.socket()
    sock.bind((HOST, 0))
    options = {**server.options(header_timeout=seconds), "log_config": None}
    config = uvicorn.Config(app, **options, timeout_graceful_shutdown=1)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not runner.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert runner.started
        yield HOST, sock.getsockname()[1]
    finally:
        runner.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_silent_and_slow_clients_are_disconnected(env: dict[str, str]) -> None:
    with short_timeout_server(env, 0.5) as address:
        started = time.monotonic()
        assert exchange(address, b"", timeout=5) == b""
        silent = time.monotonic() - started
        assert 0.4 <= silent < 3
        started = time.monotonic()
        assert exchange(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", timeout=5) == b""
        assert 0.4 <= time.monotonic() - started < 3
        # A complete request in time is answered, and a keep-alive connection that then
        # starts its next request but never finishes it is closed as well.
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            for _ in range(20):  # until the whole JSON body is in
                answer += sock.recv(65536)
                if answer.endswith(b"}"):
                    break
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'"ok"}')
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            started = time.monotonic()
            assert sock.recv(65536) == b""
            assert time.monotonic() - started < 3


def test_a_thousand_idle_connections_do_not_block_others(
    served: tuple[str, int],
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE_CONNECTIONS + 200
    if soft < need:
        assert hard >= need, f"this machine allows only {hard} open files"
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    held: list[socket.socket] = []
    try:
        for n in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(served, timeout=5)
            if n % 2:  # half-open: a request that never ends
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        for path in (b"/healthz", b"/vimeo/" + VIDEO.encode()):
            started = time.monotonic()
            answer = exchange(
                served, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path
            )
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert time.monotonic() - started < 1.0, path
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_repeated_log_lines_are_rate_limited() -> None:
    limiter = server.RateLimitFilter(burst=3, window=60)
    records = [
        logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "accept failed", None, None)
        for _ in range(1000)
    ]
    assert sum(limiter.filter(record) for record in records) == 3
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "other", None, None)
    assert limiter.filter(other)


def processes_serving(port: int) -> tuple[int, list[int]]:
    """(pid of `embedguard serve --port PORT`, the pids of its child processes)."""
    parent = next(
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
        and b"\0--port\0%d" % port in _read(entry / "cmdline")
        and b"embedguard" in _read(entry / "cmdline")
    )
    children = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and f"\nPPid:\t{parent}\n" in _read(entry / "status").decode()
    ]
    return parent, children


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_workers_share_one_port(env: dict[str, str]) -> None:
    with run_embedguard(env, "--workers", "2") as base:
        port = urlsplit(base).port
        assert port
        _, children = processes_serving(port)
        workers = [pid for pid in children if b"spawn_main" in _read(Path(f"/proc/{pid}/cmdline"))]
        assert len(workers) == 2
        etags = set()
        for _ in range(40):
            response = httpx.get(f"{base}/vimeo/{VIDEO}", timeout=5)
            assert response.status_code == 200
            etags.add(response.headers["etag"])
        assert len(etags) == 1  # every worker renders the same page


def test_demo_refuses_several_workers(env: dict[str, str]) -> None:
    from embedguard.cli import main

    assert main(["serve", "--demo", "--workers", "2"]) == 1
    with pytest.raises(SystemExit):
        main(["serve", "--workers", "0"])


def test_connections_get_no_delay_whatever_the_listening_socket_says() -> None:
    class Transport:
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def get_extra_info(self, name: str) -> socket.socket | None:
            return self.sock if name == "socket" else None

    # Like the socket uvicorn binds for several workers: protocol number 0, not TCP.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                server._no_delay(Transport(accepted))  # type: ignore[arg-type]
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_server_log_lines_go_through_the_rate_limit() -> None:
    config = server.log_config()
    assert config["handlers"]["stderr"]["filters"] == ["rate_limit"]
    assert config["loggers"]["asyncio"]["handlers"] == ["stderr"]
    assert config["filters"]["rate_limit"]["()"] == "embedguard.server.RateLimitFilter"


def test_asgi_module_builds_its_app_on_first_use(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from embedguard import asgi

    fresh = importlib.reload(asgi)  # importing alone reads no setting
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = fresh.app
    assert isinstance(app, Starlette) and fresh.app is app
    with TestClient(app) as client:
        assert client.get(f"/vimeo/{VIDEO}").status_code == 200
    with pytest.raises(AttributeError):
        _ = fresh.other
