"""Helpers for the admin tests (no tests here): a settable clock, logging in, CSRF tokens."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import users
from embedguard.services import Services
from embedguard.users import set_password

USER = "redaktion"
PASSWORD = "richtig-langes-passwort"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(services: Services) -> FakeClock:
    fake = FakeClock()
    services.clock = fake
    return fake


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the real ones cost about a second per login on a busy CI box."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_hasher", hasher)
    monkeypatch.setattr(users, "_DUMMY_HASH", hasher.hash("no-such-user"))


@pytest.fixture
def account(services: Services, fast_hashing: None) -> str:
    set_password(services.store, USER, PASSWORD)
    return USER


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login_token(client: TestClient) -> str:
    response = client.get("/admin/login")
    assert response.status_code == 200
    return csrf_from(response.text)


def log_in(client: TestClient, name: str = USER, password: str = PASSWORD) -> None:
    response = client.post(
        "/admin/login",
        data={"username": name, "password": password, "csrf_token": login_token(client)},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/"


@pytest.fixture
def admin(
    app: Starlette, client: TestClient, account: str, clock: FakeClock
) -> Iterator[TestClient]:
    """``client``, logged in as ``account``."""
    log_in(client)
    yield client


def token_for(client: TestClient, path: str = "/admin/") -> str:
    """A CSRF token from a page the admin can see."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_from(response.text)
