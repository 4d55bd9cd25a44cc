"""`embedguard db status|migrate|copy`: moving from SQLite to PostgreSQL is one command."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from embedguard.cli import main
from embedguard.posters import PosterStore
from embedguard.store import MIGRATIONS, Embed, Store

from .conftest import TEST_KEYS
from .postgres import PostgresServer
from .test_posters import encode, halves


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", TEST_KEYS[0])
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EMBEDGUARD_DATABASE_URL", raising=False)
    return tmp_path / "data"


def _fill(store: Store, poster_json: str) -> None:
    store.save_embed(
        Embed(key="vimeo:1", provider="vimeo", item_id="1", title="Ä", poster=poster_json),
        actor="anna",
    )
    store.set_setting("consent_days", 30, actor="anna")
    store.set_user("anna", "$argon2id$hash")
    store.end_sessions("anna", 12.5)
    store.add_usage({("vimeo", "vimeo:1", "view"): 3, ("vimeo", "vimeo:1", "load_once"): 1})
    store.count_login_attempt([], lambda stats: True, ["user:anna"], 100.25, forget_before=0.0)


def _contents(store: Store) -> dict[str, object]:
    return {
        "embeds": store.list_embeds(),
        "settings": store.all_settings(),
        "users": store._query("SELECT * FROM users"),
        "usage": store.usage(),
        "audit": store.audit_log(),
        "failures": store._query("SELECT * FROM login_failures"),
        "posters": {name: store.poster_file(name) for name in store.poster_file_names()},
    }


def test_copy_from_sqlite_to_postgresql_and_back(
    data: Path,
    tmp_path: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A poster made before the database kept posters lives only on disk: it goes along.
    poster = PosterStore(data / "posters").ingest(encode(halves(1000, 500), "PNG"))
    source = Store(data / "embedguard.sqlite3")
    _fill(source, poster.to_json())
    url = postgres_server.create_database()

    assert main(["db", "copy", "--to", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("copied to postgresql:") and "embeds 1" in out
    target = Store(url)
    expected = _contents(source)
    assert _contents(target) == expected
    names = {poster.filename(w, f) for w in poster.widths for f in ("jpg", "webp")}
    assert set(cast(list[str], expected["posters"])) == names
    # Identities move on past the copied ids: the next audit entry gets a new one.
    target.set_setting("consent_days", 60, actor="ben")
    assert target.audit_log()[0]["id"] == expected["audit"][0]["id"] + 1  # type: ignore[index]

    assert main(["db", "copy", "--to", url]) == 1
    assert "not empty" in capsys.readouterr().err

    monkeypatch.setenv("EMBEDGUARD_DATABASE_URL", url)
    back = tmp_path / "back" / "embedguard.sqlite3"
    assert main(["db", "copy", "--to", f"sqlite://{back}"]) == 0
    assert _contents(Store(back)) == _contents(target)
    source.close()
    target.close()


def test_copy_refuses_bad_targets_in_one_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in ("mysql://db/x", "", f"sqlite://{(data / 'embedguard.sqlite3').resolve()}"):
        assert main(["db", "copy", "--to", target]) == 1
        err = capsys.readouterr().err
        assert err.startswith("embedguard: error: --to:") and err.count("\n") == 1


def test_status_and_migrate(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status"]) == 0
    assert (
        capsys.readouterr().out
        == f"sqlite: schema 0 of {len(MIGRATIONS)} (needs `embedguard db migrate`)\n"
    )
    assert main(["db", "migrate"]) == 0
    assert capsys.readouterr().out == f"sqlite: schema {len(MIGRATIONS)} (up to date)\n"
    assert main(["db", "status"]) == 0
    assert "(up to date)" in capsys.readouterr().out
