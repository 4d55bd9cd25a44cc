"""SQLite storage: the allowlist, settings, usage counts, audit log and admin accounts.

One connection, one lock: SQLite in WAL mode serves our reads in microseconds, so the
service calls it directly; :meth:`Store.generation` tells caches when anything changed,
also when another process (the CLI) wrote.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    def __init__(self, path: Path, *, foreign_check_seconds: float = 0.5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._writes = 0
        self._data_version = 0
        self._next_foreign_check = 0.0
        self._foreign_check_seconds = foreign_check_seconds
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plumbing ---------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            current = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, (_name, script) in enumerate(MIGRATIONS, start=1):
                if number <= current:
                    continue
                self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._writes += 1

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def generation(self) -> tuple[int, int]:
        """Changes whenever this process or another one committed a write.

        Our own writes count at once; another process's (the CLI's) within
        ``foreign_check_seconds``: asking SQLite on every request cost a sixth of the
        placeholder's time.
        """
        now = time.monotonic()
        with self._lock:
            if now >= self._next_foreign_check:
                self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
                self._next_foreign_check = now + self._foreign_check_seconds
            return self._data_version, self._writes

    def healthy(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT count(*) FROM settings").fetchone()
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            return False
        return True

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
            db.execute(
                f"INSERT OR REPLACE INTO embeds ({columns}) VALUES ({marks})",  # noqa: S608
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
                "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)",
                (name, json.dumps(value, ensure_ascii=False)),
            )
            self._audit(db, actor, "setting.update", name, before, value)

    # -- usage counts (anonymous aggregates) ------------------------------------------

    def add_usage(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Add (provider, embed key, event) counts to today's aggregates, in one write."""
        day = datetime.now(UTC).date().isoformat()
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO usage (day, provider, embed_key, event, count) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (day, provider, embed_key, event) DO UPDATE SET"
                " count = count + excluded.count",
                [(day, *key, n) for key, n in counts.items() if key[2] in USAGE_EVENTS],
            )

    def usage(self, since: str = "0000-00-00") -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT day, provider, embed_key, event, count FROM usage WHERE day >= ?"
            " ORDER BY day DESC, provider, embed_key, event",
            (since,),
        )
        return [dict(row) for row in rows]

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

        SQLite's BEGIN IMMEDIATE serializes this across processes; a server database needs
        the same (a lock on the table or an advisory lock), or two counts could overlap."""
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
        self, db: sqlite3.Connection, actor: str, action: str, target: str, before: Any, after: Any
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

    def audit_facets(self) -> dict[str, list[str]]:
        """The distinct actors and actions in the audit log, for filter choices."""
        facets: dict[str, list[str]] = {}
        for column in ("actor", "action"):
            sql = f"SELECT DISTINCT {column} FROM audit ORDER BY {column}"  # noqa: S608
            facets[column] = [row[0] for row in self._query(sql)]
        return facets


def _to_sql(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _embed_from_row(row: sqlite3.Row) -> Embed:
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
