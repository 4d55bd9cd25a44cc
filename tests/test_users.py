"""Admin accounts: argon2 hashes, checks, and `embedguard user add`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from embedguard import users
from embedguard.cli import main
from embedguard.store import Store


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_hasher", hasher)
    monkeypatch.setattr(users, "_DUMMY_HASH", hasher.hash("no-such-user"))


@pytest.fixture
def store(store_target: Path | str) -> Iterator[Store]:
    store = Store(store_target)
    yield store
    store.close()


def test_passwords_are_stored_as_argon2id_hashes(store: Store) -> None:
    assert users.set_password(store, "redaktion", "ein-langes-passwort") is True
    stored = store.get_user_hash("redaktion")
    assert stored is not None and stored.startswith("$argon2id$")
    assert "ein-langes-passwort" not in stored
    assert users.verify_password(store, "redaktion", "ein-langes-passwort")
    assert not users.verify_password(store, "redaktion", "ein-langes-passwort!")
    assert not users.verify_password(store, "niemand", "ein-langes-passwort")
    assert not users.verify_password(store, "Redaktion", "ein-langes-passwort")
    assert not users.verify_password(store, "redaktion", "x" * 5000)


def test_reset_replaces_the_password_and_audits_without_the_hash(store: Store) -> None:
    users.set_password(store, "redaktion", "ein-langes-passwort")
    assert users.set_password(store, "redaktion", "ein-anderes-passwort") is False
    assert not users.verify_password(store, "redaktion", "ein-langes-passwort")
    assert users.verify_password(store, "redaktion", "ein-anderes-passwort")
    actions = [entry["action"] for entry in store.audit_log(target="redaktion")]
    assert actions == ["user.password_reset", "user.add"]
    assert all("argon2" not in str(entry) for entry in store.audit_log())


@pytest.mark.parametrize("name", ["", "Admin", "a b", "ä", "-x", "x" * 65, "a/b", "a\nb"])
def test_bad_user_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(users.UserError):
        users.set_password(store, name, "ein-langes-passwort")
    assert store.get_user_hash(name) is None


@pytest.mark.parametrize("password", ["", "kurz", "x" * 11, "x" * 1025])
def test_bad_passwords_are_refused(store: Store, password: str) -> None:
    with pytest.raises(users.UserError):
        users.set_password(store, "redaktion", password)
    assert store.get_user_hash("redaktion") is None


def test_cli_user_add_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", "a-signing-key-of-enough-length")
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-passwort\n"))
    assert main(["user", "add", "redaktion", "--password-stdin"]) == 0
    assert "redaktion: created" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("kurz\n"))
    assert main(["user", "add", "redaktion", "--password-stdin"]) == 1
    assert "passwords need" in capsys.readouterr().err
    store = Store(tmp_path / "embedguard.sqlite3")
    assert users.verify_password(store, "redaktion", "ein-langes-passwort")
    store.close()
