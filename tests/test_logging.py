"""The running service logs no visitor IP address, cookie or token (docs/ARCHITECTURE.md,
"Deliberately not done")."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.applications import Starlette

from .fake_upstream import VIMEO_OK
from .servers import run_embedguard, upstream_map_for

VISITOR_IP = "203.0.113.77"  # documentation range, sent as a forwarded address


def test_logs_hold_no_visitor_data(tmp_path: Path, fake_upstream: tuple[str, Starlette]) -> None:
    env = {
        "EMBEDGUARD_SECRET_KEYS": "logging-test-key-0123456789",
        "EMBEDGUARD_DATA_DIR": str(tmp_path / "data"),
        "EMBEDGUARD_UPSTREAM_MAP": upstream_map_for(fake_upstream[0]),
    }
    log_path = tmp_path / "service.log"
    with run_embedguard(env, "--demo", log_path=log_path) as base:
        headers = {"x-forwarded-for": VISITOR_IP, "x-real-ip": VISITOR_IP}
        with httpx.Client(base_url=base, headers=headers, follow_redirects=False) as client:
            page = f"/vimeo/{VIMEO_OK}"
            client.get(page)
            once = client.post(
                "/consent", data={"provider": "vimeo", "scope": "once", "next": page}
            )
            assert once.status_code == 200
            always = client.post(
                "/consent", data={"provider": "vimeo", "scope": "always", "next": page}
            )
            cookie = always.cookies["eg_consent"]
            client.get(page)
            client.get("/vimeo/0123")
            client.post("/consent", data={"provider": "evil", "next": "//x"})
            client.post("/admin/login", data={"username": "nobody", "password": "wrong-password"})
    log = log_path.read_text()
    running_line = re.compile(r"(Uvicorn running on |demo: )http://127\.0\.0\.1:\d+")
    visible = running_line.sub("", log)
    assert VISITOR_IP not in visible
    assert "127.0.0.1" not in visible, "the client address of the test requests"
    assert cookie not in log
    assert "wrong-password" not in log
