"""The ACD's routing state commits without waiting for the WAL flush, and nothing else
does (fsapps.store.db.UNFLUSHED): each kind of scope, asked ``flushed=False``, runs its
transaction with synchronous_commit off, which PostgreSQL reads at the COMMIT
(RecordTransactionCommit); the connection's next scope, handed out by the same pool or
kept by the same Dedicated, is flushed again, and what the unflushed scope wrote is
committed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest

from fsapps.store.db import Dedicated, Store

SETTING = "SELECT current_setting('synchronous_commit') AS s, pg_backend_pid() AS pid"


@pytest.fixture
def one(db_dsn) -> Iterator[Store]:
    """A store of one connection: every scope runs on the same session."""
    s = Store(db_dsn, max_size=1).open()
    with s.operator() as op:
        op.conn.execute("CREATE TABLE marks (id text PRIMARY KEY)")
    yield s
    s.close()


def marked(dsn: str, mark: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT 1 FROM marks WHERE id = %s", (mark,)).fetchone() is not None


def run(scope: AbstractContextManager[Any]) -> tuple[str, int, str]:
    """The setting a scope's statements run with, its backend, and a row it wrote."""
    mark = str(uuid.uuid4())
    with scope as op:
        op.conn.execute("INSERT INTO marks VALUES (%s)", (mark,))
        row = op.conn.execute(SETTING).fetchone()
    return row["s"], row["pid"], mark


@pytest.mark.parametrize(
    "scope",
    [
        lambda s, **kw: s.statement(**kw),
        lambda s, **kw: s.operator(**kw),
        lambda s, **kw: s.operator(pipelined=True, **kw),
    ],
    ids=["statement", "operator", "operator-pipelined"],
)
def test_a_store_scope_unflushed_alone_and_committed(one: Store, scope: Callable[..., Any]) -> None:
    notices: list[str] = []
    with one.statement() as op:  # the pool's one connection: what the server tells it
        op.conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    before, pid0, _ = run(scope(one))
    setting, pid1, mark = run(scope(one, flushed=False))
    after, pid2, _ = run(scope(one))
    assert pid0 == pid1 == pid2  # one session throughout: the setting did not outlive its scope
    assert (before, setting, after) == ("on", "off", "on")
    assert marked(one.dsn, mark)
    assert notices == []  # no warning at each (SET LOCAL outside a BEGIN would say one)


@pytest.mark.parametrize("pipelined", [False, True], ids=["statement", "statement-pipelined"])
def test_the_dispatchers_own_connection_unflushed_alone_and_committed(one: Store, pipelined: bool) -> None:
    own = Dedicated(one.dsn)
    try:
        before, pid0, _ = run(own.statement(pipelined=pipelined))
        setting, pid1, mark = run(own.statement(pipelined=pipelined, flushed=False))
        after, pid2, _ = run(own.operator())
        assert pid0 == pid1 == pid2
        assert (before, setting, after) == ("on", "off", "on")
        assert marked(one.dsn, mark)
    finally:
        own.close()


def test_an_unflushed_statement_that_fails_writes_nothing_and_the_connection_goes_on(one: Store) -> None:
    mark = str(uuid.uuid4())
    with pytest.raises(psycopg.errors.UniqueViolation), one.statement(flushed=False) as op:
        op.conn.execute("INSERT INTO marks VALUES (%s), (%s)", (mark, mark))
    assert not marked(one.dsn, mark)
    assert run(one.statement())[0] == "on"
