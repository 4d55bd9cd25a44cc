"""Login throttling per (account, client), the account back-off, the global cap, the bound
on password checks at once, and `embedguard user unlock`."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import login_throttle, password_checks, users
from embedguard.cli import main
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Store
from embedguard.views.admin import login as login_view

from .conftest import TEST_KEYS
from .servers import run_asgi_in_thread
from .test_admin_support import (
    PASSWORD,
    USER,
    FakeClock,
    account,  # noqa: F401
    clock,  # noqa: F401
    csrf_from,
    fast_hashing,  # noqa: F401
    login_token,
)

WRONG = "falsch-falsch-falsch"
FLOOD = 30


def login_token_of(client: httpx.Client) -> str:
    return csrf_from(client.get("/admin/login").text)


def attempt(client: TestClient, password: str = WRONG, name: str = USER) -> int:
    data = {"username": name, "password": password, "csrf_token": login_token(client)}
    return client.post("/admin/login", data=data).status_code


@pytest.fixture
def visitor_client(app: Starlette) -> Iterator[Callable[[str], TestClient]]:
    """TestClients that come from the given address."""
    clients: list[TestClient] = []

    def make(host: str) -> TestClient:
        test_client = TestClient(app, follow_redirects=False, client=(host, 40000))
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def test_failures_from_other_clients_never_lock_out_the_owner(
    visitor_client: Callable[[str], TestClient], account: str, clock: FakeClock
) -> None:
    for n in range(12):
        attacker = visitor_client(f"203.0.113.{n}")
        for _ in range(login_throttle.MAX_PAIR_FAILURES):
            assert attempt(attacker) in (401, 429)
        assert attempt(attacker) == 429
    owner = visitor_client("198.51.100.7")
    assert attempt(owner, PASSWORD) == 303


def test_an_account_under_attack_slows_down_clients_that_failed(
    visitor_client: Callable[[str], TestClient], account: str, clock: FakeClock
) -> None:
    for n in range(login_throttle.ACCOUNT_UNDER_ATTACK):
        assert attempt(visitor_client(f"203.0.113.{n}")) == 401
    slow = visitor_client("203.0.113.200")
    assert attempt(slow) == 401, "its first try is not held back"
    assert attempt(slow) == 429, "its second waits for the back-off"
    clock.advance(login_throttle.BACKOFF_SECONDS + 1)
    assert attempt(slow) == 401
    clock.advance(login_throttle.BACKOFF_SECONDS + 1)
    assert attempt(slow) == 429, "the back-off doubles"
    clock.advance(login_throttle.BACKOFF_SECONDS)
    assert attempt(slow) == 401


def test_a_global_flood_is_capped(
    visitor_client: Callable[[str], TestClient], account: str, clock: FakeClock
) -> None:
    for n in range(login_throttle.MAX_GLOBAL_FAILURES):
        assert attempt(visitor_client(f"203.0.113.{n}"), name=f"user{n}") == 401
    dirty = visitor_client("203.0.113.1")
    assert attempt(dirty, name="user1") == 429
    # Clients without failures still get a check now and then: no lockout for the owner.
    clock.advance(login_throttle.GLOBAL_TRICKLE_SECONDS)
    assert attempt(visitor_client("198.51.100.8")) == 401
    assert attempt(visitor_client("198.51.100.9")) == 429, "the next one waits its turn"
    clock.advance(login_throttle.GLOBAL_TRICKLE_SECONDS)
    assert attempt(visitor_client("198.51.100.7"), PASSWORD) == 303
    clock.advance(login_throttle.GLOBAL_WINDOW + 1)
    assert attempt(dirty, name="user1") == 401


def test_a_full_limiter_answers_503_at_once_and_counts_nothing(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    held = [password_checks.reserve() for _ in range(password_checks.MAX_CONCURRENT_CHECKS)]
    assert all(held)
    try:
        assert attempt(client, PASSWORD) == 503
    finally:
        for _ in held:
            password_checks.release()
    assert services.store._query("SELECT count(*) AS n FROM login_failures")[0]["n"] == 0
    assert attempt(client, PASSWORD) == 303


def test_success_strikes_off_its_own_attempt_and_the_pairs_failures(
    client: TestClient, services: Services, account: str, clock: FakeClock
) -> None:
    for _ in range(login_throttle.MAX_PAIR_FAILURES - 1):
        assert attempt(client) == 401
    assert attempt(client, PASSWORD) == 303
    client.cookies.clear()
    for _ in range(login_throttle.MAX_PAIR_FAILURES):
        assert attempt(client) == 401
    assert attempt(client) == 429


def test_client_keys_agree_across_processes_and_follow_the_signing_key() -> None:
    first = login_throttle.client_subject("192.0.2.1", login_throttle.client_key(TEST_KEYS))
    again = login_throttle.client_subject("192.0.2.1", login_throttle.client_key(TEST_KEYS))
    other = login_throttle.client_subject("192.0.2.1", login_throttle.client_key(("other",)))
    assert first == again != other
    assert "192.0.2.1" not in first


def test_parallel_attempts_are_counted_before_any_check(tmp_path: Path) -> None:
    # What each of N racing requests does before its password check: one at a time.
    store = Store(tmp_path / "db.sqlite")
    began = [login_throttle.begin(store, USER, "client:x", 1000.0) for _ in range(30)]
    assert sum(a is not None for a in began) == login_throttle.MAX_PAIR_FAILURES


def test_user_unlock_clears_an_accounts_failures(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fast_hashing: None,
) -> None:
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", TEST_KEYS[0])
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(tmp_path / "data"))
    settings = Settings(secret_keys=(TEST_KEYS[0],), data_dir=tmp_path / "data")
    services = Services.build(settings)
    services.store.set_user(USER, "x")
    services.store.set_user("andere", "x")
    now = 1000.0
    for client in ("client:a", "client:b"):
        for _ in range(login_throttle.MAX_PAIR_FAILURES):
            login_throttle.begin(services.store, USER, client, now)
    login_throttle.begin(services.store, "andere", "client:a", now)
    assert login_throttle.begin(services.store, USER, "client:a", now) is None
    services.store.close()

    assert main(["user", "unlock", USER]) == 0
    assert f"{USER}: unlocked" in capsys.readouterr().out
    store = Store(settings.database_path)
    subjects = {row["subject"] for row in store._query("SELECT subject FROM login_failures")}
    assert not any(USER in subject for subject in subjects)
    assert "user:andere" in subjects, "other accounts keep theirs"
    assert login_throttle.begin(store, USER, "client:a", now) is not None

    assert main(["user", "unlock", "niemand"]) == 1
    err = capsys.readouterr().err.strip()
    assert "niemand" in err and len(err.splitlines()) == 1


def test_parallel_logins_beyond_the_limit_are_never_checked(
    app: Starlette,
    services: Services,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Room for every request at once, and slow checks: only the count can hold them back.
    monkeypatch.setattr(password_checks, "_slots", threading.BoundedSemaphore(FLOOD))
    monkeypatch.setattr(password_checks, "_pool", ThreadPoolExecutor(max_workers=FLOOD))
    checked: list[str] = []

    def slow_verify(store: Store, name: str, password: str) -> bool:
        checked.append(name)
        time.sleep(0.3)
        return users.verify_password(store, name, password)

    monkeypatch.setattr(login_view, "verify_password", slow_verify)
    with run_asgi_in_thread(app) as base:
        forms = []
        for _ in range(FLOOD):
            client = httpx.Client(base_url=base, timeout=30)
            token = login_token_of(client)
            forms.append((client, {"username": USER, "password": WRONG, "csrf_token": token}))
        with ThreadPoolExecutor(max_workers=FLOOD) as pool:
            statuses = list(
                pool.map(lambda f: f[0].post("/admin/login", data=f[1]).status_code, forms)
            )
        for client, _ in forms:
            client.close()
    assert len(checked) <= login_throttle.MAX_PAIR_FAILURES, statuses
    assert statuses.count(401) == len(checked)
    assert statuses.count(429) == FLOOD - len(checked)
