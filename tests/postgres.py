"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl from Debian's package,
on a free loopback port, with a fresh database per test.

PostgreSQL refuses to run as root (CI runs as root), so then the server runs as the
`postgres` system user in a directory it owns.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from .servers import HOST, free_port

START_TIMEOUT = 30


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (scripts/dev installs them)"
        )
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name.split(".")[0])


class PostgresServer:
    """Started by :meth:`start`, stopped (and its files removed) by :meth:`stop`."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.base = Path(tempfile.mkdtemp(prefix="embedguard-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.user = "embedguard"
        self.password = secrets.token_urlsafe(16)
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=START_TIMEOUT, cwd=self.base
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{what} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )

    def start(self) -> None:
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        pwfile.chmod(0o600)
        self._check(
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--no-locale",
                "--encoding=UTF8",
                "--no-sync",
            ),
            "initdb",
        )
        options = (
            f"-c listen_addresses={HOST} -p {self.port} -k {self.base}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._check(
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.base / "server.log"),
                "-w",
                "-t",
                str(START_TIMEOUT),
                "start",
            ),
            "pg_ctl start",
        )

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{HOST}:{self.port}/{database}"

    def create_database(self) -> str:
        """A URL to a new, empty schema of its own (as good as a new database for embedguard,
        and a tenth of CREATE DATABASE's time)."""
        name = f"eg_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"
