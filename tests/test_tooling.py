"""The development tooling: pre-commit hooks that work offline, and scripts/dev's rule for
when the coverage floor applies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=repo,
        env={**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pre_commit_config_is_valid_and_uses_only_local_tools() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    result = _pre_commit(ROOT, "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "repo: local" in config and "rev:" not in config  # nothing to download
    entries = [
        line.split("entry:")[1].split()[0] for line in config.splitlines() if "entry:" in line
    ]
    assert entries == [".venv/bin/ruff", ".venv/bin/ruff", ".venv/bin/mypy"]
    for entry in entries:
        assert (BIN / Path(entry).name).exists()


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A git repository with the project's hook and lint configuration and its .venv."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (".pre-commit-config.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(BIN.parent)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, timeout=30)
    return repo


@pytest.mark.parametrize(
    ("source", "passes"),
    [
        ('"""A module."""\n\nVALUE = 1\n', True),
        ('"""A module."""\nimport os\n', False),  # unused import
        ('"""A module."""\n\nVALUE   =  1\n', False),  # not formatted
    ],
)
def test_ruff_hooks_run_offline_and_catch_problems(
    scratch_repo: Path, source: str, passes: bool
) -> None:
    (scratch_repo / "module.py").write_text(source)
    subprocess.run(["git", "add", "-A"], cwd=scratch_repo, check=True, timeout=30)
    ruff = _pre_commit(scratch_repo, "run", "ruff", "--all-files")
    ruff_format = _pre_commit(scratch_repo, "run", "ruff-format", "--all-files")
    output = ruff.stdout + ruff_format.stdout
    assert (ruff.returncode == 0 and ruff_format.returncode == 0) is passes, output


@pytest.mark.parametrize(
    ("args", "whole"),
    [
        ([], True),
        (["-q", "-x"], True),
        (["-q", "-n0", "--maxfail=3"], True),
        (["tests/test_scan.py"], False),
        (["-q", "tests/browser"], False),
        (["-k", "scan"], False),
        (["-m", "browser"], False),
        (["--lf"], False),
    ],
)
def test_the_coverage_floor_applies_to_whole_suite_runs_only(args: list[str], whole: bool) -> None:
    script = (ROOT / "scripts" / "dev").read_text()
    start = script.index("whole_suite() {")
    function = script[start : script.index("\n}\n", start) + 3]
    result = subprocess.run(
        ["bash", "-c", f'{function}\nwhole_suite "$@"', "whole_suite", *args],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode == 0) is whole
