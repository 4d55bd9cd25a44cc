"""A plain `pip install .` must ship templates, static files and catalogs, and work."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("embedguard-*.whl")
    return built


def test_wheel_ships_resources(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for source in ("templates", "static"):
        for path in (ROOT / source).rglob("*"):
            if path.is_file():
                packaged = f"embedguard/{path.relative_to(ROOT).as_posix()}"
                assert packaged in names, f"{packaged} missing from the wheel"
    assert "embedguard/locale/de/LC_MESSAGES/messages.po" in names
    assert "embedguard/py.typed" in names
    assert any(name.startswith("embedguard/demo_assets/") for name in names)


def test_installed_wheel_serves_a_placeholder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    script = """
import embedguard, sys
from pathlib import Path
from starlette.testclient import TestClient
from embedguard import demo
from embedguard.app import create_app
from embedguard.resources import resource_dir
from embedguard.services import Services
from embedguard.settings import Settings
assert str(Path(embedguard.__file__)).startswith(sys.argv[1]), embedguard.__file__
assert str(resource_dir("templates")).startswith(sys.argv[1])
settings = Settings(secret_keys=("k" * 20,), data_dir=Path(sys.argv[2]), demo=True)
services = Services.build(settings)
demo.seed(services)
with TestClient(create_app(settings, services)) as client:
    page = client.get("/vimeo/76979871")
    assert page.status_code == 200 and "/consent" in page.text, page.status_code
    assert client.get("/demo").status_code == 200
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(target), str(tmp_path / "data")],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
