"""Debian's nginx on loopback with the SHIPPED site file (deploy/nginx/embedguard.conf),
rendered for test ports, a throwaway self-signed certificate and paths under one temporary
directory. As root, nginx runs as nobody; otherwise as the current user."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .servers import HOST, ServerStartError, free_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_SITE = ROOT / "deploy" / "nginx" / "embedguard.conf"
SERVER_NAME = "einbettung.example.de"
NOBODY = 65534
START_TIMEOUT = 15.0


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


@dataclass(frozen=True)
class Nginx:
    https_url: str
    http_url: str
    directory: Path
    certificate: Path

    @property
    def logs(self) -> Path:
        return self.directory / "logs"


def render_site(directory: Path, https_port: int, http_port: int, upstream_port: int) -> str:
    """The shipped file with every machine-specific value swapped; each must still exist."""
    text = SHIPPED_SITE.read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen {HOST}:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen {HOST}:{http_port};",
        "listen [::]:80;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        f"/etc/letsencrypt/live/{SERVER_NAME}/": f"{directory}/tls/",
        "/var/cache/nginx/embedguard": f"{directory}/cache",
        "/var/log/nginx/": f"{directory}/logs/",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/embedguard.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def _main_config(directory: Path) -> str:
    # Like Debian's /etc/nginx/nginx.conf: a global access log in the combined format (with
    # client addresses) that the site must override, and the default error log level.
    temp = directory / "tmp"
    return f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/logs/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {directory}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/site.conf;
}}
"""


def _certificate(tls: Path) -> None:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem"),
            "-subj", f"/CN={SERVER_NAME}",
            "-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:{HOST}",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@contextlib.contextmanager
def run_nginx(upstream_port: int) -> Iterator[Nginx]:
    binary = nginx_binary()
    assert binary, "nginx is not installed (scripts/dev installs Debian's nginx)"
    directory = Path(tempfile.mkdtemp(prefix="embedguard-nginx-"))
    try:
        for sub in ("tls", "cache", "logs", "tmp"):
            (directory / sub).mkdir()
        _certificate(directory / "tls")
        https_port, http_port = free_port(), free_port()
        site = render_site(directory, https_port, http_port, upstream_port)
        (directory / "site.conf").write_text(site)
        (directory / "nginx.conf").write_text(_main_config(directory))
        as_nobody = os.geteuid() == 0
        if as_nobody:
            directory.chmod(0o755)
            for path in [directory, *directory.rglob("*")]:
                os.chown(path, NOBODY, NOBODY)
        command = [
            binary, "-p", str(directory), "-c", str(directory / "nginx.conf"),
            "-e", str(directory / "logs" / "startup.log"), "-g", "daemon off;",
        ]  # fmt: skip
        ids = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if as_nobody else {}
        test = subprocess.run([*command, "-t"], capture_output=True, text=True, **ids)  # type: ignore[call-overload]
        if test.returncode != 0:
            raise ServerStartError(f"nginx -t failed:\n{test.stderr}")
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, **ids)  # type: ignore[call-overload]
        try:
            _wait_listening(proc, https_port, directory)
            yield Nginx(
                https_url=f"https://{HOST}:{https_port}",
                http_url=f"http://{HOST}:{http_port}",
                directory=directory,
                certificate=directory / "tls" / "fullchain.pem",
            )
        finally:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, directory: Path) -> None:
    import socket

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError, urllib.error.URLError):
            socket.create_connection((HOST, port), timeout=1).close()
            return
        time.sleep(0.05)
    startup = (directory / "logs" / "startup.log").read_text(errors="replace")
    raise ServerStartError(f"nginx did not start on {port}:\n{startup}")
