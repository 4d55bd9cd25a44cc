"""Two `embedguard serve` processes with different data directories on one PostgreSQL:
what one is told, the other knows (embeds and posters, consent, usage, login throttling)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from embedguard import login_throttle
from embedguard.consent import COOKIE_NAME
from embedguard.store import Embed, Store

from .conftest import TEST_KEYS
from .fake_upstream import VIMEO_OK
from .postgres import PostgresServer
from .servers import run_embedguard, upstream_map_for
from .test_admin_support import csrf_from

USER = "anna"
PASSWORD = "ein-richtig-langes-passwort"
PAGE = f"/vimeo/{VIMEO_OK}"
# Logins hash with argon2's full cost; on a busy machine one can take seconds.
TIMEOUT = 30.0
_POSTER = re.compile(r'src="(/posters/[0-9a-f]{20}-\d+\.jpg)"')


@pytest.fixture
def shared(
    tmp_path: Path, postgres_server: PostgresServer, fake_upstream: tuple[str, Starlette]
) -> dict[str, str]:
    """The environment both instances share: keys, the database, the fake upstream."""
    env = {
        "EMBEDGUARD_SECRET_KEYS": ",".join(TEST_KEYS),
        "EMBEDGUARD_DATABASE_URL": postgres_server.create_database(),
        "EMBEDGUARD_UPSTREAM_MAP": upstream_map_for(fake_upstream[0]),
        "EMBEDGUARD_PUBLIC_URL": "http://embedguard.test",
    }
    subprocess.run(
        [sys.executable, "-m", "embedguard", "user", "add", USER, "--password-stdin"],
        input=PASSWORD,
        text=True,
        env={**os.environ, **env, "EMBEDGUARD_DATA_DIR": str(tmp_path / "cli")},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return env


@pytest.fixture
def instances(shared: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str]]:
    with (
        run_embedguard({**shared, "EMBEDGUARD_DATA_DIR": str(tmp_path / "a")}) as a,
        run_embedguard({**shared, "EMBEDGUARD_DATA_DIR": str(tmp_path / "b")}) as b,
    ):
        yield a, b


def _login(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    token = csrf_from(client.get("/admin/login").text)
    form = {"username": USER, "password": password, "csrf_token": token}
    return client.post("/admin/login", data=form)


def _add_through_admin(client: httpx.Client, url: str) -> None:
    assert _login(client).status_code == 303
    token = csrf_from(client.get("/admin/embeds/add").text)
    form = {"url": url, "title": "", "step": "confirm", "csrf_token": token}
    response = client.post("/admin/embeds/add", data=form)
    assert response.status_code == 303, response.text


def _views(url: str) -> int:
    """Every view counted in the shared database."""
    store = Store(url)
    try:
        return sum(row["count"] for row in store.usage() if row["event"] == "view")
    finally:
        store.close()


def test_embeds_posters_consent_and_throttling_are_shared(
    instances: tuple[str, str],
    tmp_path: Path,
    upstream_requests: list[Any],
) -> None:
    a_url, b_url = instances
    with (
        httpx.Client(base_url=a_url, timeout=TIMEOUT) as a,
        httpx.Client(base_url=b_url, timeout=TIMEOUT) as b,
    ):
        assert b.get(PAGE).status_code == 404  # B has seen (and cached) "not allowed"

        _add_through_admin(a, f"https://vimeo.com/{VIMEO_OK}")
        added = time.monotonic()
        upstream_requests.clear()
        while (page := b.get(PAGE)).status_code == 404 and time.monotonic() - added < 5:
            time.sleep(0.05)
        elapsed = time.monotonic() - added
        assert page.status_code == 200 and elapsed < 1.0, f"B served it after {elapsed:.2f} s"

        poster = _POSTER.search(page.text)
        assert poster, "the placeholder shows the poster"
        from_b = b.get(poster.group(1))
        assert from_b.status_code == 200 and from_b.headers["content-type"] == "image/jpeg"
        assert from_b.content == a.get(poster.group(1)).content
        assert not list((tmp_path / "b" / "posters").glob("*.webp")), "only what was asked for"
        assert upstream_requests == [], "B asked no provider for anything"

        consent = a.post("/consent", data={"provider": "vimeo", "scope": "always", "next": PAGE})
        assert consent.status_code == 303
        cookie = consent.cookies[COOKIE_NAME]
        loaded = httpx.get(f"{b_url}{PAGE}", cookies={COOKIE_NAME: cookie}, timeout=TIMEOUT)
        assert loaded.status_code == 200 and "player.vimeo.com" in loaded.text

    with (
        httpx.Client(base_url=a_url, timeout=TIMEOUT) as a,
        httpx.Client(base_url=b_url, timeout=TIMEOUT) as b,
    ):
        for _ in range(login_throttle.MAX_PAIR_FAILURES):
            assert _login(a, "wrong-password-1234").status_code == 401
        assert _login(b, "wrong-password-1234").status_code == 429
        assert _login(b).status_code == 429, "throttled before the password is checked"
    assert upstream_requests == []


def test_usage_counts_from_both_instances_add_up(shared: dict[str, str], tmp_path: Path) -> None:
    counts = {"a": 3, "b": 2}
    with (
        run_embedguard({**shared, "EMBEDGUARD_DATA_DIR": str(tmp_path / "a")}) as a_url,
        run_embedguard({**shared, "EMBEDGUARD_DATA_DIR": str(tmp_path / "b")}) as b_url,
    ):
        _allow_directly(shared["EMBEDGUARD_DATABASE_URL"])
        for base, n in ((a_url, counts["a"]), (b_url, counts["b"])):
            deadline = time.monotonic() + 2
            while (
                httpx.get(f"{base}{PAGE}", timeout=TIMEOUT).status_code == 404
                and time.monotonic() < deadline
            ):
                time.sleep(0.1)
            for _ in range(n - 1):
                assert httpx.get(f"{base}{PAGE}", timeout=TIMEOUT).status_code == 200
    # Both stopped: each wrote its pending counts on the way out.
    assert _views(shared["EMBEDGUARD_DATABASE_URL"]) == sum(counts.values())


def _allow_directly(url: str) -> None:
    store = Store(url)
    try:
        store.save_embed(Embed(key=f"vimeo:{VIMEO_OK}", provider="vimeo", item_id=str(VIMEO_OK)))
    finally:
        store.close()
