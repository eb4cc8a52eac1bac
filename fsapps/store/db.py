"""The PostgreSQL store: connection pools and tenant-scoped transactions.

Tenant walls are kept twice. Code cannot reach tenant data except through
``store.tenant(t)``, whose repositories take the tenant from the
transaction, never from the caller. And PostgreSQL's row-level security
hides and refuses every other tenant's rows, even to raw SQL run in that
transaction: tenant transactions run on a pool of their own whose
connections log in as an unprivileged role (member of ``fsapps_tenant``
only, so ``RESET ROLE`` leads nowhere), and the transaction is bound to its
tenant by ``fsapps_private.bind_tenant``, which wants a secret only the
owner can read and binds a transaction once; a ``COMMIT`` leaves what
follows bound to no tenant (migration 0009 says how). A connection back
from a tenant transaction is wiped of session state (temporary tables,
prepared statements, settings) before the next tenant gets it.
``store.operator()`` is the operator's view of everything, on the owner's
pool.

psycopg cooperates with gevent only when gevent patched the standard
library before psycopg was imported (../shared/FACTS.md: 50 x pg_sleep(0.1)
take 0.12 s patched, 5.1 s otherwise); ``Store`` refuses to start otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from fsapps.store.green import GreenConnection
from fsapps.store.records import Cdr, Tenant, UsageRecord, User

log = logging.getLogger("fsapps.store")

USAGE_COLUMNS = (
    "event_id", "tenant_id", "resource", "resource_id", "kind", "started_at", "ended_at",
    "workload", "unit", "outcome", "call_uuid",
)  # fmt: skip
CDR_COLUMNS = (
    "event_id", "tenant_id", "call_uuid", "leg_uuid", "leg", "direction", "caller", "destination",
    "queue", "agent_id", "started_at", "answered_at", "ended_at", "wait_seconds", "billsec", "duration",
    "hangup_cause", "recording",
)  # fmt: skip


class StoreError(RuntimeError):
    """A store failure worth one line to the user (unreachable, unknown tenant...)."""


class UnknownTenant(StoreError):
    pass


TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # tenants.id's CHECK (migration 0001)

# What SQL in a tenant transaction may leave in its session for the next tenant on that
# connection (a temporary table named like a real one, a setting, a cursor WITH HOLD,
# LISTEN, an advisory lock, sequence values): dropped in the round trip that ends the
# transaction. It is what DISCARD ALL drops but two things. Cached plans hold no data, and
# re-planning the binding functions at every transaction would cost 0.3 ms. Prepared
# statements: psycopg's own (protocol-level) are kept, which saves planning every statement
# again; one made with SQL PREPARE (from_sql), which could take the name of one of psycopg's
# and run in the next tenant's transaction instead, is counted, and then all are dropped.
WIPE_SESSION = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *;"
    " SELECT pg_advisory_unlock_all(); DISCARD SEQUENCES; DISCARD TEMP;"
    " SELECT count(*) AS sql_prepared FROM pg_prepared_statements WHERE from_sql"
)
BIND = "SELECT fsapps_private.bind_tenant(%s, %s)"
# A transaction whose COMMIT returns before its WAL is flushed to disk (synchronous_commit
# off for it alone): for the ACD's routing state (who waits, who is offered to whom),
# which mod_callcenter itself keeps in SQLite with PRAGMA synchronous=OFF
# (switch_core_db.c:204). A caller's join and offers waited for the flush on their way to
# the agent's phone. PostgreSQL flushes it within 3 x wal_writer_delay (0.6 s by default);
# only a crash of PostgreSQL itself (or of its host) in that window undoes it, and each
# controller then puts its rows back as its memory has them (fsapps.acd.rowsync).
# Records (CDRs, usage, queue calls) never go this way. set_config(..., true) is SET LOCAL
# without its warning outside a BEGIN: in an autocommit statement it is sent in a pipeline
# with the statement, both in the implicit transaction the server commits at its sync.
UNFLUSHED = "SELECT set_config('synchronous_commit', 'off', true)"


def _end(conn: psycopg.Connection, how: str) -> bool:
    """COMMIT or ROLLBACK the tenant transaction and wipe its session; True once wiped."""
    cur = conn.execute(f"{how}; {WIPE_SESSION}")
    while cur.nextset():  # to the last statement's result: the count
        pass
    row: Any = cur.fetchone()
    if row["sql_prepared"]:
        conn.execute("DEALLOCATE ALL")  # psycopg sees it, and forgets its own statements too
    return True


def check_cooperative() -> None:
    import sys

    import psycopg.waiting

    monkey = sys.modules.get("gevent.monkey")
    wait_name = getattr(psycopg.waiting.wait, "__name__", "")
    if monkey is not None and monkey.is_module_patched("socket") and wait_name == "wait_c":
        raise StoreError(
            "psycopg was imported before gevent patched the standard library: every query would "
            "block all greenlets; patch first (fsapps.cli does)"
        )


def _password_hasher():  # argon2: the hashing library the OWASP cheat sheet recommends first
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import VerificationError

    try:
        return _password_hasher().verify(password_hash, password)
    except VerificationError:
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CHECK_WAIT = 2.0  # seconds a transaction that met a lost connection waits for the pool's test

# libpq's TCP settings for the connections a Store makes (its pools, the dispatcher's own,
# the LISTENs, the relay), unless the DSN sets its own. Without them a connection whose
# server vanished without a FIN or RST (a partition, a host powered off) is found dead only
# once the kernel gives up resending, about 15 minutes (idle, as a LISTEN is: over two
# hours), hearing nothing meanwhile, and the pool's test of its idle connections blocks as
# long. Idle, the kernel probes after 10 s of silence, every 5 s; tcp_user_timeout (ms)
# drops a connection whose data or probes have gone unanswered for 30 s (on Linux it, not
# keepalives_count, then decides): a vanished server is found within about 35 s. Unix
# sockets ignore them.
TCP_DEFAULTS = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
                "keepalives_count": "3", "tcp_user_timeout": "30000"}  # fmt: skip


def with_tcp_defaults(dsn: str) -> str:
    """``dsn`` with TCP_DEFAULTS for the settings it does not make itself; one that names a
    service (``service=`` or PGSERVICE) as it is: a DSN's settings would override the file's."""
    params = conninfo_to_dict(dsn)
    if params.get("service") or os.environ.get("PGSERVICE"):
        log.info("database DSN names a service: its TCP settings are the service file's")
        return dsn
    missing = {k: v for k, v in TCP_DEFAULTS.items() if k not in params}
    return make_conninfo(dsn, **missing) if missing else dsn


class LostConnections:
    """A pool's idle connections tested once one is found lost (ConnectionPool.check): a
    restart of PostgreSQL closes them all, and each would otherwise fail one more transaction
    as it was handed out. One test at a time, in a thread of its own (a greenlet once gevent
    has patched threading), which the transaction that found the lost one waits for: the test
    takes every idle connection out of the pool while it runs, and cut short (that caller's
    timeout, its greenlet killed) it would never put them back."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        self._lock = threading.Lock()
        self._test: threading.Thread | None = None

    def found(self, wait: float = CHECK_WAIT) -> None:
        with self._lock:
            test = self._test
            if test is None or not test.is_alive():
                test = self._test = threading.Thread(target=self._check, name="pool check", daemon=True)
                test.start()
        test.join(wait)

    def _check(self) -> None:
        try:
            self.pool.check()
        except Exception as exc:  # the next lost connection starts another
            log.warning("testing the pool's connections failed: %s", exc)


@contextmanager
def checked_out(
    pool: ConnectionPool[Any], lost: LostConnections, timeout: float | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """``pool.connection(timeout)``; a connection found lost has ``lost`` test the pool's
    others before the error goes on."""
    with pool.connection(timeout=timeout) as conn:
        try:
            yield conn
        except psycopg.OperationalError:
            if conn.broken:
                lost.found()
            raise


class Store:
    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 20, timeout: float = 10.0) -> None:
        check_cooperative()
        self.dsn = with_tcp_defaults(dsn)  # every connection made from it: pools, LISTENs, relay
        self._sizes = (min_size, max_size, timeout)
        # The owner's connections: migrations' objects, operator() transactions.
        self.pool = ConnectionPool(
            self.dsn, min_size=min_size, max_size=max_size, timeout=timeout, open=False,
            kwargs={"row_factory": dict_row}, name="fsapps", connection_class=GreenConnection,
        )  # fmt: skip
        self._tenant_pool: ConnectionPool[Any] | None = None
        self._operator_lost = LostConnections(self.pool)
        self._tenant_lost: LostConnections | None = None  # with the tenant pool
        self._bind_secret = ""
        self._tenant_setup = threading.Lock()

    def open(self, wait: bool = True, timeout: float = 10.0) -> Store:
        """Open the pools; ``wait=False`` connects in the background (and the tenant pool at
        the first tenant transaction), for a caller that must not wait for PostgreSQL."""
        try:
            self.pool.open(wait=wait, timeout=timeout)
        except Exception as exc:
            raise StoreError(f"cannot reach PostgreSQL: {exc}") from exc
        if wait:
            try:
                self._tenant_side(timeout, wait=True)
            except BaseException:
                self.pool.close()
                raise
        return self

    def close(self) -> None:
        if self._tenant_pool is not None:
            self._tenant_pool.close()
        self.pool.close()

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tenant_pool(self) -> ConnectionPool[Any] | None:
        """The pool of tenant transactions (None until set up)."""
        return self._tenant_pool

    def _tenant_side(self, timeout: float | None, *, wait: bool = False) -> tuple[ConnectionPool[Any], str]:
        """The tenant pool and the binding secret, set up once: the owner creates or repairs
        the tenant login (fsapps_private.ensure_tenant_login) and reads the secret."""
        with self._tenant_setup:
            if self._tenant_pool is not None:
                return self._tenant_pool, self._bind_secret
            try:
                with self.pool.connection(timeout=timeout) as conn, conn.transaction():
                    login: Any = conn.execute("SELECT * FROM fsapps_private.ensure_tenant_login()").fetchone()
            except (psycopg.errors.UndefinedFunction, psycopg.errors.InvalidSchemaName) as exc:
                raise StoreError(
                    "the database has no tenant login (migration 0009): run `fsapps db migrate`"
                ) from exc
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreError(f"cannot set up the tenant login: {exc}") from exc
            assert login is not None
            pool = ConnectionPool(
                self._tenant_conninfo(login), min_size=self._sizes[0],
                max_size=self._sizes[1], timeout=self._sizes[2], open=False, name="fsapps-tenant",
                connection_class=GreenConnection,
                # autocommit: tenant() says BEGIN and COMMIT itself, the COMMIT and the wipe
                # in one round trip.
                kwargs={"row_factory": dict_row, "autocommit": True, "password": login["password"]},
            )  # fmt: skip
            if wait:
                try:
                    pool.open(wait=True, timeout=timeout or 10.0)
                except PoolTimeout as exc:
                    pool.close()
                    why = self._login_failure(login)
                    raise StoreError(
                        f"tenant connections cannot log in as {login['role_name']!r}: {why}"
                    ) from exc
            else:
                pool.open(wait=False)
            self._tenant_lost = LostConnections(pool)  # before the pool is seen
            self._tenant_pool, self._bind_secret = pool, login["bind_secret"]
            return pool, self._bind_secret

    def _tenant_conninfo(self, login: dict[str, Any]) -> str:
        """The owner's host, port, database and options, as the tenant login; its password
        goes as a separate argument (the owner's, if the DSN has one, is left out)."""
        params = {k: v for k, v in conninfo_to_dict(self.dsn).items() if k != "password"}
        return make_conninfo(**{**params, "user": login["role_name"]})

    def _login_failure(self, login: dict[str, Any]) -> str:
        """Why the tenant login fails, in libpq's words (pg_hba.conf, password...)."""
        try:
            psycopg.connect(self._tenant_conninfo(login), password=login["password"]).close()
        except psycopg.Error as exc:
            return str(exc).strip() or type(exc).__name__
        return "no connection within the timeout"

    @contextmanager
    def tenant(self, tenant_id: str, timeout: float | None = None) -> Iterator[TenantScope]:
        """One transaction that sees and changes ``tenant_id``'s rows only;
        ``timeout`` bounds the wait for a connection (a caller is listening)."""
        if not tenant_id:
            raise UnknownTenant("no tenant given")
        if not TENANT_ID.fullmatch(tenant_id):
            raise UnknownTenant(f"unknown tenant {tenant_id!r}")
        pool, secret = self._tenant_side(timeout)
        assert self._tenant_lost is not None  # set with the pool
        with checked_out(pool, self._tenant_lost, timeout) as conn:
            wiped = False
            try:
                # (Pipelining these two costs more than the round trip it saves, in psycopg 3.3.)
                conn.execute("BEGIN")
                # The secret travels as a parameter: pg_stat_activity shows the sessions of
                # one role each other's query texts, never their parameters.
                conn.execute(BIND, (secret, tenant_id))
                yield TenantScope(conn, tenant_id)
                wiped = _end(conn, "COMMIT")  # a failed COMMIT skips the wipe: raises
            except BaseException:
                with contextlib.suppress(Exception):
                    wiped = _end(conn, "ROLLBACK")
                raise
            finally:
                if not wiped:  # never handed to another tenant as it is: the pool replaces it
                    conn.close()

    @contextmanager
    def operator(self, *, pipelined: bool = False, flushed: bool = True) -> Iterator[OperatorScope]:
        """One operator transaction. ``pipelined``: in psycopg's pipeline mode, so the
        statements whose results are not read go out together with the COMMIT: a
        read-then-write transaction takes two round trips, and its row locks are held for
        one, with no yield to other greenlets between the writes and the COMMIT.
        ``flushed`` False: the COMMIT does not wait for the WAL flush (UNFLUSHED; pipelined,
        it costs no round trip)."""
        with checked_out(self.pool, self._operator_lost) as conn, contextlib.ExitStack() as stack:
            if pipelined:
                stack.enter_context(conn.pipeline())
            stack.enter_context(conn.transaction())
            if not flushed:
                conn.execute(UNFLUSHED)
            yield OperatorScope(conn)

    @contextmanager
    def statement(self, *, flushed: bool = True) -> Iterator[OperatorScope]:
        """operator() for ONE statement, committed as it runs (autocommit): one round trip
        where a transaction takes three (BEGIN, the statement, COMMIT). Each statement run
        in it commits on its own: never for two that must change together. ``flushed``
        False: for ONE statement, sent in a pipeline after UNFLUSHED; both run in the
        implicit transaction the server commits at the pipeline's sync, as the scope ends.
        Its result read after the scope: one round trip (read inside, a second one)."""
        with checked_out(self.pool, self._operator_lost) as conn:
            conn.autocommit = True
            try:
                with contextlib.ExitStack() as stack:
                    if not flushed:
                        stack.enter_context(conn.pipeline())
                        conn.execute(UNFLUSHED)
                    yield OperatorScope(conn)
            finally:
                with contextlib.suppress(psycopg.Error):  # a broken one: the pool drops it
                    conn.autocommit = False


class Dedicated:
    """One owner's connection kept for one path, outside the pool: the ACD dispatcher's
    passes and heartbeat never queue for a connection behind the calls' transactions and
    the records. One transaction at a time (others wait for it); a connection that failed
    is replaced at the next transaction."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.RLock()
        # How many connections it has made: a new one means the last was lost (a restart of
        # PostgreSQL among the causes), which the ACD's housekeeper takes as a return.
        self.connections = 0

    @contextmanager
    def operator(self) -> Iterator[OperatorScope]:
        """One transaction on this connection."""
        with self._connection() as conn, conn.transaction():
            yield OperatorScope(conn)

    @contextmanager
    def statement(self, *, pipelined: bool = False, flushed: bool = True) -> Iterator[OperatorScope]:
        """Statements each committed as it runs (autocommit), with no BEGIN and no COMMIT to
        wait for: for one statement that does all it must (a pass's offers), or reads that
        need not share a transaction (under READ COMMITTED each statement of a transaction
        has a snapshot of its own anyway). ``pipelined``: the statements go out together,
        one round trip for all those sent before the first is read; those share the implicit
        transaction the server runs up to the pipeline's sync (one failing undoes the others
        sent with it), so pipeline reads, not writes that must stand alone. ``flushed``
        False: as Store.statement's, for one statement."""
        with self._connection() as conn:
            conn.autocommit = True
            try:
                with contextlib.ExitStack() as stack:
                    if pipelined or not flushed:
                        stack.enter_context(conn.pipeline())
                    if not flushed:
                        conn.execute(UNFLUSHED)
                    yield OperatorScope(conn)
            finally:
                if not conn.closed:
                    try:
                        conn.autocommit = False
                    except psycopg.Error:  # left mid-exchange: no state to reuse it in
                        self.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed:
                conn = self._conn = GreenConnection.connect(self.dsn, row_factory=dict_row)
                self.connections += 1
            try:
                yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self.close()
                raise

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


# --- scopes -----------------------------------------------------------------


class _Scope:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return list(self.conn.execute(sql, tuple(params)).fetchall())  # type: ignore[arg-type]

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        return self.conn.execute(sql, tuple(params)).fetchone()  # type: ignore[return-value]


def _tenant(row: dict[str, Any]) -> Tenant:
    return Tenant(
        row["id"],
        row["name"],
        row["domain"],
        row["timezone"],
        row["language"],
        row["billing_plan"],
        row["status"],
    )


def _user(row: dict[str, Any]) -> User:
    return User(
        row["id"], row["username"], row["role"], row["tenant_id"], row["disabled"], row.get("language")
    )


COPY_FROM = 200  # a batch this big goes through COPY (bench/store.py: ~3x executemany)


def insert_usage(conn: psycopg.Connection, records: Iterable[UsageRecord]) -> int:
    """Insert, skipping event ids already there; returns how many were new."""
    rows = [tuple(map(r.to_row().__getitem__, USAGE_COLUMNS)) for r in records]
    if not rows:
        return 0
    cols = ", ".join(USAGE_COLUMNS)
    if len(rows) >= COPY_FROM:
        # Row-level security refuses COPY FROM into the table itself: copy into
        # a temporary table, then INSERT ... SELECT under the tenant's policy.
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE fsapps_incoming ON COMMIT DROP AS"
                f" SELECT {cols} FROM usage_records LIMIT 0"
            )
            with cur.copy(f"COPY fsapps_incoming ({cols}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
            cur.execute(
                f"INSERT INTO usage_records ({cols}) SELECT {cols} FROM fsapps_incoming"
                " ON CONFLICT DO NOTHING"
            )
            inserted = max(cur.rowcount, 0)
            cur.execute("DROP TABLE fsapps_incoming")
            return inserted
    marks = ", ".join(["%s"] * len(USAGE_COLUMNS))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO usage_records ({cols}) VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING",
            rows,
            returning=False,
        )
        return max(cur.rowcount, 0)


def insert_cdrs(conn: psycopg.Connection, records: Iterable[Cdr]) -> int:
    rows = [tuple(map(r.to_row().__getitem__, CDR_COLUMNS)) for r in records]
    if not rows:
        return 0
    cols = ", ".join(CDR_COLUMNS)
    marks = ", ".join(["%s"] * len(CDR_COLUMNS))
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO cdrs ({cols}) VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING", rows)
        return max(cur.rowcount, 0)


def insert_rows(conn: psycopg.Connection, table: str, records: Iterable[Any]) -> int:
    """Insert records keyed by event id (their ``to_row()`` names the columns), skipping repeats."""
    rows = [r.to_row() for r in records]
    if not rows:
        return 0
    cols = list(rows[0])
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (event_id) DO NOTHING").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(cols)),
    )
    with conn.cursor() as cur:
        cur.executemany(query, [tuple(r[c] for c in cols) for r in rows])
        return max(cur.rowcount, 0)


class TenantScope(_Scope):
    """Repositories bound to one tenant: none of them takes a tenant argument."""

    def __init__(self, conn: psycopg.Connection, tenant_id: str) -> None:
        super().__init__(conn)
        self.tenant_id = tenant_id

    def info(self) -> Tenant:
        row = self._one("SELECT * FROM tenants")
        if row is None:
            raise UnknownTenant(f"unknown tenant {self.tenant_id!r}")
        return _tenant(row)

    # usage records
    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        recs = list(records)
        for r in recs:
            if r.tenant_id != self.tenant_id:
                raise StoreError(f"usage record for {r.tenant_id!r} in a transaction for {self.tenant_id!r}")
        return insert_usage(self.conn, recs)

    def usage_between(self, start: datetime, end: datetime) -> list[UsageRecord]:
        rows = self._all(
            f"SELECT {', '.join(USAGE_COLUMNS)} FROM usage_records"
            " WHERE started_at >= %s AND started_at < %s ORDER BY started_at, event_id",
            (start, end),
        )
        return [UsageRecord(**{**r, "event_id": str(r["event_id"]),
                               "call_uuid": str(r["call_uuid"]) if r["call_uuid"] else None})
                for r in rows]  # fmt: skip

    # CDRs
    def add_cdrs(self, records: Iterable[Cdr]) -> int:
        recs = list(records)
        for r in recs:
            if r.tenant_id != self.tenant_id:
                raise StoreError(f"CDR for {r.tenant_id!r} in a transaction for {self.tenant_id!r}")
        return insert_cdrs(self.conn, recs)

    def cdrs(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM cdrs ORDER BY started_at DESC LIMIT %s", (limit,))

    def cdrs_for_legs(self, leg_uuids: list[str]) -> list[dict[str, Any]]:
        return self._all(
            "SELECT * FROM cdrs WHERE leg_uuid = ANY(%s::uuid[]) ORDER BY started_at", (leg_uuids,)
        )

    def usage_for_calls(self, call_uuids: list[str]) -> list[dict[str, Any]]:
        return self._all(
            "SELECT * FROM usage_records WHERE call_uuid = ANY(%s::uuid[]) ORDER BY started_at", (call_uuids,)
        )

    def calls(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM calls ORDER BY started_at DESC LIMIT %s", (limit,))

    # users, tokens
    def add_user(self, username: str, password: str, role: str, language: str | None = None) -> User:
        if role == "operator_admin":
            raise StoreError("an operator admin belongs to no tenant")
        row = self._one(
            "INSERT INTO users (tenant_id, username, password_hash, role, language)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING *",
            (self.tenant_id, username, hash_password(password), role, language),
        )
        assert row is not None
        return _user(row)

    def users(self) -> list[User]:
        return [_user(r) for r in self._all("SELECT * FROM users ORDER BY username")]

    def issue_token(self, user_id: int, name: str, expires_at: datetime | None = None) -> str:
        """A new API token for a user of this tenant; returned once, stored as a digest."""
        token = "fsa_" + secrets.token_urlsafe(32)
        self.conn.execute(
            "INSERT INTO api_tokens (user_id, tenant_id, name, token_sha256, expires_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (user_id, self.tenant_id, name, token_digest(token), expires_at),
        )
        return token

    # numbers, agents
    def access_numbers(self) -> list[str]:
        return [r["number"] for r in self._all("SELECT number FROM access_numbers ORDER BY number")]

    def agents(self) -> list[dict[str, Any]]:
        return self._all(
            "SELECT a.id, a.name, a.user_id, a.contact, a.created_at, m.weight"
            " FROM agents a JOIN agent_tenants m ON m.agent_id = a.id ORDER BY a.id"
        )

    def seats(self) -> int:
        row = self._one("SELECT count(*) AS n FROM agent_tenants")
        return int(row["n"]) if row else 0


class OperatorScope(_Scope):
    """The operator's view: every tenant."""

    def add_tenant(self, tenant: Tenant, numbers: Iterable[str] = ()) -> Tenant:
        try:
            self.conn.execute(
                "INSERT INTO tenants (id, name, domain, timezone, language, billing_plan, status)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (tenant.id, tenant.name, tenant.domain, tenant.timezone, tenant.language,
                 json.dumps(tenant.billing_plan), tenant.status),
            )  # fmt: skip
        except psycopg.errors.UniqueViolation as exc:
            raise StoreError(f"tenant {tenant.id!r} or domain {tenant.domain!r} exists already") from exc
        except psycopg.errors.CheckViolation as exc:
            raise StoreError(f"tenant id {tenant.id!r}: lowercase letters, digits, - and _ only") from exc
        for n in numbers:
            self.add_number(tenant.id, n)
        return tenant

    def add_number(self, tenant_id: str, number: str, flow: str | None = None) -> None:
        owner = self._one("SELECT tenant_id FROM access_numbers WHERE number = %s", (number,))
        if owner is not None:
            raise StoreError(f"access number {number} already belongs to tenant {owner['tenant_id']!r}")
        self.conn.execute(
            "INSERT INTO access_numbers (number, tenant_id, flow) VALUES (%s, %s, %s)",
            (number, tenant_id, flow),
        )

    def tenants(self) -> list[Tenant]:
        return [_tenant(r) for r in self._all("SELECT * FROM tenants ORDER BY id")]

    def tenant(self, tenant_id: str) -> Tenant:
        row = self._one("SELECT * FROM tenants WHERE id = %s", (tenant_id,))
        if row is None:
            raise UnknownTenant(f"unknown tenant {tenant_id!r}")
        return _tenant(row)

    def set_billing_plan(self, tenant_id: str, plan: dict[str, Any]) -> None:
        cur = self.conn.execute(
            "UPDATE tenants SET billing_plan = %s WHERE id = %s", (json.dumps(plan), tenant_id)
        )
        if cur.rowcount == 0:
            raise UnknownTenant(f"unknown tenant {tenant_id!r}")

    def add_operator_admin(self, username: str, password: str) -> User:
        row = self._one(
            "INSERT INTO users (username, password_hash, role) VALUES (%s, %s, 'operator_admin') RETURNING *",
            (username, hash_password(password)),
        )
        assert row is not None
        return _user(row)

    def add_agent(
        self, agent_id: str, name: str, tenants: dict[str, int], contact: str | None = None
    ) -> None:
        """An agent serving one tenant (dedicated) or several, each with a weight."""
        self.conn.execute(
            "INSERT INTO agents (id, name, contact) VALUES (%s, %s, %s)", (agent_id, name, contact)
        )
        for tenant_id, weight in tenants.items():
            self.conn.execute(
                "INSERT INTO agent_tenants (agent_id, tenant_id, weight) VALUES (%s, %s, %s)",
                (agent_id, tenant_id, weight),
            )

    def find_token(self, token: str) -> dict[str, Any] | None:
        return self._one(
            "SELECT t.*, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_sha256 = %s AND t.revoked_at IS NULL"
            " AND (t.expires_at IS NULL OR t.expires_at > now())",
            (token_digest(token),),
        )

    def find_user(self, username: str) -> tuple[User, str] | None:
        row = self._one("SELECT * FROM users WHERE username = %s", (username,))
        return (_user(row), row["password_hash"]) if row else None
