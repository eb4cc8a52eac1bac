"""Which PostgreSQL: ``database.dsn`` when configured, else the embedded default."""

from __future__ import annotations

import logging

import psycopg

from fsapps.config import Settings
from fsapps.store import migrate
from fsapps.store.db import Store, StoreError
from fsapps.store.embedded import EmbeddedPostgres

log = logging.getLogger("fsapps.store")


class Database:
    """The DSN to use and, for the embedded default, the server behind it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.dsn = settings.database.dsn or ""

    def start(self, *, migrate_embedded: bool = True) -> Database:
        if not self.dsn:
            self.embedded = EmbeddedPostgres(self.settings.state_dir)
            try:
                self.dsn = self.embedded.start()
            except Exception as exc:
                raise StoreError(
                    f"cannot start the embedded PostgreSQL in {self.embedded.pgdata}: {exc}"
                ) from exc
            if migrate_embedded:
                migrate.migrate(self.dsn)
        return self

    def check_schema(self) -> None:
        """A configured database must be migrated explicitly; say so in one line."""
        try:
            missing = [m for m, done in migrate.status(self.dsn) if not done]
        except psycopg.Error as exc:
            raise StoreError(f"cannot reach PostgreSQL ({_short(exc)})") from exc
        if missing:
            raise StoreError(f"the database is missing {len(missing)} migration(s): run `fsapps db migrate`")

    def store(self, **kw: object) -> Store:
        return Store(self.dsn, **kw).open()  # type: ignore[arg-type]

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.close()


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
