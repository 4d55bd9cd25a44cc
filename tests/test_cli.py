"""The `embedguard` command: embed add/list/remove/disable/enable, errors, serve's checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from embedguard.cli import main
from embedguard.providers import default_registry

from .fake_upstream import VIMEO_FORBIDDEN, VIMEO_OK, VIMEO_THUMB_WRONG_TYPE
from .servers import upstream_map_for


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_upstream: tuple[str, Starlette]
) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", "cli-test-key-0123456789")
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(data_dir))
    monkeypatch.setenv("EMBEDGUARD_UPSTREAM_MAP", upstream_map_for(fake_upstream[0]))
    monkeypatch.setenv("EMBEDGUARD_PUBLIC_URL", "https://einbettung.example.de")
    return data_dir


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, "embed", "list", "--json")
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_add_prints_url_and_snippet(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "embed", "add", f"https://vimeo.com/{VIMEO_OK}")
    assert code == 0, err
    url, snippet = out.strip().splitlines()
    assert url == f"https://einbettung.example.de/vimeo/{VIMEO_OK}"
    assert snippet.startswith(f'<iframe src="{url}"')
    assert 'loading="lazy"' in snippet and "title=" in snippet


def test_list_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert listed(capsys) == []
    run(
        capsys,
        "embed",
        "add",
        f"https://player.vimeo.com/video/{VIMEO_OK}",
        "--title",
        "Mein Titel",
    )
    (row,) = listed(capsys)
    assert row["key"] == f"vimeo:{VIMEO_OK}"
    assert row["provider"] == "vimeo"
    assert row["id"] == str(VIMEO_OK)
    assert row["title"] == "Mein Titel"
    assert row["enabled"] is True
    assert row["embed_url"] == f"https://einbettung.example.de/vimeo/{VIMEO_OK}"


def test_disable_enable_remove(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "embed", "add", f"https://vimeo.com/{VIMEO_OK}")
    key = f"vimeo:{VIMEO_OK}"
    assert run(capsys, "embed", "disable", key)[0] == 0
    assert listed(capsys)[0]["enabled"] is False
    assert run(capsys, "embed", "enable", key)[0] == 0
    assert listed(capsys)[0]["enabled"] is True
    assert run(capsys, "embed", "remove", key)[0] == 0
    assert listed(capsys) == []


@pytest.mark.parametrize("action", ["remove", "disable", "enable"])
def test_unknown_key_is_one_line_and_exit_1(
    env: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    code, _out, err = run(capsys, "embed", action, "vimeo:404")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "vimeo:404" in err


@pytest.mark.parametrize(
    "url",
    [
        f"https://vimeo.com/{VIMEO_FORBIDDEN}",
        "https://vimeo.com/999999",
        "http://127.0.0.1/x",
        "file:///etc/passwd",
        "https://example.com/",
    ],
)
def test_unconfirmed_add_stores_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "embed", "add", url)
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert listed(capsys) == []


def test_preview_failure_stores_with_a_warning(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "embed", "add", f"https://vimeo.com/{VIMEO_THUMB_WRONG_TYPE}")
    assert code == 0
    assert "warning" in err
    assert len(listed(capsys)) == 1


def test_missing_secret_is_a_clear_error(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMBEDGUARD_SECRET_KEYS")
    code, _, err = run(capsys, "embed", "list")
    assert code == 1
    assert err.strip().count("\n") == 0 and "EMBEDGUARD_SECRET_KEYS" in err


def test_serve_without_secret_stops(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "embedguard", "serve", "--port", "1"],
        env={"PATH": "/usr/bin:/bin", "EMBEDGUARD_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert process.returncode == 1
    assert process.stderr.strip().count("\n") == 0
    assert "EMBEDGUARD_SECRET_KEYS" in process.stderr


def test_bad_image_file(env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "embed", "add", f"https://vimeo.com/{VIMEO_OK}", "--image", str(tmp_path / "nope")
    )
    assert code == 1 and "nope" in err
    (tmp_path / "fake.jpg").write_text("<svg/>")
    code, _, err = run(
        capsys,
        "embed",
        "add",
        f"https://vimeo.com/{VIMEO_OK}",
        "--image",
        str(tmp_path / "fake.jpg"),
    )
    assert code == 1 and "image" in err
    assert listed(capsys) == []


def test_unusable_data_dir_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(blocker / "data"))
    code, _, err = run(capsys, "embed", "list")
    assert code == 1
    assert err.count("\n") == 1 and "data directory" in err


@pytest.mark.parametrize("url", ["http://[::1", "https://x.com/[", "https://[www.facebook.com/a"])
def test_malformed_urls_are_one_line_errors(
    env: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "embed", "add", url)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1


def test_keys_are_matched_as_stored(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "embed", "add", "https://x.com/MSWirtschaft")[0] == 0
    assert run(capsys, "embed", "disable", "twitter:MSWirtschaft")[0] == 0
    assert listed(capsys)[0]["enabled"] is False


def test_titles_are_cleaned(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    title = "Film\u202e über\x00 " + "x" * 1000
    assert run(capsys, "embed", "add", f"https://vimeo.com/{VIMEO_OK}", "--title", title)[0] == 0
    stored = listed(capsys)[0]["title"]
    assert stored.startswith("Film über ") and len(stored) == 300


@pytest.mark.parametrize(
    "args",
    [
        ("embed", "remove", "\udcff"),
        ("embed", "add", f"https://vimeo.com/{VIMEO_OK}", "--title", "\udcff"),
    ],
)
def test_undecodable_arguments_are_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err.count("\n") == 1 and "UTF-8" in err


def test_user_add_without_a_terminal(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", no_terminal)
    code, _, err = run(capsys, "user", "add", "dora")
    assert code == 1 and err.count("\n") == 1 and "--password-stdin" in err


def test_undecodable_password_on_stdin(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("\udcff\udcfe correct horse battery\n"))
    code, _, err = run(capsys, "user", "add", "bob", "--password-stdin")
    assert code == 1 and err.count("\n") == 1


def test_help_and_package_name_every_provider(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    description = capsys.readouterr().out.split("\n\n")[1]
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    summary = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["description"]
    labels = {provider.label for provider in default_registry()}
    for text in (description, summary):
        assert labels <= set(re.findall(r"\w+", text)), text
        assert "Twitter" not in text  # the product names it X
