"""/healthz on a full, failing or read-only data directory; /metrics and who may read it;
the one-line, timestamped log format."""

from __future__ import annotations

import errno
import json
import logging
import logging.config
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import ip_network
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import app as app_module
from embedguard.app import create_app
from embedguard.database import StorageError
from embedguard.logconfig import log_config
from embedguard.metrics import CountingUpstreamClient, Metrics
from embedguard.services import Services
from embedguard.settings import Settings, SettingsError
from embedguard.store import Embed
from embedguard.upstream import UpstreamError

from .fake_upstream import VIMEO_OK

TOKEN = "metrics-token-0123456789abcdef"


def _client(settings: Settings, host: str = "testclient") -> TestClient:
    return TestClient(
        create_app(settings, Services.build(settings)),
        client=(host, 50000),
        follow_redirects=False,
    )


# -- /healthz ---------------------------------------------------------------------------


def test_healthy_service_says_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_free_space_below_the_threshold_is_an_error(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    above = replace(settings, min_free_bytes=2 * shutil.disk_usage(settings.data_dir).free + 1)
    with _client(above) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "reason": "data directory is low on free space"}


def test_a_failing_write_is_an_error(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("embedguard.health.os.fsync", full_disk)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "reason": "data directory cannot be written"}


def test_a_failing_database_is_an_error(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.store, "healthy", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["reason"] == (
        "database cannot be written"
    )


_READ_ONLY_PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from starlette.testclient import TestClient
    from embedguard.app import create_app
    from embedguard.settings import Settings
    settings = Settings(secret_keys=("read-only-test-key-0123",), data_dir=Path(sys.argv[1]))
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    print(json.dumps([response.status_code, response.json()]))
    """
)


def test_a_read_only_data_directory_is_an_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    Services.build(Settings(secret_keys=("read-only-test-key-0123",), data_dir=data_dir))
    probe = [sys.executable, "-c", _READ_ONLY_PROBE, str(data_dir)]
    if os.geteuid() == 0:
        # root writes through file modes: a read-only bind mount in a private mount namespace
        remount = f"mount --bind {data_dir} {data_dir} && mount -o remount,ro,bind {data_dir}"
        command = ["unshare", "--mount", "sh", "-c", f'{remount} && exec "$@"', "sh", *probe]
    else:
        data_dir.chmod(0o555)
        command = probe
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    finally:
        data_dir.chmod(0o755)
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503 and body["status"] == "error"
    assert body["reason"] in ("database cannot be written", "data directory cannot be written")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMBEDGUARD_MIN_FREE_MB", "lots"),
        ("EMBEDGUARD_MIN_FREE_MB", "-1"),
        ("EMBEDGUARD_METRICS_TOKEN", "short"),
        ("EMBEDGUARD_METRICS_NETWORKS", "10.0.0.0/33"),
        ("EMBEDGUARD_METRICS_NETWORKS", "example.org"),
        ("EMBEDGUARD_OUTBOUND_PROXY", "socks5://127.0.0.1:1080"),
        ("EMBEDGUARD_OUTBOUND_PROXY", "http://proxy.example:99999"),
        ("EMBEDGUARD_OUTBOUND_PROXY", "http://proxy.example:3128/path"),
    ],
)
def test_bad_operations_settings_stop_the_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        Settings.from_env({"EMBEDGUARD_SECRET_KEYS": "a-key-of-16-chars-or-more", name: value})


def test_operations_settings_defaults_and_values() -> None:
    base = {"EMBEDGUARD_SECRET_KEYS": "a-key-of-16-chars-or-more"}
    default = Settings.from_env(base)
    assert default.min_free_bytes == 64 * 1024 * 1024
    assert default.metrics_token == "" and default.outbound_proxy == ""
    assert default.metrics_networks == (ip_network("127.0.0.1/32"), ip_network("::1/128"))
    custom = Settings.from_env(
        {
            **base,
            "EMBEDGUARD_MIN_FREE_MB": "500",
            "EMBEDGUARD_METRICS_TOKEN": TOKEN,
            "EMBEDGUARD_METRICS_NETWORKS": "10.1.0.0/16, fd00::/8",
            "EMBEDGUARD_OUTBOUND_PROXY": "http://proxy.lra.local:3128",
        }
    )
    assert custom.min_free_bytes == 500 * 1024 * 1024
    assert custom.metrics_networks == (ip_network("10.1.0.0/16"), ip_network("fd00::/8"))
    assert custom.outbound_proxy == "http://proxy.lra.local:3128"


# -- /metrics ---------------------------------------------------------------------------


@pytest.fixture
def metrics_settings(settings: Settings) -> Settings:
    return replace(settings, metrics_token=TOKEN)


@pytest.mark.parametrize(
    ("host", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.9", {}, 403),
        ("testclient", {}, 403),
        ("203.0.113.9", {"authorization": f"Bearer {TOKEN}"}, 200),
        ("203.0.113.9", {"authorization": f"bearer {TOKEN}"}, 200),
        ("203.0.113.9", {"authorization": "Bearer wrong-token-0123456789abcdef"}, 403),
        ("127.0.0.1", {"authorization": "Bearer wrong-token-0123456789abcdef"}, 403),
        ("203.0.113.9", {"authorization": TOKEN}, 403),
    ],
)
def test_metrics_only_for_configured_networks_or_the_token(
    metrics_settings: Settings, host: str, headers: dict[str, str], status: int
) -> None:
    with _client(metrics_settings, host) as client:
        response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"


def test_without_a_token_setting_no_token_opens_metrics(settings: Settings) -> None:
    with _client(settings, "203.0.113.9") as client:
        assert client.get("/metrics", headers={"authorization": "Bearer "}).status_code == 403


def test_metrics_count_routes_and_events_without_personal_data(
    metrics_settings: Settings,
) -> None:
    services = Services.build(metrics_settings)
    services.store.save_embed(
        Embed(key=f"vimeo:{VIMEO_OK}", provider="vimeo", item_id=str(VIMEO_OK))
    )
    app = create_app(metrics_settings, services)
    with TestClient(app, client=("127.0.0.1", 1), follow_redirects=False) as client:
        page = f"/vimeo/{VIMEO_OK}"
        client.get(page)
        client.get(page, headers={"x-secret": "203.0.113.77"})
        client.get("/vimeo/0123")
        client.get("/no/such/path/secret-token-in-path")
        form = {"provider": "vimeo", "scope": "once", "next": page}
        client.post("/consent", data=form, headers={"cookie": "eg_consent=abc"})
        client.post("/consent/revoke", data={"provider": "vimeo", "next": "/consent"})
        client.get("/admin/login")
        client.get("/admin/no-such-admin-page")
        text = client.get("/metrics").text
    assert 'embedguard_http_requests_total{route="admin_login",status="200"} 1.0' in text
    assert 'embedguard_http_requests_total{route="admin",status="404"} 1.0' in text
    assert 'embedguard_http_requests_total{route="embed_vimeo_0",status="200"} 2.0' in text
    assert 'embedguard_http_requests_total{route="embed_vimeo_0",status="404"} 1.0' in text
    assert 'embedguard_http_requests_total{route="unmatched",status="404"} 1.0' in text
    assert 'embedguard_http_requests_total{route="consent_give",status="200"} 1.0' in text
    assert 'embedguard_usage_events_total{event="view",provider="vimeo"} 2.0' in text
    assert 'embedguard_usage_events_total{event="load_once",provider="vimeo"} 1.0' in text
    assert "embedguard_upstream_errors_total 0.0" in text
    assert "embedguard_usage_flush_failures_total 0.0" in text
    for private in (str(VIMEO_OK), "0123", "secret-token", "no-such", "203.0.113", "127.0.0.1"):
        assert private not in text


async def test_upstream_errors_are_counted(fake_upstream: tuple[str, Starlette]) -> None:
    metrics = Metrics()
    mapping = {"https://vimeo.com": fake_upstream[0]}
    async with CountingUpstreamClient(metrics, ["vimeo.com"], mapping) as upstream:
        await upstream.get_json(
            f"https://vimeo.com/api/oembed.json?url=https://vimeo.com/{VIMEO_OK}"
        )
        assert metrics.upstream_errors == 0
        for url in ("https://vimeo.com/api/oembed.json?url=x", "https://evil.example/"):
            with pytest.raises(UpstreamError):
                await upstream.get_json(url)
    assert metrics.upstream_errors == 2
    assert "embedguard_upstream_errors_total 2.0" in metrics.render().decode()


def test_usage_flush_failures_are_counted(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = Services.build(settings)

    def locked(counts: object, day: str = "") -> None:
        raise StorageError("database is locked")

    monkeypatch.setattr(app_module, "USAGE_FLUSH_SECONDS", 0.05)
    monkeypatch.setattr(services.store, "add_usage", locked)
    services.usage.add("vimeo", "vimeo:1", "view")
    with TestClient(create_app(settings, services)):
        deadline = time.monotonic() + 5
        while services.metrics.usage_flush_failures < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert services.metrics.usage_flush_failures >= 2
        monkeypatch.undo()  # the final flush at shutdown may write again


# -- log format -------------------------------------------------------------------------


@pytest.fixture
def configured_logging() -> Iterator[None]:
    saved = {name: logging.getLogger(name).handlers[:] for name in ("embedguard", "uvicorn")}
    yield
    for name, handlers in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = True


def test_log_lines_carry_time_and_level_one_line_each(
    configured_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(log_config())
    logger = logging.getLogger("embedguard.test")
    logger.warning("first line\nsecond line")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    logging.getLogger("uvicorn.error").info("Started server process")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
    assert all(re.match(rf"^{stamp} (WARNING|ERROR|INFO) ", line) for line in lines)
    assert "first line\\nsecond line" in lines[0]
    assert "Traceback" in lines[1] and "ValueError: boom" in lines[1]
