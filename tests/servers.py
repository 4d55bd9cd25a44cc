"""Real servers on loopback for tests: an ASGI app in a thread, or embedguard as a process."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"
START_TIMEOUT = 20.0

# The real upstream origins embedguard fetches from; tests map each one to the fake.
UPSTREAM_ORIGINS = (
    "https://vimeo.com",
    "https://i.vimeocdn.com",
    "https://publish.twitter.com",
    "https://publish.x.com",
    "https://www.youtube.com",
    "https://i.ytimg.com",
    "https://mastodon.example",
)


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def upstream_map_for(base_url: str) -> str:
    """`EMBEDGUARD_UPSTREAM_MAP` JSON that sends every known upstream origin to `base_url`."""
    return json.dumps(dict.fromkeys(UPSTREAM_ORIGINS, base_url.rstrip("/")))


@contextlib.contextmanager
def run_asgi_in_thread(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` with uvicorn in a daemon thread; yield its base URL "http://127.0.0.1:PORT".

    The socket is bound before the thread starts (port 0), so there is no race for the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,  # leave the test process's logging alone
        log_level="warning",
        access_log=False,
        lifespan="auto",
        ws="none",
        # a request left hanging (the fake's slow video) must not hold up the test run
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise ServerStartError(f"uvicorn thread for {app!r} died during start-up")
            if time.monotonic() > deadline:
                raise ServerStartError(f"uvicorn for {app!r} did not start in {timeout} s")
            time.sleep(0.01)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def _healthz_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def run_embedguard(env: dict[str, str], *args: str, log_path: Path | None = None) -> Iterator[str]:
    """Run `python -m embedguard serve` on a free loopback port; yield its base URL.

    `env` is merged over os.environ; `args` go after `serve --host --port`. Waits for
    `/healthz` to answer 200 (at most START_TIMEOUT seconds, then fails with the process's
    output). The process's stdout and stderr go to `log_path` (default: a temporary file),
    which a test may read while or after it runs, e.g. to check what the logs hold.
    """
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "embedguard", "serve", "--host", HOST, "--port", str(port)]
    command += args
    with contextlib.ExitStack() as stack:
        if log_path is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="embedguard-log-"))
            log_path = Path(tmp) / "embedguard.log"
        log = stack.enter_context(log_path.open("wb"))
        proc = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _healthz_ok(f"{base_url}/healthz"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = (
                        f"exited with {proc.returncode}"
                        if proc.returncode is not None
                        else f"gave no healthy /healthz within {START_TIMEOUT:g} s"
                    )
                    output = log_path.read_text(errors="replace")
                    raise ServerStartError(
                        f"embedguard {why}: {' '.join(command)}\n--- output ---\n{output}"
                    )
                time.sleep(0.1)
            yield base_url
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
