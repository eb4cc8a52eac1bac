"""Store benchmarks, on the embedded PostgreSQL in a temporary directory.

(a) Usage-record inserts: single-row transactions (the bound to beat),
    batched executemany, and COPY; records/s and the ratios.
(b) CDR writes from 200 concurrent greenlets, as the collector would under
    a burst of hangups: p50/p99/max latency per write, writes/s.
(c) Spool replay: a spool file of 120,000 usage records (as an outage leaves
    it) replayed by DurableWriter in chunks, each committed with its cursor
    kept on disk; records/s beside the COPY bound of (a).

    ./dev bench store [--records 5000] [--greenlets 200] [--spool 120000]
(d) What the tenant wall costs a transaction: the tenant login, the binding
    (fsapps_private.bind_tenant) and the wipe of the session after it
    (migration 0009), against the wall before it (the owner's connection,
    SET LOCAL ROLE fsapps_tenant and fsapps.tenant by set_config, one round
    trip) on a database migrated up to 0008: microseconds a transaction, one
    client, for an empty transaction, a read through a policy and an insert.

    ./dev bench store [--records 5000] [--greenlets 200] [--transactions 3000]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
from psycopg.conninfo import make_conninfo  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsapps.store import migrate  # noqa: E402
from fsapps.store.db import USAGE_COLUMNS, Store, insert_cdrs, insert_usage  # noqa: E402
from fsapps.store.durable import CHUNK, DurableWriter  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Cdr, Tenant, UsageRecord  # noqa: E402
from fsapps.store.spool import encode  # noqa: E402

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def usage(i: int) -> UsageRecord:
    start = T0 + timedelta(seconds=i)
    end = start + timedelta(seconds=60)
    return UsageRecord("acme", "agent", "handled_call", start, end, Decimal(60), "seconds", "answered",
                       resource_id=f"ag{i % 50}")  # fmt: skip


def cdr(i: int) -> Cdr:
    u = str(uuid.uuid4())
    return Cdr(event_id=u, tenant_id="acme", call_uuid=u, leg_uuid=u, leg="a", direction="inbound",
               caller=f"555{i:04d}", destination="4000", started_at=T0, answered_at=T0,
               ended_at=T0 + timedelta(seconds=90), wait_seconds=12, billsec=78, duration=90,
               hangup_cause="NORMAL_CLEARING", queue="support", agent_id="ag7")  # fmt: skip


def bench_inserts(store: Store, n: int) -> float:
    print(f"(a) {n} usage records per method")
    rates = {}

    def single() -> None:
        for i in range(n):
            with store.tenant("acme") as t:
                insert_usage(t.conn, [usage(i)])

    def batched() -> None:
        recs = [usage(i) for i in range(n)]
        with store.tenant("acme") as t:
            for k in range(0, n, 500):
                insert_usage(t.conn, recs[k : k + 500])

    def copy() -> None:
        # Row-level security refuses COPY FROM into the table itself: copy into a
        # temporary table, then INSERT ... SELECT under the tenant's policy.
        recs = [usage(i) for i in range(n)]
        cols = ", ".join(USAGE_COLUMNS)
        with store.tenant("acme") as t, t.conn.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE incoming ON COMMIT DROP AS SELECT {cols} FROM usage_records LIMIT 0"
            )
            with cur.copy(f"COPY incoming ({cols}) FROM STDIN") as cp:
                for r in recs:
                    row = r.to_row()
                    cp.write_row([row[c] for c in USAGE_COLUMNS])
            cur.execute(
                f"INSERT INTO usage_records ({cols}) SELECT {cols} FROM incoming ON CONFLICT DO NOTHING"
            )

    for label, fn in (("one transaction per record (bound)", single), ("executemany, 500 a batch", batched),
                      ("COPY to a temp table + INSERT", copy)):  # fmt: skip
        t = time.perf_counter()
        fn()
        rates[label] = n / (time.perf_counter() - t)
        print(f"    {label:36s} {rates[label]:10,.0f} records/s")
    base = rates["one transaction per record (bound)"]
    copy_rate = rates["COPY to a temp table + INSERT"]
    print(f"    ratio executemany / single: {rates['executemany, 500 a batch'] / base:.1f}x; "
          f"COPY / single: {copy_rate / base:.1f}x")  # fmt: skip
    return copy_rate


def bench_spool_replay(store: Store, n: int, copy_rate: float, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        spool = Path(d) / "spool"
        spool.mkdir()
        with (spool / "records.jsonl").open("w") as f:
            for i in range(n):
                f.write(encode(usage(i)) + "\n")
        writer = DurableWriter(store, spool, chunk=chunk)
        t = time.perf_counter()
        sent = writer.replay()
        wall = time.perf_counter() - t
    assert sent == n and writer.pending == 0, (sent, writer.pending)
    rate = n / wall
    print(f"(c) spool replay of {n:,} usage records, {chunk} a chunk, each committed with its cursor:")
    print(f"    {rate:10,.0f} records/s in {wall:.1f} s; COPY bound (a) {copy_rate:,.0f} records/s; "
          f"replay / COPY: {rate / copy_rate:.2f}")  # fmt: skip


def bench_cdr_latency(store: Store, greenlets: int, per: int) -> None:
    lat: list[float] = []

    def worker() -> None:
        for i in range(per):
            rec = cdr(i)
            t = time.perf_counter()
            with store.tenant("acme") as s:
                insert_cdrs(s.conn, [rec])
            lat.append((time.perf_counter() - t) * 1000)

    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(worker) for _ in range(greenlets)], raise_error=True)
    wall = time.perf_counter() - t0
    lat.sort()
    p99 = lat[min(int(len(lat) * 0.99), len(lat) - 1)]
    print(f"(b) CDR writes from {greenlets} concurrent greenlets, {per} each, pool of {store.pool.max_size}:")
    p50 = statistics.median(lat)
    print(
        f"    {len(lat) / wall:,.0f} writes/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {lat[-1]:.1f} ms"
    )


def bench_wall(store: Store, before_dsn: str, n: int) -> None:
    """Both databases hold tenant acme; each workload runs about n transactions on each."""
    # As Store.tenant up to migration 0008: the owner's pool, SET LOCAL ROLE and the setting.
    old = ConnectionPool(before_dsn, min_size=1, max_size=20, kwargs={"row_factory": dict_row}, open=True)
    old.wait()

    @contextmanager
    def old_tenant(tenant_id: str) -> Iterator[Any]:
        with old.connection() as conn, conn.transaction():
            conn.execute(
                "SELECT set_config('role', 'fsapps_tenant', true), set_config('fsapps.tenant', %s, true)",
                (tenant_id,),
            )
            yield conn

    @contextmanager
    def new_tenant(tenant_id: str) -> Iterator[Any]:
        with store.tenant(tenant_id) as t:
            yield t.conn

    work = {
        "empty (SELECT 1)": lambda conn, i: conn.execute("SELECT 1"),
        "read through a policy (tenants)": lambda conn, i: conn.execute("SELECT * FROM tenants").fetchall(),
        "one usage record inserted": lambda conn, i: insert_usage(conn, [usage(10_000_000 + i)]),
    }
    rounds, batch = max(n // 100, 1), 50  # old and new alternate: the machine's load drifts
    print(f"(d) the tenant wall: {rounds} rounds of {batch} transactions each way, one client;")
    print("    microseconds a transaction, median of the rounds (and of the rounds' ratios)")
    print(f"    {'':34s} {'0008 (set_config)':>18s} {'0009 (login+bind)':>18s} {'ratio':>6s}")
    try:
        for label, fn in work.items():
            per: dict[str, list[float]] = {"old": [], "new": []}
            for i in range(20):  # warm both pools and caches
                for scope in (old_tenant, new_tenant):
                    with scope("acme") as conn:
                        fn(conn, -i - 1)
            for r in range(rounds):
                for name, scope in (("old", old_tenant), ("new", new_tenant)):
                    t = time.perf_counter()
                    for i in range(batch):
                        with scope("acme") as conn:
                            fn(conn, r * batch + i)
                    per[name].append((time.perf_counter() - t) / batch * 1e6)
            o, w = statistics.median(per["old"]), statistics.median(per["new"])
            ratio = statistics.median(b / a for a, b in zip(per["old"], per["new"], strict=True))
            print(f"    {label:34s} {o:18.0f} {w:18.0f} {ratio:5.2f}x")
        print("    round trips: BEGIN, set_config, the work, COMMIT before;")
        print("                 BEGIN, bind_tenant, the work, COMMIT + the session's wipe after")
    finally:
        old.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--greenlets", type=int, default=200)
    ap.add_argument("--per", type=int, default=10)
    ap.add_argument("--spool", type=int, default=120_000, help="records in the spool to replay")
    ap.add_argument("--chunk", type=int, default=CHUNK, help="records a replay sends at once")
    ap.add_argument("--transactions", type=int, default=3000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        pg = EmbeddedPostgres(d)
        dsn = pg.start()
        migrate.migrate(dsn)
        store = Store(dsn, max_size=20).open()
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        before = make_conninfo(dsn, dbname="before_0009")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE before_0009")
        migrate.migrate(before, upto=8)
        with psycopg.connect(before) as conn:
            conn.execute("INSERT INTO tenants (id, name, domain) VALUES ('acme', 'Acme', 'acme.example')")
        try:
            copy_rate = bench_inserts(store, a.records)
            bench_cdr_latency(store, a.greenlets, a.per)
            bench_spool_replay(store, a.spool, copy_rate, a.chunk)
            bench_wall(store, before, a.transactions)
        finally:
            store.close()
            pg.close()


if __name__ == "__main__":
    main()
