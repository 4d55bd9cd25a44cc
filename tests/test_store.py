"""SQLite storage: migrations, atomic writes, change detection, usage and audit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from embedguard.store import MIGRATIONS, Embed, Store
from embedguard.usage import UsageCounter


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "db.sqlite3")


def embed(key: str = "vimeo:1", **fields: object) -> Embed:
    provider, _, item_id = key.partition(":")
    return Embed(key=key, provider=provider, item_id=item_id, **fields)  # type: ignore[arg-type]


def test_migrations_run_once_and_use_wal(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Store(path).close()
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_save_get_list_remove(store: Store) -> None:
    saved = store.save_embed(embed(title="A"))
    assert saved.created_at and saved.updated_at
    assert store.get_embed("vimeo:1") == saved
    assert store.list_embeds("vimeo") == [saved]
    assert store.remove_embed("vimeo:1")
    assert store.get_embed("vimeo:1") is None
    assert not store.remove_embed("vimeo:1")


def test_every_change_is_audited_with_before_and_after(store: Store) -> None:
    store.save_embed(embed(title="A"), actor="anna")
    store.set_embed_enabled("vimeo:1", False, actor="ben")
    store.remove_embed("vimeo:1", actor="carla")
    log = store.audit_log()
    assert [entry["action"] for entry in log] == ["embed.remove", "embed.update", "embed.add"]
    assert [entry["actor"] for entry in log] == ["carla", "ben", "anna"]
    assert '"enabled": true' in log[1]["before"] and '"enabled": false' in log[1]["after"]


def test_failed_transaction_changes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO settings (name, value) VALUES ('x', '1')")
        raise RuntimeError("boom")
    assert store.get_setting("x") is None


def test_generation_sees_other_processes(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first, second = Store(path, foreign_check_seconds=0), Store(path)
    before = first.generation()
    second.set_setting("consent_days", 30)
    assert first.generation() != before
    assert first.get_setting("consent_days") == 30


def test_foreign_writes_are_checked_at_most_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first, second = Store(path, foreign_check_seconds=3600), Store(path)
    before = first.generation()
    second.set_setting("consent_days", 30)
    assert first.generation() == before
    first.set_setting("policy_version", 2)
    assert first.generation() != before, "own writes count at once"


def test_usage_is_aggregated_per_day_provider_embed_event(store: Store) -> None:
    counter = UsageCounter(store)
    for _ in range(3):
        counter.add("vimeo", "vimeo:1", "view")
    counter.add("vimeo", "vimeo:1", "load_once")
    counter.flush()
    counter.add("vimeo", "vimeo:1", "view")
    counter.flush()
    rows = {(r["embed_key"], r["event"]): r["count"] for r in store.usage()}
    assert rows == {("vimeo:1", "view"): 4, ("vimeo:1", "load_once"): 1}
    columns = set(store.usage()[0])
    assert columns == {"day", "provider", "embed_key", "event", "count"}


def test_unknown_usage_event_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        UsageCounter(store).add("vimeo", "vimeo:1", "clicked_by_192.0.2.1")


def test_healthy(store: Store) -> None:
    assert store.healthy()
    store.close()
    assert not store.healthy()


def test_a_failed_flush_keeps_the_counts(store: Store) -> None:
    counter = UsageCounter(store)
    counter.add("vimeo", "vimeo:1", "view")
    store._db.execute("PRAGMA query_only = 1")
    with pytest.raises(sqlite3.Error):
        counter.flush()
    store._db.execute("PRAGMA query_only = 0")
    counter.add("vimeo", "vimeo:1", "view")
    counter.flush()
    assert [row["count"] for row in store.usage()] == [2]
