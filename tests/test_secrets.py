"""The key file, `embedguard keygen`, and key rotation that logs no admin out."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from embedguard.app import create_app
from embedguard.auth import SESSION_COOKIE
from embedguard.cli import main
from embedguard.services import Services
from embedguard.settings import Settings, SettingsError
from embedguard.signing import Signer

from .test_admin_support import (
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    log_in,
)

NEW_KEY = "a-brand-new-signing-key-0123456789"
OLD_KEY = "the-old-signing-key-0123456789"


def _key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "keys"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_key_file_first_key_signs_all_verify(tmp_path: Path) -> None:
    path = _key_file(tmp_path, f"# rotated 2026-11-30\n\n{NEW_KEY}\n  {OLD_KEY}  \n")
    settings = Settings.from_env({"EMBEDGUARD_SECRET_KEYS_FILE": str(path)})
    assert settings.secret_keys == (NEW_KEY, OLD_KEY)
    old_token = Signer((OLD_KEY,)).sign("x", namespace="n")
    signer = Signer(settings.secret_keys)
    assert signer.unsign(old_token, namespace="n") == "x"
    assert Signer((NEW_KEY,)).unsign(signer.sign("y", namespace="n"), namespace="n") == "y"


@pytest.mark.parametrize(
    ("text", "mode", "complaint"),
    [
        (f"{NEW_KEY}\n", 0o644, "readable by everyone"),
        (f"{NEW_KEY}\n", 0o604, "readable by everyone"),
        ("# only a comment\n\n", 0o600, "required"),
        ("short\n", 0o600, "at least 16"),
    ],
)
def test_bad_key_file_is_refused_in_one_line(
    tmp_path: Path, text: str, mode: int, complaint: str
) -> None:
    path = _key_file(tmp_path, text, mode)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"EMBEDGUARD_SECRET_KEYS_FILE": str(path)})
    message = str(raised.value)
    assert message.startswith("EMBEDGUARD_SECRET_KEYS_FILE: ") and complaint in message
    assert "\n" not in message and NEW_KEY not in message


def test_group_readable_key_file_is_fine(tmp_path: Path) -> None:
    path = _key_file(tmp_path, f"{NEW_KEY}\n", 0o640)
    assert Settings.from_env({"EMBEDGUARD_SECRET_KEYS_FILE": str(path)}).secret_keys == (NEW_KEY,)


def test_missing_key_file_and_both_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_env({"EMBEDGUARD_SECRET_KEYS_FILE": str(tmp_path / "nope")})
    path = _key_file(tmp_path, f"{NEW_KEY}\n")
    both = {"EMBEDGUARD_SECRET_KEYS_FILE": str(path), "EMBEDGUARD_SECRET_KEYS": OLD_KEY}
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env(both)


def test_keygen_prints_a_fresh_usable_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = []
    for _ in range(2):
        assert main(["keygen"]) == 0
        keys.append(capsys.readouterr().out)
    assert keys[0] != keys[1]
    assert all(k.count("\n") == 1 and len(k.strip()) >= 43 for k in keys)
    path = _key_file(tmp_path, "".join(keys))
    settings = Settings.from_env({"EMBEDGUARD_SECRET_KEYS_FILE": str(path)})
    assert settings.secret_keys == tuple(k.strip() for k in keys)


def test_serve_without_the_public_url_starts_and_says_so(tmp_path: Path) -> None:
    # The default is "from the request"; the warning names the setting in one line. The
    # port is held by the test, so serve stops right after it has warned.
    process = subprocess.run(
        [sys.executable, "-m", "embedguard", "serve", "--port", str(_busy_port())],
        env={
            "PATH": "/usr/bin:/bin",
            "EMBEDGUARD_DATA_DIR": str(tmp_path),
            "EMBEDGUARD_SECRET_KEYS": NEW_KEY,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    warning = process.stderr.splitlines()[0]
    assert warning.startswith("embedguard: warning: EMBEDGUARD_PUBLIC_URL is not set")


def _busy_port() -> int:
    """A loopback port another socket holds for the whole test run, so serve cannot bind."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    _HELD.append(holder)
    return int(holder.getsockname()[1])


_HELD: list[object] = []


def _session_survives(settings: Settings, keys: tuple[str, ...], cookie: str) -> bool:
    rotated = replace(settings, secret_keys=keys)
    with TestClient(create_app(rotated, Services.build(rotated)), follow_redirects=False) as client:
        client.cookies.set(SESSION_COOKIE, cookie, path="/admin")
        return client.get("/admin/").status_code == 200


def test_rotation_keeps_admins_logged_in_until_the_old_key_goes(
    admin: TestClient, settings: Settings
) -> None:
    cookie = admin.cookies[SESSION_COOKIE]
    assert _session_survives(settings, settings.secret_keys, cookie)
    assert _session_survives(settings, (NEW_KEY, *settings.secret_keys), cookie)
    assert not _session_survives(settings, (NEW_KEY,), cookie)
    # The newest key signs: a login after rotation survives dropping the old keys.
    fresh = _fresh_session(replace(settings, secret_keys=(NEW_KEY, *settings.secret_keys)))
    assert _session_survives(settings, (NEW_KEY,), fresh)
    assert not _session_survives(settings, settings.secret_keys, fresh)


def _fresh_session(settings: Settings) -> str:
    with TestClient(
        create_app(settings, Services.build(settings)), follow_redirects=False
    ) as client:
        log_in(client)
        return client.cookies[SESSION_COOKIE]
