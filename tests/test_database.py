"""The storage lifecycle: concurrent starts, schema versions, copies before migrations,
owner-only files, the database URL, and posters kept in the database."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from embedguard import database
from embedguard.cli import main
from embedguard.database import SchemaTooNew, translate
from embedguard.posters import PosterStore
from embedguard.services import Services
from embedguard.settings import Settings, SettingsError
from embedguard.store import MIGRATIONS, Embed, Store

from .conftest import TEST_KEYS
from .postgres import PostgresServer
from .servers import HOST, free_port
from .test_posters import encode, halves

PROCESSES = 6
TRIALS = 10
# The advisory lock is the same code path every time; a few trials show it holds.
POSTGRES_TRIALS = 3
_OPEN_STORE = "import sys; from embedguard.store import Store; Store(sys.argv[1]).close()"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _start_together(target: str) -> list[subprocess.CompletedProcess[str]]:
    def run(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _OPEN_STORE, target],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        return list(pool.map(run, range(PROCESSES)))


def test_concurrent_starts_on_a_fresh_directory_all_succeed(tmp_path: Path) -> None:
    for trial in range(TRIALS):
        path = tmp_path / f"trial-{trial}" / "data" / "embedguard.sqlite3"
        results = _start_together(str(path))
        assert [r.stderr for r in results if r.returncode != 0] == []
        store = Store(path)
        assert store.schema_version() == len(MIGRATIONS)
        store.close()


def test_concurrent_starts_on_a_fresh_postgresql_database_all_succeed(
    postgres_server: PostgresServer,
) -> None:
    for _ in range(POSTGRES_TRIALS):
        url = postgres_server.create_database()
        results = _start_together(url)
        assert [r.stderr for r in results if r.returncode != 0] == []
        store = Store(url)
        assert store.schema_version() == len(MIGRATIONS)
        store.close()


def _make_newer(target: Path | str) -> None:
    Store(target).close()
    newer = len(MIGRATIONS) + 1
    if isinstance(target, Path):
        with sqlite3.connect(target) as db:
            db.execute(f"PRAGMA user_version={newer}")
    else:
        with psycopg.connect(target, autocommit=True) as db:
            db.execute("UPDATE embedguard_state SET schema_version = %s", (newer,))


def test_a_newer_schema_is_refused(store_target: Path | str) -> None:
    _make_newer(store_target)
    with pytest.raises(SchemaTooNew, match="newer than this embedguard knows"):
        Store(store_target)


def test_cli_and_serve_refuse_a_newer_schema_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _make_newer(data / "embedguard.sqlite3")
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", TEST_KEYS[0])
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(data))
    monkeypatch.setenv("EMBEDGUARD_PUBLIC_URL", "http://embedguard.test")
    assert main(["embed", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schema is version" in err and "newer" in err
    served = subprocess.run(
        [sys.executable, "-m", "embedguard", "serve", "--host", HOST, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ},
    )
    assert served.returncode == 1
    assert served.stderr.strip().count("\n") == 0
    assert "newer than this embedguard knows" in served.stderr


def test_a_copy_is_taken_before_migrating_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "data" / "embedguard.sqlite3"
    old = database.connect(path)
    old.migrate(MIGRATIONS[:2])
    with old.transaction() as db:
        db.execute("INSERT INTO settings (name, value) VALUES ('consent_days', '30')")
    old.close()

    store = Store(path)
    assert store.get_setting("consent_days") == 30
    store.close()
    backups = list((tmp_path / "data" / "backups").glob("*.sqlite3"))
    assert len(backups) == 1
    assert backups[0].name.startswith(f"embedguard-2-to-{len(MIGRATIONS)}-")
    assert backups[0].suffix == ".sqlite3"
    assert _mode(backups[0]) == 0o600 and _mode(backups[0].parent) == 0o700
    with sqlite3.connect(backups[0]) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 2
        assert copy.execute("SELECT value FROM settings").fetchall() == [("30",)]

    Store(path).close()  # nothing to migrate: no further copy
    assert len(list((tmp_path / "data" / "backups").glob("*.sqlite3"))) == 1


def test_a_fresh_database_needs_no_copy(tmp_path: Path) -> None:
    Store(tmp_path / "embedguard.sqlite3").close()
    assert not (tmp_path / "backups").exists()


def test_data_directory_and_files_are_owner_only(tmp_path: Path) -> None:
    settings = Settings(secret_keys=TEST_KEYS, data_dir=tmp_path / "data")
    services = Services.build(settings)
    poster = services.posters.ingest(encode(halves(1000, 500), "PNG"))
    services.store.set_setting("consent_days", 30)
    data = settings.data_dir
    assert _mode(data) == 0o700 and _mode(settings.poster_dir) == 0o700
    db = settings.database_path
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        assert _mode(path) == 0o600, path
    for name in os.listdir(settings.poster_dir):
        assert _mode(settings.poster_dir / name) == 0o600, name
    assert (settings.poster_dir / poster.filename(480, "jpg")).exists()
    services.store.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "embedguard.sqlite3"
    Store(path).close()
    path.chmod(0o644)
    Store(path).close()
    assert _mode(path) == 0o600


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sqlite:///var/lib/embedguard/embedguard.sqlite3",
        "postgresql://eg:secret@db.example:5432/embedguard",
        "postgres://db.example/embedguard",
    ],
)
def test_database_url_accepts(value: str) -> None:
    settings = Settings.from_env(
        {"EMBEDGUARD_SECRET_KEYS": TEST_KEYS[0], "EMBEDGUARD_DATABASE_URL": value}
    )
    assert settings.database_url == value
    expected = value or settings.database_path
    assert settings.database_target == expected


@pytest.mark.parametrize(
    "value", ["mysql://u:hunter2@db/x", "sqlite://relative.db", "sqlite:///", "/var/lib/x.db"]
)
def test_database_url_refuses_without_repeating_it(value: str) -> None:
    with pytest.raises(SettingsError, match="EMBEDGUARD_DATABASE_URL") as error:
        Settings.from_env(
            {"EMBEDGUARD_SECRET_KEYS": TEST_KEYS[0], "EMBEDGUARD_DATABASE_URL": value}
        )
    assert "hunter2" not in str(error.value)


def test_migrations_translate_for_postgresql() -> None:
    script = (
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL,"
        " at REAL, data BLOB, name TEXT);"
        " CREATE TABLE u (id INTEGER PRIMARY KEY, interval_s INTEGER)"
    )
    translated = translate(script, "postgresql")
    assert translated.count("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY") == 2
    assert "n BIGINT NOT NULL" in translated and "interval_s BIGINT" in translated
    assert "at DOUBLE PRECISION" in translated and "data BYTEA" in translated
    assert "AUTOINCREMENT" not in translated and "REAL" not in translated.replace("PRECISION", "")
    assert translate(script, "sqlite") == script


def test_a_new_instance_serves_posters_from_the_database(
    store_target: Path | str, tmp_path: Path
) -> None:
    store = Store(store_target)
    first = PosterStore(tmp_path / "first", database=store)
    poster = first.ingest(encode(halves(1000, 500), "PNG"))
    name = poster.filename(480, "webp")
    second = PosterStore(tmp_path / "second", database=store)
    assert second.read(name) == first.read(name)
    assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()
    store.close()


def test_posters_on_disk_only_are_taken_into_the_database(tmp_path: Path) -> None:
    old = PosterStore(tmp_path / "posters")
    poster = old.ingest(encode(halves(1000, 500), "PNG"))
    store = Store(tmp_path / "db.sqlite3")
    assert store.poster_file_names() == set()
    PosterStore(tmp_path / "posters", database=store)
    expected = {poster.filename(w, f) for w in poster.widths for f in ("jpg", "webp")}
    assert store.poster_file_names() == expected
    (tmp_path / "posters" / poster.filename(960, "jpg")).unlink()
    again = PosterStore(tmp_path / "posters", database=store)
    assert again.ingest(encode(halves(1000, 500), "PNG")) == poster
    assert again.exists(poster)
    store.close()


def test_an_embed_saved_on_postgresql_reads_back_the_same(postgres_server: PostgresServer) -> None:
    store = Store(postgres_server.create_database())
    embed = Embed(key="vimeo:7", provider="vimeo", item_id="7", title="Ä 100% ?", duration=3)
    saved = store.save_embed(embed)
    assert store.get_embed("vimeo:7") == saved
    assert saved.title == "Ä 100% ?"
    store.close()
