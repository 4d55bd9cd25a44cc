"""embedguard behind a real nginx with the shipped site file (deploy/nginx/embedguard.conf).

The visitor connects from 127.0.0.2 (still loopback), so any trace of its address in a log
line is unambiguous; nginx itself reaches embedguard from 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from embedguard.settings import Settings

from .fake_upstream import VIMEO_OK, VIMEO_OK_2
from .helpers import seed_embeds
from .nginx_harness import SERVER_NAME, Nginx, nginx_binary, run_nginx
from .servers import run_embedguard, upstream_map_for

if nginx_binary() is None and os.environ.get("CI") != "true":
    pytest.skip("nginx is not installed: run scripts/dev test", allow_module_level=True)

VISITOR = "127.0.0.2"
REFERER = "https://www.wirtschaft-in-mittelsachsen.de/geheime-seite?kampagne=herbst"
KEY = "nginx-test-signing-key-0123456789"
PAGE = f"/vimeo/{VIMEO_OK}"
# deploy/README.md promises this for a disabled embed (another process's change).
DISABLE_SECONDS = 1.0


@dataclass(frozen=True)
class Stack:
    nginx: Nginx
    direct: str  # embedguard itself, for /metrics
    service_log: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream: tuple[str, Starlette]
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("nginx-stack")
    env = {
        "EMBEDGUARD_SECRET_KEYS": KEY,
        "EMBEDGUARD_DATA_DIR": str(tmp / "data"),
        "EMBEDGUARD_PUBLIC_URL": f"https://{SERVER_NAME}",
        "EMBEDGUARD_UPSTREAM_MAP": upstream_map_for(fake_upstream[0]),
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    settings = Settings.from_env(env)
    seed_embeds(settings, [f"https://vimeo.com/{VIMEO_OK}", f"https://vimeo.com/{VIMEO_OK_2}"])
    service_log = tmp / "embedguard.log"
    with run_embedguard(env, log_path=service_log) as direct:
        port = int(direct.rsplit(":", 1)[1])
        with run_nginx(port) as nginx:
            yield Stack(nginx, direct, service_log, env)


def visitor(stack: Stack, **options: object) -> httpx.Client:
    """A browser-like client on 127.0.0.2 that trusts only the throwaway certificate."""
    context = ssl.create_default_context(cafile=str(stack.nginx.certificate))
    transport = httpx.HTTPTransport(verify=context, local_address=VISITOR)
    return httpx.Client(
        base_url=stack.nginx.https_url,
        transport=transport,
        headers={"referer": REFERER},
        follow_redirects=False,
        timeout=10,
        **options,  # type: ignore[arg-type]
    )


def _is_loaded(response: httpx.Response) -> bool:
    return response.headers["cache-control"] == "private, no-store"


def _views(stack: Stack) -> float:
    text = httpx.get(f"{stack.direct}/metrics", timeout=5).text
    match = re.search(r'embedguard_usage_events_total\{event="view",provider="vimeo"\} (\S+)', text)
    return float(match.group(1)) if match else 0.0


def _access_lines(stack: Stack, *, at_least: int = 0, matching: str = "") -> list[str]:
    """The access log, once it holds ``at_least`` lines containing ``matching``: nginx
    writes a line after it has sent the response, so a fast client can read too early."""
    log = stack.nginx.logs / "embedguard-access.log"
    deadline = time.monotonic() + 5
    while True:
        lines = log.read_text().splitlines()
        if sum(matching in line for line in lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_tls_http2_and_plain_http_redirect(stack: Stack) -> None:
    port = urlsplit(stack.nginx.https_url).port
    alpn = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-alpn", "h2"],
        input=b"",
        capture_output=True,
        timeout=30,
        check=False,
    )
    # decoded leniently: nginx's first HTTP/2 frame follows the handshake summary
    assert "ALPN protocol: h2" in alpn.stdout.decode("latin-1")
    response = httpx.get(f"{stack.nginx.http_url}{PAGE}?lang=en", timeout=5)
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{SERVER_NAME}{PAGE}?lang=en"
    with visitor(stack) as client:
        page = client.get(PAGE)
    assert page.status_code == 200 and "max-age=" in page.headers["strict-transport-security"]
    assert "nginx/" not in page.headers.get("server", "")


def test_consent_cookie_is_secure_behind_nginx(stack: Stack) -> None:
    with visitor(stack) as client:
        response = client.post(
            "/consent", data={"provider": "vimeo", "scope": "always", "next": PAGE}
        )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("eg_consent=")
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_cached_pages_never_cross_consent_states(stack: Stack) -> None:
    with visitor(stack) as consenting, visitor(stack) as stranger:
        consenting.post("/consent", data={"provider": "vimeo", "scope": "always", "next": PAGE})
        assert consenting.cookies.get("eg_consent"), "the consent cookie came back over https"
        for _ in range(2):
            assert not _is_loaded(stranger.get(PAGE)), "placeholder for the stranger"
            assert _is_loaded(consenting.get(PAGE)), "the player for the one who agreed"
            assert not _is_loaded(stranger.get(PAGE, headers={"cookie": "eg_consent=forged"}))
        placeholder = stranger.get(PAGE)
        poster = re.search(r'src="(/posters/[^"]+)"', placeholder.text)
        assert poster, "the placeholder shows a poster"
        before = sum("/posters/" in line for line in _access_lines(stack))
        for _ in range(2):
            assert stranger.get(poster.group(1)).status_code == 200
    access = _access_lines(stack, at_least=before + 2, matching="/posters/")
    statuses = [line.split()[-1] for line in access if "/posters/" in line]
    assert statuses[-2:] == ["MISS", "HIT"] or statuses[-1] == "HIT", "posters are cached"
    placeholder_hits = [line for line in _access_lines(stack) if PAGE in line and "HIT" in line]
    assert placeholder_hits == [], "embed pages always go to embedguard"


def test_revalidated_placeholder_counts_as_a_view(stack: Stack) -> None:
    with visitor(stack) as client:
        before = _views(stack)
        first = client.get(PAGE)
        etag = first.headers["etag"]
        again = client.get(PAGE, headers={"if-none-match": etag})
        assert again.status_code == 304
    assert _views(stack) == before + 2


def test_limits_and_metrics_at_the_proxy(stack: Stack) -> None:
    with visitor(stack) as client:
        assert client.get(PAGE, headers={"x-big": "a" * 20_000}).status_code in (400, 431)
        big = client.post("/consent", content=b"provider=vimeo&" + b"x" * 100_000)
        assert big.status_code == 413
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"authorization": "Bearer x"}).status_code == 404


def test_disabled_embed_disappears_within_the_documented_time(stack: Stack) -> None:
    page = f"/vimeo/{VIMEO_OK_2}"
    with visitor(stack) as client:
        assert client.get(page).status_code == 200
        subprocess.run(
            [sys.executable, "-m", "embedguard", "embed", "disable", f"vimeo:{VIMEO_OK_2}"],
            env={**os.environ, **stack.env},
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + DISABLE_SECONDS
        while client.get(page).status_code != 404:
            assert time.monotonic() < deadline, f"still shown after {DISABLE_SECONDS} s"
            time.sleep(0.05)


def test_no_visitor_address_referer_or_token_in_any_log(stack: Stack) -> None:
    with visitor(stack) as client:
        client.get(PAGE, params={"lang": "en"})
        once = client.post("/consent", data={"provider": "vimeo", "scope": "once", "next": PAGE})
        secrets = [value for value in once.cookies.values()]
        location = once.headers.get("location", "")
        secrets += [v for values in parse_qs(urlsplit(location).query).values() for v in values]
        if location:
            client.get(location)
        always = client.post(
            "/consent", data={"provider": "vimeo", "scope": "always", "next": PAGE}
        )
        secrets.append(always.cookies["eg_consent"])
        client.get(PAGE)
        client.get("/vimeo/0123")
        client.get("/no-such-page")
        client.get(PAGE, headers={"x-big": "a" * 20_000})
        client.post("/consent", content=b"x" * 100_000)
        client.post("/admin/login", data={"username": "nobody", "password": "wrong-password"})
    access = _access_lines(stack, at_least=1, matching="/admin/login")  # the last request
    assert any(f'"GET {PAGE}"' in line for line in access), "the access log is on, as shipped"
    assert all(re.match(r"^\d{4}-\d\d-\d\dT", line) for line in access)
    logs = {path.name: path.read_text(errors="replace") for path in stack.nginx.logs.iterdir()}
    logs["embedguard"] = stack.service_log.read_text(errors="replace")
    for name, text in logs.items():
        assert VISITOR not in text, f"visitor address in {name}"
        assert "geheime-seite" not in text and "kampagne" not in text, f"Referer in {name}"
        assert "wrong-password" not in text, name
        for secret in secrets:
            assert secret not in text, f"a consent token or cookie in {name}"
        assert "consent=" not in text, f"a load-once query string in {name}"
