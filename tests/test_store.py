"""Storage on both backends: migrations, atomic writes, change detection, usage and audit."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from embedguard.database import StorageError
from embedguard.store import MIGRATIONS, Embed, LoginStat, Store
from embedguard.usage import UsageCounter


@pytest.fixture
def store(store_target: Path | str) -> Iterator[Store]:
    store = Store(store_target)
    yield store
    store.close()


def embed(key: str = "vimeo:1", **fields: object) -> Embed:
    provider, _, item_id = key.partition(":")
    return Embed(key=key, provider=provider, item_id=item_id, **fields)  # type: ignore[arg-type]


def test_migrations_run_once(store_target: Path | str) -> None:
    Store(store_target).close()
    store = Store(store_target)
    assert store.schema_version() == len(MIGRATIONS)
    assert {"embeds", "settings", "usage", "audit", "users", "poster_files"} <= set(
        store._db.tables()
    )
    store.close()


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
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


def test_saving_again_replaces_every_field(store: Store) -> None:
    store.save_embed(embed(title="A", duration=5, poster_custom=True))
    saved = store.save_embed(embed(title="B", enabled=False))
    assert store.get_embed("vimeo:1") == saved
    assert (saved.title, saved.duration, saved.poster_custom, saved.enabled) == (
        "B",
        None,
        False,
        False,
    )
    assert saved.revision == 2


def test_every_change_is_audited_with_before_and_after(store: Store) -> None:
    store.save_embed(embed(title="A"), actor="anna")
    store.set_embed_enabled("vimeo:1", False, actor="ben")
    store.remove_embed("vimeo:1", actor="carla")
    log = store.audit_log()
    assert [entry["action"] for entry in log] == ["embed.remove", "embed.update", "embed.add"]
    assert [entry["actor"] for entry in log] == ["carla", "ben", "anna"]
    assert '"enabled": true' in log[1]["before"] and '"enabled": false' in log[1]["after"]
    assert store.audit_log(actor="ben")[0]["action"] == "embed.update"
    assert store.audit_facets() == {
        "actor": ["anna", "ben", "carla"],
        "action": ["embed.add", "embed.remove", "embed.update"],
    }


def test_settings_round_trip_and_overwrite(store: Store) -> None:
    store.set_setting("frame_ancestors", "'self' https://a.example", actor="anna")
    store.set_setting("frame_ancestors", "https://b.example 100%", actor="anna")
    assert store.get_setting("frame_ancestors") == "https://b.example 100%"
    assert store.all_settings() == {"frame_ancestors": "https://b.example 100%"}
    assert len(store.audit_log(action="setting.update")) == 2


def test_failed_transaction_changes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO settings (name, value) VALUES ('x', '1')")
        raise RuntimeError("boom")
    assert store.get_setting("x") is None


def test_bad_sql_is_a_storage_error_and_the_store_goes_on(store: Store) -> None:
    with pytest.raises(StorageError), store.transaction() as db:
        db.execute("INSERT INTO settings (name, value) VALUES ('x', '1')")
        db.execute("INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(StorageError):
        store._query("SELECT nothing FROM nowhere")
    assert store.get_setting("x") is None
    store.set_setting("x", 1)
    assert store.get_setting("x") == 1


def test_reads_inside_a_transaction_see_its_writes(store: Store) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO settings (name, value) VALUES ('x', '1')")
        assert store.get_setting("x") == 1
    assert store.get_setting("x") == 1


def test_generation_sees_other_processes(store_target: Path | str) -> None:
    first, second = Store(store_target, foreign_check_seconds=0), Store(store_target)
    before = first.generation()
    second.set_setting("consent_days", 30)
    assert first.generation() != before
    assert first.get_setting("consent_days") == 30
    first.close()
    second.close()


def test_foreign_writes_are_checked_at_most_every_interval(store_target: Path | str) -> None:
    first, second = Store(store_target, foreign_check_seconds=3600), Store(store_target)
    before = first.generation()
    second.set_setting("consent_days", 30)
    assert first.generation() == before
    first.set_setting("policy_version", 2)
    assert first.generation() != before, "own writes count at once"
    first.close()
    second.close()


def test_threads_writing_and_polling_for_changes_never_wait_on_each_other(
    store_target: Path | str,
) -> None:
    store = Store(store_target, foreign_check_seconds=0)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for n in range(30):
                store.set_setting(f"s{i}", n)
                store.generation()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert errors == []
    assert store.all_settings() == {f"s{i}": 29 for i in range(4)}
    store.close()


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


def test_usage_lands_on_the_utc_day_it_happened_on(store: Store) -> None:
    midnight = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    now = [midnight - 0.001]
    counter = UsageCounter(store, clock=lambda: now[0])
    counter.add("vimeo", "vimeo:1", "view")
    now[0] = midnight
    counter.add("vimeo", "vimeo:1", "view")
    now[0] = midnight + 86399.999
    counter.add("vimeo", "vimeo:1", "load_once")
    counter.flush()
    rows = {(r["day"], r["event"]): r["count"] for r in store.usage()}
    assert rows == {
        ("2026-02-28", "view"): 1,
        ("2026-03-01", "view"): 1,
        ("2026-03-01", "load_once"): 1,
    }


def test_unknown_usage_event_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        UsageCounter(store).add("vimeo", "vimeo:1", "clicked_by_192.0.2.1")


def test_users_sessions_and_login_failures(store: Store) -> None:
    assert store.set_user("anna", "hash-1") is True
    assert store.set_user("anna", "hash-2") is False
    assert store.get_user_hash("anna") == "hash-2"
    assert store.sessions_valid_after("anna") == 0.0
    store.end_sessions("anna", 1234.5)
    assert store.sessions_valid_after("anna") == 1234.5


def test_login_attempts_are_counted_then_recorded_in_one_step(store: Store) -> None:
    def count(subject: str) -> int:
        seen: list[int] = []

        def look(stats: list[LoginStat]) -> bool:
            seen.append(stats[0].count)
            return False

        store.count_login_attempt([(subject, 0.0)], look, [], 0.0, forget_before=0.0)
        return seen[0]

    def always(stats: list[LoginStat]) -> bool:
        return True

    assert store.count_login_attempt([], always, ["user:anna", "client:x"], 100.0, forget_before=0)
    assert store.count_login_attempt([], always, ["user:anna"], 200.0, forget_before=150.0)
    assert count("user:anna") == 1  # the one at 100.0 was forgotten
    assert count("client:x") == 0
    refused = store.count_login_attempt(
        [("user:anna", 0.0)],
        lambda stats: stats[0].count < 1,
        ["user:anna"],
        300.0,
        forget_before=0.0,
    )
    assert refused is False and count("user:anna") == 1
    store.forget_login_attempt(["user:anna"], 200.0)
    assert count("user:anna") == 0
    store.count_login_attempt(
        [], always, ["user:anna", "user:anna/client:y"], 400.0, forget_before=0
    )
    assert store.clear_login_failures("user:anna", prefix="user:anna/") == 2
    assert count("user:anna") == 0 and count("user:anna/client:y") == 0


def test_poster_files_are_kept(store: Store) -> None:
    store.save_poster_files({"a-480.jpg": b"\xff\xd8jpeg", "a-480.webp": b"RIFF\x00"})
    store.save_poster_files({"a-480.jpg": b"other"})  # content-addressed: first one stays
    assert store.poster_file("a-480.jpg") == b"\xff\xd8jpeg"
    assert store.poster_file("a-960.jpg") is None
    assert store.poster_file_names() == {"a-480.jpg", "a-480.webp"}


def test_healthy(store: Store) -> None:
    assert store.healthy()
    store.close()
    assert not store.healthy()


def test_a_failed_flush_keeps_the_counts(store: Store) -> None:
    counter = UsageCounter(store)
    counter.add("vimeo", "vimeo:1", "view")
    with store.transaction() as db:
        db.execute("ALTER TABLE usage RENAME TO usage_away")
    with pytest.raises(StorageError):
        counter.flush()
    with store.transaction() as db:
        db.execute("ALTER TABLE usage_away RENAME TO usage")
    counter.add("vimeo", "vimeo:1", "view")
    counter.flush()
    assert [row["count"] for row in store.usage()] == [2]
