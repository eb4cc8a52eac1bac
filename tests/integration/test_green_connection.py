"""fsapps.store.green: psycopg's waits on gevent's loop, against a real PostgreSQL."""

from __future__ import annotations

import gevent
import gevent.event
import psycopg
import pytest

from fsapps.store.green import GreenConnection
from tests.support.waiting import wait_for


def test_other_greenlets_run_while_a_statement_waits_for_the_server(pg_server) -> None:
    ticks: list[int] = []

    def tick() -> None:
        while True:
            ticks.append(1)
            gevent.sleep(0.02)

    ticker = gevent.spawn(tick)
    try:
        with GreenConnection.connect(pg_server.dsn, autocommit=True) as conn:
            before = len(ticks)
            got = conn.execute("SELECT pg_sleep(0.5), 42").fetchone()
            during = len(ticks) - before
    finally:
        ticker.kill()
    assert got is not None and got[1] == 42
    assert during >= 10, during  # 25 ticks were due; a blocking wait lets none through


def test_many_greenlets_share_the_loop_and_each_gets_its_own_answer(pg_server) -> None:
    conns = [GreenConnection.connect(pg_server.dsn, autocommit=True) for _ in range(8)]
    try:
        jobs = [
            gevent.spawn(lambda c, i: [c.execute("SELECT %s::int * 2", (i * 100 + n,)).fetchone()[0]
                                       for n in range(50)], c, i)
            for i, c in enumerate(conns)
        ]  # fmt: skip
        gevent.joinall(jobs, raise_error=True)
    finally:
        for c in conns:
            c.close()
    assert [j.value for j in jobs] == [[(i * 100 + n) * 2 for n in range(50)] for i in range(8)]


def test_a_statement_cancelled_from_another_greenlet_raises_query_canceled(pg_server) -> None:
    with GreenConnection.connect(pg_server.dsn, autocommit=True) as conn:
        gevent.spawn_later(0.2, conn.cancel_safe)
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(10)")
        assert conn.execute("SELECT 7").fetchone() == (7,)  # still usable


def test_a_backend_killed_mid_statement_raises_at_once_instead_of_hanging(pg_server) -> None:
    with GreenConnection.connect(pg_server.dsn, autocommit=True) as conn:
        pid = conn.info.backend_pid

        def kill() -> None:
            with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        gevent.spawn_later(0.2, kill)
        with gevent.Timeout(5), pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT pg_sleep(10)")
        assert conn.closed or conn.broken


def test_a_wait_longer_than_its_timeout_raises_psycopgs_wait_timeout(pg_server) -> None:
    # psycopg passes a timeout for the waits it bounds (a cancellation's, a pipeline's sync).
    from psycopg.generators import fetch_many

    from fsapps.store import green

    conn = GreenConnection.connect(pg_server.dsn, autocommit=True)
    try:
        conn.pgconn.send_query(b"SELECT pg_sleep(2)")
        began = gevent.get_hub().loop.now()
        with pytest.raises(psycopg.errors._WaitTimeout):
            green.wait(fetch_many(conn.pgconn), conn.pgconn.socket, interval=0.05, timeout=0.3)
        gevent.sleep(0)
        assert gevent.get_hub().loop.now() - began < 1.5
    finally:
        conn.close()


def test_a_greenlet_killed_while_its_pipeline_ends_leaves_nothing_to_fail_later(pg_server) -> None:
    """A kill (or a gevent Timeout) lands while the pipeline's end waits for the server.
    psycopg's exit generator is then abandoned mid-exchange; unless the wait closes it, the
    garbage collector does, after the connection is gone, and its ``finally`` fails then,
    in whatever code happens to be running (an unraisable error)."""
    import gc
    import sys

    unraisable: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        conn = GreenConnection.connect(pg_server.dsn, autocommit=True)
        entered = gevent.event.Event()

        def work() -> None:
            with conn.pipeline():
                entered.set()
                conn.execute("SELECT pg_sleep(5)")  # its result is waited for at the pipeline's end

        job = gevent.spawn(work)
        assert entered.wait(5)
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            # Until the server runs the sleep: the greenlet then waits for its end.
            sleeping = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = %s"

            def asleep() -> bool:
                return admin.execute(sleeping, ("SELECT pg_sleep(5)",)).fetchone() == (1,)

            running = wait_for(asleep, timeout=5, poll=0.01)
        assert running, "the pipelined sleep never ran"
        job.kill()
        assert job.dead
        closed_by_the_kill = conn.closed  # mid-exchange: no state to reuse it in
        conn.close()  # as its owner does then (the pool's check, Dedicated.close)
        del job, work
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert unraisable == []
    assert closed_by_the_kill


def test_a_statement_cut_short_by_a_gevent_timeout_closes_its_connection(pg_server) -> None:
    """The store's database timeout is a gevent Timeout raising an ordinary exception: the
    statement it cuts short leaves the connection mid-exchange, so it is closed (the pool
    replaces it) rather than handed on ACTIVE."""

    class Late(Exception):
        pass

    with GreenConnection.connect(pg_server.dsn, autocommit=True) as conn:
        with pytest.raises(Late), gevent.Timeout(0.2, Late()):
            conn.execute("SELECT pg_sleep(5)")
        assert conn.closed

