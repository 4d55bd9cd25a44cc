"""Storage: the allowlist, settings, usage counts, audit log, admin accounts and posters.

One SQLite file (the default) or one PostgreSQL database shared by several instances; the
difference lives in :mod:`embedguard.database`, so every statement here is written once,
with ``?`` placeholders, in SQL both understand (``INSERT ... ON CONFLICT``, no
``INSERT OR REPLACE``). :meth:`Store.generation` tells caches when anything changed,
also when another process or machine wrote.

A new migration is one more ``(name, script)`` entry appended to ``MIGRATIONS``, written in
SQLite's DDL and kept to what ``database.POSTGRES_TRANSLATION`` turns into PostgreSQL
(INTEGER, REAL, TEXT, BLOB, ``INTEGER PRIMARY KEY``; no AUTOINCREMENT, no ``;`` inside
literals). Never edit a migration that has shipped: databases out there already ran it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .database import Connection, Row, connect

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_initial",
        """
        CREATE TABLE embeds (
            key TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            item_id TEXT NOT NULL,
            secret TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            title_override TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            author_url TEXT NOT NULL DEFAULT '',
            duration INTEGER,
            width INTEGER NOT NULL DEFAULT 16,
            height INTEGER NOT NULL DEFAULT 9,
            poster TEXT NOT NULL DEFAULT '',
            poster_custom INTEGER NOT NULL DEFAULT 0,
            content TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'ok',
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            refreshed_at TEXT NOT NULL
        );
        CREATE INDEX embeds_provider ON embeds (provider, item_id);
        CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE usage (
            day TEXT NOT NULL,
            provider TEXT NOT NULL,
            embed_key TEXT NOT NULL,
            event TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, provider, embed_key, event)
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT NOT NULL DEFAULT '',
            after TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE login_failures (
            subject TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX login_failures_subject ON login_failures (subject, at);
        """,
    ),
    (
        "0002_admin_edits",
        """
        ALTER TABLE embeds ADD COLUMN description_override TEXT NOT NULL DEFAULT '';
        ALTER TABLE embeds ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
        """,
    ),
    (
        "0003_session_cut_off",
        """
        ALTER TABLE users ADD COLUMN sessions_valid_after REAL NOT NULL DEFAULT 0;
        """,
    ),
    (
        "0004_poster_files",
        """
        CREATE TABLE poster_files (name TEXT PRIMARY KEY, data BLOB NOT NULL);
        """,
    ),
    (
        "0005_reviews",
        """
        CREATE TABLE reviews (
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            year INTEGER NOT NULL,
            provider TEXT NOT NULL,
            decision TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (at, provider)
        );
        """,
    ),
)

USAGE_EVENTS = frozenset({"view", "load_once", "load_always", "revoke"})


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class LoginStat:
    """Login attempts of one subject in a time window: how many, and the latest."""

    count: int
    last: float | None


@dataclass(frozen=True)
class Embed:
    key: str
    provider: str
    item_id: str
    secret: str = ""
    title: str = ""
    title_override: str = ""
    description: str = ""
    author: str = ""
    author_url: str = ""
    duration: int | None = None
    width: int = 16
    height: int = 9
    poster: str = ""
    poster_custom: bool = False
    content: str = ""
    status: str = "ok"
    enabled: bool = True
    created_at: str = ""
    updated_at: str = ""
    refreshed_at: str = ""
    description_override: str = ""
    # Counts saves; an edit form carries it, so a stale form cannot overwrite newer changes.
    revision: int = 1

    @property
    def display_title(self) -> str:
        return self.title_override or self.title

    @property
    def display_description(self) -> str:
        return self.description_override or self.description

    def public_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("content",)}


class StoreError(Exception):
    pass


class StaleEdit(StoreError):
    """The embed changed since the editor loaded it; nothing was saved."""


class Store:
    def __init__(
        self, target: Path | str, *, foreign_check_seconds: float = 0.5, migrate: bool = True
    ) -> None:
        """``target``: the SQLite file, a ``sqlite:///`` URL or a ``postgresql://`` URL.

        Opening migrates the schema (under a lock, after a copy of an existing SQLite file)
        and refuses a schema newer than this code knows (:class:`SchemaTooNew`).
        """
        self._db = connect(target, foreign_check_seconds=foreign_check_seconds)
        if migrate:
            self._migrate()

    def close(self) -> None:
        self._db.close()

    # -- plumbing ---------------------------------------------------------------------

    def _migrate(self) -> None:
        try:
            self._db.migrate(MIGRATIONS)
        except BaseException:
            self._db.close()
            raise

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.dialect

    def schema_version(self) -> int:
        return self._db.schema_version()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._db.transaction() as db:
            yield db

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return self._db.query(sql, params)

    def generation(self) -> Hashable:
        """Changes whenever this process or another one committed a write: our own writes
        at once, another process's or machine's within ``foreign_check_seconds``."""
        return self._db.generation()

    def healthy(self) -> bool:
        return self._db.healthy()

    # -- embeds -----------------------------------------------------------------------

    def get_embed(self, key: str) -> Embed | None:
        rows = self._query("SELECT * FROM embeds WHERE key = ?", (key,))
        return _embed_from_row(rows[0]) if rows else None

    def list_embeds(self, provider: str | None = None) -> list[Embed]:
        if provider is None:
            rows = self._query("SELECT * FROM embeds ORDER BY provider, key")
        else:
            rows = self._query("SELECT * FROM embeds WHERE provider = ? ORDER BY key", (provider,))
        return [_embed_from_row(row) for row in rows]

    def save_embed(
        self, embed: Embed, *, actor: str = "cli", expected_revision: int | None = None
    ) -> Embed:
        """Insert or replace one embed and audit the change, in one transaction.

        With ``expected_revision``, save only if the stored embed is still at that revision
        (else :class:`StaleEdit`).
        """
        stamp = now_iso()
        with self.transaction() as db:
            before = self.get_embed(embed.key)
            if expected_revision is not None and (
                before is None or before.revision != expected_revision
            ):
                raise StaleEdit(embed.key)
            saved = replace(
                embed,
                created_at=before.created_at if before else stamp,
                updated_at=stamp,
                refreshed_at=embed.refreshed_at or stamp,
                revision=before.revision + 1 if before else 1,
            )
            fields = asdict(saved)
            columns = ", ".join(fields)
            marks = ", ".join("?" for _ in fields)
            updates = ", ".join(f"{name} = excluded.{name}" for name in fields if name != "key")
            db.execute(
                f"INSERT INTO embeds ({columns}) VALUES ({marks})"  # noqa: S608
                f" ON CONFLICT (key) DO UPDATE SET {updates}",
                tuple(_to_sql(v) for v in fields.values()),
            )
            self._audit(
                db, actor, "embed.update" if before else "embed.add", embed.key, before, saved
            )
        return saved

    def set_embed_enabled(self, key: str, enabled: bool, *, actor: str = "cli") -> Embed | None:
        embed = self.get_embed(key)
        if embed is None:
            return None
        if embed.enabled == enabled:
            return embed
        return self.save_embed(replace(embed, enabled=enabled), actor=actor)

    def remove_embed(self, key: str, *, actor: str = "cli") -> bool:
        with self.transaction() as db:
            before = self.get_embed(key)
            if before is None:
                return False
            db.execute("DELETE FROM embeds WHERE key = ?", (key,))
            self._audit(db, actor, "embed.remove", key, before, None)
        return True

    # -- settings ---------------------------------------------------------------------

    def get_setting(self, name: str, default: Any = None) -> Any:
        rows = self._query("SELECT value FROM settings WHERE name = ?", (name,))
        return json.loads(rows[0]["value"]) if rows else default

    def all_settings(self) -> dict[str, Any]:
        rows = self._query("SELECT name, value FROM settings")
        return {row["name"]: json.loads(row["value"]) for row in rows}

    def set_setting(self, name: str, value: Any, *, actor: str = "cli") -> None:
        with self.transaction() as db:
            before = self.get_setting(name)
            if before == value:
                return
            db.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, json.dumps(value, ensure_ascii=False)),
            )
            self._audit(db, actor, "setting.update", name, before, value)

    # -- usage counts (anonymous aggregates) ------------------------------------------

    def add_usage(self, counts: Mapping[tuple[str, str, str], int], day: str = "") -> None:
        """Add (provider, embed key, event) counts to one day's aggregates (default today),
        in one write."""
        day = day or datetime.now(UTC).date().isoformat()
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO usage (day, provider, embed_key, event, count) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (day, provider, embed_key, event) DO UPDATE SET"
                " count = usage.count + excluded.count",
                [(day, *key, n) for key, n in counts.items() if key[2] in USAGE_EVENTS],
            )

    def usage(self, since: str = "0000-00-00") -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT day, provider, embed_key, event, count FROM usage WHERE day >= ?"
            " ORDER BY day DESC, provider, embed_key, event",
            (since,),
        )
        return [dict(row) for row in rows]

    def usage_by_month(self, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Counts from ``first_day`` to ``last_day`` (inclusive) summed per month, provider,
        embed and event."""
        rows = self._query(
            "SELECT substr(day, 1, 7) AS month, provider, embed_key, event, sum(count) AS count"
            " FROM usage WHERE day >= ? AND day <= ?"
            " GROUP BY substr(day, 1, 7), provider, embed_key, event",
            (first_day, last_day),
        )
        return [dict(row) for row in rows]

    def usage_days(self, event: str) -> dict[str, tuple[str, str]]:
        """The first and last day with a count of ``event``, per embed key."""
        rows = self._query(
            "SELECT embed_key, min(day) AS first, max(day) AS last FROM usage"
            " WHERE event = ? GROUP BY embed_key",
            (event,),
        )
        return {row["embed_key"]: (row["first"], row["last"]) for row in rows}

    def usage_years(self) -> list[str]:
        rows = self._query("SELECT DISTINCT substr(day, 1, 4) AS year FROM usage ORDER BY year")
        return [row["year"] for row in rows]

    def delete_usage_before(self, day: str) -> int:
        with self.transaction() as db:
            return db.execute("DELETE FROM usage WHERE day < ?", (day,)).rowcount

    # -- recorded reviews of the channels (the yearly evaluation) ----------------------

    def add_review(
        self, at: str, year: int, decisions: Mapping[str, tuple[str, str]], actor: str
    ) -> None:
        """Record one review: per provider a decision and a note; audited in the same write."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO reviews (at, actor, year, provider, decision, note)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (at, provider) DO UPDATE SET actor = excluded.actor,"
                " year = excluded.year, decision = excluded.decision, note = excluded.note",
                [(at, actor, year, p, d, n) for p, (d, n) in decisions.items()],
            )
            after = {p: {"decision": d, "note": n} for p, (d, n) in decisions.items()}
            self._audit(db, actor, "review.add", str(year), None, after)

    def reviews(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT at, actor, year, provider, decision, note FROM reviews"
            " ORDER BY at DESC, provider LIMIT ?",
            (limit,),
        )
        return [dict(row) for row in rows]

    def delete_reviews_before(self, at: str) -> int:
        with self.transaction() as db:
            return db.execute("DELETE FROM reviews WHERE at < ?", (at,)).rowcount

    # -- admin accounts ---------------------------------------------------------------

    def get_user_hash(self, name: str) -> str | None:
        rows = self._query("SELECT password_hash FROM users WHERE name = ?", (name,))
        return str(rows[0]["password_hash"]) if rows else None

    def sessions_valid_after(self, name: str) -> float:
        """Sessions of ``name`` that began before this time are over (logout)."""
        rows = self._query("SELECT sessions_valid_after FROM users WHERE name = ?", (name,))
        return float(rows[0]["sessions_valid_after"]) if rows else 0.0

    def end_sessions(self, name: str, at: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE users SET sessions_valid_after = ? WHERE name = ?", (at, name))

    def set_user(self, name: str, password_hash: str, *, actor: str = "cli") -> bool:
        """Create or reset an account; True if created. The hash never enters the audit log."""
        stamp = now_iso()
        with self.transaction() as db:
            created = self.get_user_hash(name) is None
            db.execute(
                "INSERT INTO users (name, password_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,"
                " updated_at = excluded.updated_at",
                (name, password_hash, stamp, stamp),
            )
            action = "user.add" if created else "user.password_reset"
            self._audit(db, actor, action, name, None, None)
        return created

    # -- failed admin logins (subjects are account names or keyed hashes, never addresses) --

    def count_login_attempt(
        self,
        asked: Sequence[tuple[str, float]],
        allowed: Callable[[list[LoginStat]], bool],
        record: Sequence[str],
        at: float,
        *,
        forget_before: float,
    ) -> bool:
        """Count the attempts per (subject, since) and, if ``allowed`` says so, record one
        more for each subject in ``record``, in one transaction, so that parallel attempts
        are counted one after the other. Attempts older than ``forget_before`` go.

        SQLite's BEGIN IMMEDIATE serializes this across processes; on PostgreSQL every write
        transaction first updates the change counter's row (database.py), which serializes
        it the same way across instances."""
        with self.transaction() as db:
            db.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
            stats = []
            for subject, since in asked:
                row = db.execute(
                    "SELECT count(*) AS n, max(at) AS latest FROM login_failures"
                    " WHERE subject = ? AND at >= ?",
                    (subject, since),
                ).fetchone()
                latest = row["latest"]
                stats.append(LoginStat(int(row["n"]), None if latest is None else float(latest)))
            if not allowed(stats):
                return False
            db.executemany(
                "INSERT INTO login_failures (subject, at) VALUES (?, ?)",
                [(subject, at) for subject in record],
            )
        return True

    def forget_login_attempt(
        self, subjects: Sequence[str], at: float, *, clear: str | None = None
    ) -> None:
        """Strike off one attempt's rows, and every row of ``clear``."""
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM login_failures WHERE subject = ? AND at = ?",
                [(subject, at) for subject in subjects],
            )
            if clear is not None:
                db.execute("DELETE FROM login_failures WHERE subject = ?", (clear,))

    def clear_login_failures(self, subject: str, *, prefix: str | None = None) -> int:
        """Delete the rows of ``subject`` and of every subject starting with ``prefix``."""
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM login_failures WHERE subject = ?", (subject,))
            cleared = max(cursor.rowcount, 0)
            if prefix:
                cursor = db.execute(
                    "DELETE FROM login_failures WHERE substr(subject, 1, ?) = ?",
                    (len(prefix), prefix),
                )
                cleared += max(cursor.rowcount, 0)
        return cleared

    # -- audit log --------------------------------------------------------------------

    def _audit(
        self, db: Connection, actor: str, action: str, target: str, before: Any, after: Any
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, actor, action, target, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (now_iso(), actor, action, target, _audit_json(before), _audit_json(after)),
        )

    def audit(self, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        with self.transaction() as db:
            self._audit(db, actor, action, target, before, after)

    def audit_log(self, limit: int = 200, **filters: str) -> list[dict[str, Any]]:
        clauses = [f"{name} = ?" for name in filters if name in ("actor", "action", "target")]
        values = tuple(v for name, v in filters.items() if name in ("actor", "action", "target"))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(
            f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            (*values, limit),
        )
        return [dict(row) for row in rows]

    def delete_audit_before(self, at: str) -> int:
        with self.transaction() as db:
            return db.execute("DELETE FROM audit WHERE at < ?", (at,)).rowcount

    def audit_facets(self) -> dict[str, list[str]]:
        """The distinct actors and actions in the audit log, for filter choices."""
        facets: dict[str, list[str]] = {}
        for column in ("actor", "action"):
            sql = f"SELECT DISTINCT {column} FROM audit ORDER BY {column}"  # noqa: S608
            facets[column] = [row[0] for row in self._query(sql)]
        return facets

    # -- poster files (so an instance with an empty data directory can serve every poster) --

    def save_poster_files(self, files: Mapping[str, bytes]) -> None:
        """Keep re-encoded poster files; content-addressed, so a name never changes bytes."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO poster_files (name, data) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                list(files.items()),
            )

    def poster_file(self, name: str) -> bytes | None:
        rows = self._query("SELECT data FROM poster_files WHERE name = ?", (name,))
        return bytes(rows[0]["data"]) if rows else None

    def poster_file_names(self) -> set[str]:
        return {str(row["name"]) for row in self._query("SELECT name FROM poster_files")}


def _to_sql(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _embed_from_row(row: Row) -> Embed:
    data = dict(row)
    data["enabled"] = bool(data["enabled"])
    data["poster_custom"] = bool(data["poster_custom"])
    return Embed(**data)


def _audit_json(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Embed):
        value = value.public_dict()
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
