"""Nothing lost: PostgreSQL stopped in the middle of a stream of writes, then started again."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import gevent
import gevent.event
import psycopg

from fsapps.store.durable import DurableWriter
from fsapps.store.records import Cdr, Tenant, UsageRecord
from tests.support.waiting import wait_for

T0 = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def record(i: int) -> UsageRecord:
    return UsageRecord(
        tenant_id="acme", resource="ivr", kind="ivr_session", started_at=T0 + timedelta(seconds=i),
        ended_at=T0 + timedelta(seconds=i + 30), workload=Decimal(30), unit="seconds", outcome="completed",
    )  # fmt: skip


def count(store) -> tuple[int, int]:
    with store.tenant("acme") as t:
        row = t.conn.execute(
            "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM usage_records"
        ).fetchone()
    return row["n"], row["d"]


def test_every_record_arrives_exactly_once_across_an_outage(store, pg_server, tmp_path) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    writer = DurableWriter(store, tmp_path / "spool", retry_every=0.2).start()
    sent: list[str] = []

    def stream(n: int) -> None:
        for _ in range(n):
            rec = record(len(sent))
            writer.write(rec)
            sent.append(rec.event_id)
            gevent.sleep(0.01)

    stream(40)
    pg_server.stop_server()
    try:
        stream(40)  # the database is gone: these go to the spool
        assert writer.spooled >= 30
        assert (tmp_path / "spool" / "records.jsonl").exists()
    finally:
        pg_server.start_server()
    stream(40)
    store.pool.check()
    with gevent.Timeout(20):
        while writer.pending:
            gevent.sleep(0.1)
    writer.stop()
    assert count(store) == (120, 120)
    with store.tenant("acme") as t:
        ids = {str(r["event_id"]) for r in t.conn.execute("SELECT event_id FROM usage_records")}
    assert ids == set(sent)


def test_replaying_twice_still_lands_once(store, tmp_path) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    writer = DurableWriter(store, tmp_path / "spool")
    recs = [record(i) for i in range(5)]
    writer.spool.append(recs)
    writer.replay()
    writer.spool.append(recs)  # as if the process died after inserting, before truncating
    writer.replay()
    assert count(store) == (5, 5)
    uid = recs[0].event_id
    cdr = Cdr(event_id=uid, tenant_id="acme", call_uuid=uid, leg_uuid=uid, leg="a", direction="inbound",
              caller="1", destination="2", started_at=T0, answered_at=None, ended_at=T0, wait_seconds=0,
              billsec=0, duration=0, hangup_cause="NO_ANSWER")  # fmt: skip
    writer.spool.append([cdr])
    writer.replay()
    with store.tenant("acme") as t:
        assert [c["hangup_cause"] for c in t.cdrs()] == ["NO_ANSWER"]


def test_disk_full_and_database_down_keeps_records_in_memory(store, pg_server, tmp_path, caplog) -> None:
    caplog.set_level(logging.CRITICAL, "fsapps.store")
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    os.symlink("/dev/full", spool_dir / "records.jsonl")  # every write: ENOSPC, from the kernel
    writer = DurableWriter(store, spool_dir)
    pg_server.stop_server()
    try:
        recs = [record(i) for i in range(3)]
        for r in recs:
            writer.write(r)
        assert len(writer.memory) == 3
        assert any("cannot spool" in r.getMessage() for r in caplog.records)
    finally:
        pg_server.start_server()
    (spool_dir / "records.jsonl").unlink()
    store.pool.check()
    assert writer.replay() == 3
    assert count(store) == (3, 3)


def test_a_refused_record_held_in_memory_does_not_take_the_others_down(store, pg_server, tmp_path) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    os.symlink("/dev/full", spool_dir / "records.jsonl")
    writer = DurableWriter(store, spool_dir)
    ghost = replace(record(99), tenant_id="ghost")  # no such tenant: PostgreSQL will refuse it
    pg_server.stop_server()
    try:
        for r in [record(0), ghost, record(1), record(2)]:
            writer.write(r)
        assert len(writer.memory) == 4
    finally:
        pg_server.start_server()
    (spool_dir / "records.jsonl").unlink()
    store.pool.check()
    assert writer.replay() == 3
    assert count(store) == (3, 3)
    assert writer.memory == []
    [entry] = [json.loads(line) for line in (spool_dir / "quarantine.jsonl").read_text().splitlines()]
    assert (entry["record"]["event_id"], entry["sqlstate"]) == (ghost.event_id, "23503")


def test_after_a_restart_one_transaction_per_pool_fails_not_one_per_connection(db_dsn, pg_server) -> None:
    """A restart of PostgreSQL closes every pooled connection. The first transaction to meet
    one fails (it cannot know before it tries); the pool then tests the others, so those
    after it get live connections instead of each failing on the next dead one."""
    import psycopg

    from fsapps.store.db import Store

    with Store(db_dsn, min_size=4, max_size=4).open() as store:
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))

        def use(scope) -> int:
            with scope as s:
                return int(s.conn.execute("SELECT 1 AS one").fetchone()["one"])

        # Every connection of both pools in use at once, so each is a live one in its pool.
        held = [gevent.spawn(lambda: use(store.operator())) for _ in range(4)]
        held += [gevent.spawn(lambda: use(store.tenant("acme"))) for _ in range(4)]
        assert [g.get(timeout=10) for g in held] == [1] * 8
        pg_server.stop_server()
        pg_server.start_server()
        outcomes = {}
        for name, scope in (("operator", store.operator), ("tenant", lambda: store.tenant("acme"))):
            got = []
            for _ in range(5):
                try:
                    got.append(use(scope()))
                except psycopg.OperationalError:
                    got.append("lost")
            outcomes[name] = got
        assert outcomes == {"operator": ["lost", 1, 1, 1, 1], "tenant": ["lost", 1, 1, 1, 1]}


def test_a_spool_appends_fsync_waits_off_the_event_loop(tmp_path, monkeypatch) -> None:
    """The controller's spool (records while PostgreSQL is down or slow) fsyncs each append:
    with the hub's threadpool as its offload, a slow disk's fsync waits in a thread and the
    event loop (every call's greenlet) goes on meanwhile; without one it stops the loop."""
    import stat
    import threading

    from gevent import monkey

    from fsapps.store.spool import Spool

    real_sleep, real_fsync = monkey.get_original("time", "sleep"), os.fsync
    ident = monkey.get_original("threading", "get_ident")
    synced_in: list[int] = []

    def slow_disk(fd: int) -> None:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):  # a file's, not a new file's directory's
            synced_in.append(ident())
            real_sleep(0.3)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_disk)

    def ticks_during_an_append(spool: Spool) -> int:
        ticks = [0]

        def tick() -> None:
            while True:
                ticks[0] += 1
                gevent.sleep(0.01)

        ticker = gevent.spawn(tick)
        gevent.sleep(0)  # it has ticked once
        before = ticks[0]
        spool.append([record(1)])
        ticker.kill()
        return ticks[0] - before

    offloaded = Spool(tmp_path / "offloaded", offload=gevent.get_hub().threadpool.apply)
    assert ticks_during_an_append(offloaded) >= 10
    assert synced_in[-1] != ident() and synced_in[-1] != threading.main_thread().ident
    assert len(offloaded) == 1
    inline = Spool(tmp_path / "inline")
    assert ticks_during_an_append(inline) == 0
    assert synced_in[-1] == ident()


def test_an_append_killed_while_its_fsync_waits_leaves_the_thread_its_own_file(tmp_path, monkeypatch) -> None:
    """A call's greenlet killed while the spool's fsync for it waits in the threadpool: the
    greenlet closes its file, and the fsync still runs on that file, on a descriptor of its
    own (before, on a closed number, or one reused by the next open meanwhile)."""
    from gevent import monkey

    from fsapps.store.spool import Spool

    real_sleep, real_fsync = monkey.get_original("time", "sleep"), os.fsync
    spool_file = tmp_path / "spool"
    spool = Spool(spool_file, offload=gevent.get_hub().threadpool.apply)
    waiting, synced = gevent.event.Event(), []
    hub = gevent.get_hub()

    def slow_disk(fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and not waiting.is_set():
            hub.loop.run_callback_threadsafe(waiting.set)
            real_sleep(0.5)  # the greenlet is killed meanwhile, and a new file takes its number
            st = os.fstat(fd)  # EBADF, or another file's, if the greenlet's close reached it
            synced.append((st.st_ino, st.st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_disk)
    appending = gevent.spawn(spool.append, [record(1)])
    assert waiting.wait(10)
    appending.kill()
    with open(tmp_path / "other", "wb") as other:  # reuses the lowest free descriptor number
        other.write(b"x" * 7)
        wait_for(lambda: synced, timeout=10)  # the thread's fsync is over
    assert synced == [(spool.path.stat().st_ino, spool.path.stat().st_size)]
    assert len(Spool(spool_file)) == 1  # the record is there, whole


def test_a_transaction_cut_short_while_the_pool_is_tested_takes_no_connection_with_it(
    db_dsn, pg_server
) -> None:
    """The test of the pool's idle connections takes them all out of the pool while it runs:
    the transaction that found a lost one waits for it, and killed meanwhile (its caller's
    timeout), the test still ends and puts every live connection back."""
    from fsapps.store.db import LostConnections, Store
    from tests.support.waiting import wait_for

    with Store(db_dsn, min_size=4, max_size=4).open() as store:
        pg_server.stop_server()
        pg_server.start_server()
        lost = LostConnections(store.pool)
        waiter = gevent.spawn(lost.found, 30.0)
        gevent.sleep(0)  # the test has started; its waiter is killed
        waiter.kill()
        back = wait_for(lambda: store.pool.get_stats().get("pool_available") == 4, timeout=20)
        assert back, store.pool.get_stats()
        for _ in range(6):
            with store.operator() as op:
                assert op.conn.execute("SELECT 1 AS one").fetchone()["one"] == 1


def test_the_stores_connections_carry_the_tcp_settings_unless_the_dsn_has_its_own(
    db_dsn, monkeypatch
) -> None:
    """The TCP keepalive and tcp_user_timeout settings (a server gone without a word is
    found dead by them) are on the pools' connections (the operator's and the tenants'),
    the dispatcher's own, and what its LISTEN and the relay connect with (``Store.dsn``);
    a DSN's own settings stand, and a service's DSN is left to its file. (A silent server
    itself is not made here: that takes a packet filter.)"""
    from psycopg.conninfo import make_conninfo

    from fsapps.acd.dispatch import Dispatcher
    from fsapps.store.db import TCP_DEFAULTS, Store, with_tcp_defaults

    monkeypatch.delenv("PGSERVICE", raising=False)

    def tcp(params: dict[str, str]) -> dict[str, str]:
        return {k: params.get(k, "") for k in TCP_DEFAULTS}

    expected = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
                "keepalives_count": "3", "tcp_user_timeout": "30000"}  # fmt: skip
    store = Store(db_dsn, max_size=2).open()
    d = None
    try:
        with store.operator() as op:
            assert tcp(op.conn.info.get_parameters()) == expected
        with store.tenant("acme") as t:
            assert tcp(t.conn.info.get_parameters()) == expected
        d = Dispatcher(store, lambda: SimpleNamespace(tenants=[]), time.time, name="c1")
        with d.own.operator() as op:
            assert tcp(op.conn.info.get_parameters()) == expected
        with psycopg.connect(store.dsn) as conn:  # as the LISTENs and the relay connect
            assert tcp(conn.info.get_parameters()) == expected
    finally:
        if d is not None:
            d.own.close()
            d.wakeup.stop()
        store.close()
    own = Store(make_conninfo(db_dsn, keepalives_idle="60", tcp_user_timeout="0"), max_size=1).open()
    try:
        with own.operator() as op:
            got = tcp(op.conn.info.get_parameters())
    finally:
        own.close()
    assert got == {**expected, "keepalives_idle": "60", "tcp_user_timeout": "0"}
    assert with_tcp_defaults("service=fsapps") == "service=fsapps"
    assert "keepalives_idle=10" in with_tcp_defaults("host=db.example dbname=fsapps")
    monkeypatch.setenv("PGSERVICE", "fsapps")
    assert with_tcp_defaults("host=db.example dbname=fsapps") == "host=db.example dbname=fsapps"
