"""Numbered SQL migrations, applied in order, each once.

``fsapps/store/migrations/NNNN_name.sql`` files run in one transaction each
and are recorded in ``schema_version``. Two processes starting at once
serialise on an advisory lock; the second finds nothing left to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

LOCK_KEY = 0x66736170  # "fsap": the advisory lock every fsapps migrator takes


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    out = []
    for entry in resources.files("fsapps.store.migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text()))
    return sorted(out, key=lambda x: x.version)


def applied(conn: psycopg.Connection) -> dict[int, str]:
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall())


def migrate(dsn: str, upto: int | None = None) -> list[Migration]:
    """Apply what is missing (up to version ``upto``, for tests and benchmarks of an
    earlier schema); returns the migrations applied by this call."""
    done: list[Migration] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            have = applied(conn)
            for m in available():
                if m.version in have or (upto is not None and m.version > upto):
                    continue
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES (%s, %s)", (m.version, m.name)
                    )
                done.append(m)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return done


def status(dsn: str) -> list[tuple[Migration, bool]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        have = applied(conn)
    return [(m, m.version in have) for m in available()]
