"""The shipped deployment files: pinned dependencies, the container image, the systemd unit."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "embedguard.service"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[_name(name)] = pinned
    return pins


def test_every_runtime_dependency_is_pinned_and_installed_at_its_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    missing = [d for d in project["dependencies"] if _name(d) not in pins]
    assert missing == [], "regenerate constraints.txt (see its first lines)"
    # scripts/dev installs with the constraints, so the tests run what the image ships.
    drift = {n: (p, version(n)) for n, p in pins.items() if version(n) != p}
    assert drift == {}


def test_the_image_is_pinned_numeric_healthy_and_trusts_a_proxy_network() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml README.md constraints.txt ./" in dockerfile
    assert "pip install --prefix=/install -c constraints.txt '.[postgresql]'" in dockerfile
    assert re.search(r"^USER \d+:\d+$", dockerfile, re.M), "numeric user (runAsNonRoot)"
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/healthz", dockerfile, re.M)
    assert "--format docker" in dockerfile, "podman keeps HEALTHCHECK only in docker format"
    trusted = re.search(r"FORWARDED_ALLOW_IPS=(\S+)", dockerfile)
    assert trusted and "172.16.0.0/12" in trusted.group(1)
    assert "EMBEDGUARD_SECRET_KEYS_FILE=/run/secrets/embedguard_keys" in dockerfile


def test_compose_uses_the_shipped_site_file_and_a_key_file() -> None:
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    assert "./nginx/embedguard.conf:/etc/nginx/conf.d/default.conf:ro" in compose
    assert 'network_mode: "service:embedguard"' in compose
    assert "FORWARDED_ALLOW_IPS: 127.0.0.1" in compose
    assert "EMBEDGUARD_SECRET_KEYS_FILE: /run/secrets/embedguard_keys" in compose
    assert "EMBEDGUARD_SECRET_KEYS:" not in compose, "no inline key"


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/embedguard",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "LimitNOFILE": "65536",
    "UMask": "0077",
    "User": "embedguard",
    "CapabilityBoundingSet": "",
    "Environment": "EMBEDGUARD_SECRET_KEYS_FILE=/etc/embedguard/keys",
    "SystemCallErrorNumber": "EPERM",
}


@pytest.mark.parametrize(("option", "value"), HARDENING.items())
def test_the_unit_is_hardened_and_reads_a_key_file(option: str, value: str) -> None:
    assert f"\n{option}={value}\n" in UNIT.read_text()


def test_the_unit_has_no_inline_key_and_passes_systemd_analyze(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert "EMBEDGUARD_SECRET_KEYS=" not in text
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the option checks above still ran; Debian without systemd has no verifier
    unit = tmp_path / "embedguard.service"
    unit.write_text(
        text.replace("/opt/embedguard/venv/bin/embedguard", "/bin/true").replace(
            "EnvironmentFile=", "EnvironmentFile=-"
        )
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


# System calls embedguard makes on purpose, with where: the unit must not forbid them.
SYSTEM_CALLS_USED = {"setpriority": "src/embedguard/password_checks.py"}


def test_the_unit_allows_the_system_calls_embedguard_makes() -> None:
    # The first filter is an allow-list; later "~" lines take calls out, plain lines put
    # them back, in order.
    analyze = shutil.which("systemd-analyze")

    def expand(names: list[str]) -> set[str]:
        calls = {name for name in names if not name.startswith("@")}
        for group in [name for name in names if name.startswith("@")]:
            if analyze is not None:  # without systemd the names listed in the unit still count
                listing = subprocess.run(
                    [analyze, "syscall-filter", group],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                ).stdout
                calls.update(w for w in listing.split() if not w.startswith(("#", "@")))
        return calls

    filters = [
        line.removeprefix("SystemCallFilter=")
        for line in UNIT.read_text().splitlines()
        if line.startswith("SystemCallFilter=")
    ]
    denied: set[str] = set()
    for entry in filters[1:]:
        if entry.startswith("~"):
            denied |= expand(entry[1:].split())
        else:
            denied -= expand(entry.split())
    assert "setpriority" in (ROOT / SYSTEM_CALLS_USED["setpriority"]).read_text()
    assert not denied & SYSTEM_CALLS_USED.keys(), denied & SYSTEM_CALLS_USED.keys()
    if analyze is not None:
        assert "setrlimit" in denied, "the rest of @resources stays denied"
