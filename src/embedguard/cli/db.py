"""``embedguard db status|migrate|copy``: the database's schema, and moving to another one."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..database import is_postgres_url, sqlite_path
from ..posters import PosterStore
from ..settings import SettingsError, parse_database_url
from ..store import MIGRATIONS, Store
from .common import CommandError, SubParsers, settings_from_env

# Tables copied first (others may refer to them); the rest follow by name.
_COPY_FIRST = ("embeds", "users")


def register(commands: SubParsers) -> None:
    db = commands.add_parser("db", help="the database: schema status, migration, copy")
    actions = db.add_subparsers(required=True, metavar="ACTION")
    status = actions.add_parser("status", help="print the backend and the schema version")
    status.set_defaults(command=_status)
    migrate = actions.add_parser("migrate", help="bring the schema up to date (serve does too)")
    migrate.set_defaults(command=_migrate)
    copy = actions.add_parser(
        "copy", help="copy every table into another, empty database (e.g. SQLite to PostgreSQL)"
    )
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://... or sqlite:///")
    copy.set_defaults(command=_copy)


def _status(args: argparse.Namespace) -> int:
    store = Store(settings_from_env().database_target, migrate=False)
    try:
        found = store.schema_version()
        state = "up to date" if found == len(MIGRATIONS) else "needs `embedguard db migrate`"
        if found > len(MIGRATIONS):
            state = "newer than this embedguard"
        print(f"{store.dialect}: schema {found} of {len(MIGRATIONS)} ({state})")
    finally:
        store.close()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    store = Store(settings_from_env().database_target)
    try:
        print(f"{store.dialect}: schema {store.schema_version()} (up to date)")
    finally:
        store.close()
    return 0


def _copy(args: argparse.Namespace) -> int:
    try:
        url = parse_database_url(args.to.strip())
    except SettingsError as error:
        raise CommandError(f"--to: {error}") from None
    if not url:
        raise CommandError("--to: give the target database's URL")
    settings = settings_from_env()
    if _same(url, settings.database_target):
        raise CommandError("--to: that is the database in use")
    source = Store(settings.database_target)
    try:
        # Posters that so far lived only on disk go along too.
        PosterStore(settings.poster_dir, database=source)
        target = Store(url)
        try:
            counts = copy_tables(source, target)
        finally:
            target.close()
    finally:
        source.close()
    summary = ", ".join(f"{table} {n}" for table, n in counts.items())
    print(f"copied to {target.dialect}: {summary}")
    return 0


def _same(url: str, current: Path | str) -> bool:
    if is_postgres_url(url) or is_postgres_url(current):
        return url == current
    current_path = sqlite_path(current) if isinstance(current, str) else current
    return sqlite_path(url).resolve() == current_path.resolve()


def copy_tables(source: Store, target: Store) -> dict[str, int]:
    """Every row of every table, in one transaction; refuses a target that holds data."""
    tables = source._db.tables()
    missing = sorted(set(tables) - set(target._db.tables()))
    if missing:
        raise CommandError(f"the target database lacks tables: {', '.join(missing)}")
    for table in tables:
        if target._query(f"SELECT 1 FROM {table} LIMIT 1"):  # noqa: S608
            raise CommandError(f"the target database is not empty ({table} has rows)")
    ordered = [t for t in _COPY_FIRST if t in tables] + [t for t in tables if t not in _COPY_FIRST]
    counts: dict[str, int] = {}
    with target.transaction() as db:
        for table in ordered:
            rows = source._query(f"SELECT * FROM {table}")  # noqa: S608
            counts[table] = len(rows)
            if not rows:
                continue
            columns = list(rows[0])
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                [tuple(row[c] for c in columns) for row in rows],
            )
        target._db.after_copy(db)
    return counts
