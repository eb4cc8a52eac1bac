"""The store against a real PostgreSQL: migrations, gevent cooperation, tenant walls."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import gevent
import psycopg
import pytest

from fsapps.store import migrate
from fsapps.store.db import StoreError, UnknownTenant, verify_password
from fsapps.store.records import Cdr, Tenant, UsageRecord

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def usage(tenant: str, seconds: int = 60, **kw) -> UsageRecord:
    fields = {
        "tenant_id": tenant, "resource": "agent", "kind": "handled_call", "started_at": T0,
        "ended_at": T0 + timedelta(seconds=seconds), "workload": Decimal(seconds), "unit": "seconds",
        "outcome": "answered", "resource_id": "agent1",
    }  # fmt: skip
    fields.update(kw)
    return UsageRecord(**fields)


def two_tenants(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"), numbers=["4000"])
        op.add_tenant(Tenant("bank", "Bank", "bank.example"), numbers=["5000"])


def test_fifty_greenlets_wait_together(store) -> None:
    """psycopg cooperates with gevent: 50 x pg_sleep(0.3) overlap (one after another they
    take 15 s; the bound leaves a busy machine room to open the pool's connections)."""

    def nap() -> None:
        with store.pool.connection() as conn:
            conn.execute("SELECT pg_sleep(0.3)")

    t0 = time.monotonic()
    gevent.joinall([gevent.spawn(nap) for _ in range(50)], raise_error=True)
    assert time.monotonic() - t0 < 6.0


def test_migrations_are_idempotent_and_recorded(db_dsn) -> None:
    assert migrate.migrate(db_dsn) == []  # the template applied them all
    states = migrate.status(db_dsn)
    assert states and all(done for _, done in states)


def test_two_migrators_at_once(pg_server) -> None:
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS race")
        conn.execute("CREATE DATABASE race")
    dsn = make_conninfo(pg_server.dsn, dbname="race")
    results = [gevent.spawn(migrate.migrate, dsn) for _ in range(3)]
    gevent.joinall(results, raise_error=True)
    applied = sorted(len(g.value) for g in results)
    assert applied == [0, 0, len(migrate.available())]


def test_tenant_cannot_see_or_touch_another_tenants_rows(store) -> None:
    two_tenants(store)
    with store.tenant("acme") as acme:
        acme.add_usage([usage("acme")])
        user = acme.add_user("alice", "pw-acme-1", "supervisor")
    with store.tenant("bank") as bank:
        bank.add_usage([usage("bank", 30)])
        assert [t.id for t in [bank.info()]] == ["bank"]
        assert [r.tenant_id for r in bank.usage_between(T0, T0 + timedelta(days=1))] == ["bank"]
        assert bank.users() == []
        assert bank.access_numbers() == ["5000"]
        # Row-level security, not only the repositories: raw SQL sees nothing of acme's.
        assert (
            bank.conn.execute("SELECT count(*) AS n FROM usage_records WHERE tenant_id = 'acme'").fetchone()[
                "n"
            ]
            == 0
        )
        assert bank.conn.execute("UPDATE users SET disabled = true WHERE id = %s", (user.id,)).rowcount == 0
        with pytest.raises(StoreError):
            bank.add_usage([usage("acme")])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), store.tenant("bank") as bank:
        bank.conn.execute(
            "INSERT INTO usage_records (event_id, tenant_id, resource, kind, started_at, ended_at, workload,"
            " unit, outcome) VALUES (gen_random_uuid(), 'acme', 'agent', 'handled_call', now(), now(), 1,"
            " 'seconds', 'x')"
        )
    with store.operator() as op:
        assert {t.id for t in op.tenants()} == {"acme", "bank"}


def test_usage_records_are_append_only_and_idempotent(store) -> None:
    two_tenants(store)
    rec = usage("acme")
    with store.tenant("acme") as acme:
        assert acme.add_usage([rec]) == 1
        assert acme.add_usage([rec]) == 0  # same event id: no second row
    with pytest.raises(psycopg.errors.InsufficientPrivilege), store.operator() as op:
        op.conn.execute("DELETE FROM usage_records")


def test_shared_agent_is_visible_to_each_tenant_it_serves(store) -> None:
    two_tenants(store)
    with store.operator() as op:
        op.add_tenant(Tenant("third", "Third", "third.example"))
        op.add_agent("ag7", "Shared Sam", {"acme": 2, "bank": 1})
        op.add_agent("ag8", "Dedicated Dora", {"acme": 1})
    with store.tenant("acme") as acme:
        assert [a["id"] for a in acme.agents()] == ["ag7", "ag8"]
        assert acme.seats() == 2
    with store.tenant("bank") as bank:
        assert [a["id"] for a in bank.agents()] == ["ag7"]
    with store.tenant("third") as third:
        assert third.agents() == []


def test_users_passwords_and_tokens(store) -> None:
    two_tenants(store)
    with store.tenant("acme") as acme:
        u = acme.add_user("sup1", "correct horse", "supervisor")
        token = acme.issue_token(u.id, "wallboard")
    with store.operator() as op:
        found = op.find_user("sup1")
        assert found is not None
        _, digest = found
        assert "correct horse" not in digest and verify_password(digest, "correct horse")
        assert not verify_password(digest, "wrong")
        row = op.find_token(token)
        assert row["username"] == "sup1" and row["tenant_id"] == "acme"
        assert op.find_token(token + "x") is None
        assert token not in str(op.conn.execute("SELECT * FROM api_tokens").fetchall())


def test_access_number_belongs_to_one_tenant(store) -> None:
    two_tenants(store)
    with pytest.raises(StoreError, match="already belongs to tenant 'acme'"), store.operator() as op:
        op.add_number("bank", "4000")


def test_unknown_tenant(store) -> None:
    with pytest.raises(UnknownTenant), store.tenant("nobody") as t:
        t.info()


def test_cdr_legs_make_one_call(store) -> None:
    two_tenants(store)
    call = "11111111-1111-1111-1111-111111111111"
    b = "22222222-2222-2222-2222-222222222222"
    common = {"tenant_id": "acme", "call_uuid": call, "caller": "5551234", "destination": "4000",
              "started_at": T0, "ended_at": T0 + timedelta(seconds=90),
              "hangup_cause": "NORMAL_CLEARING"}  # fmt: skip
    with store.tenant("acme") as acme:
        acme.add_cdrs([
            Cdr(event_id=call, leg_uuid=call, leg="a", direction="inbound", answered_at=T0, wait_seconds=20,
                billsec=90, duration=90, queue="support", **common),
            Cdr(event_id=b, leg_uuid=b, leg="b", direction="outbound", answered_at=T0 + timedelta(seconds=20),
                wait_seconds=0, billsec=70, duration=75, agent_id="ag7", recording="/rec/x.wav", **common),
        ])  # fmt: skip
        (row,) = acme.calls()
    assert (row["queue"], row["agent_id"], row["recording"], row["wait_seconds"]) == (
        "support",
        "ag7",
        "/rec/x.wav",
        20,
    )


def test_a_large_batch_goes_through_copy_and_stays_idempotent(store) -> None:
    two_tenants(store)
    recs = [usage("acme", i + 1) for i in range(450)]
    with store.tenant("acme") as acme:
        assert acme.add_usage(recs) == 450
        assert acme.add_usage([*recs[:300], usage("acme", 7)]) == 1
        assert len(acme.usage_between(T0, T0 + timedelta(days=1))) == 451
    with store.tenant("bank") as bank:
        assert bank.usage_between(T0, T0 + timedelta(days=1)) == []


def test_tenant_transactions_have_a_pool_of_their_own_up_to_twice_the_pool_size(db_dsn) -> None:
    """Pool size 3: ten tenant transactions and ten of the operator's at once hold at most three
    connections each, six in all, and neither kind waits for the other's connections."""
    from fsapps.store.db import Store

    s = Store(db_dsn, max_size=3).open()
    try:
        with s.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        peak = {"tenant": 0, "operator": 0, "both": 0}
        went = {"tenant": 0, "operator": 0}

        def hold(kind: str) -> None:
            with s.tenant("acme") if kind == "tenant" else s.operator() as t:
                t.conn.execute("SELECT pg_sleep(0.4)")
            went[kind] += 1

        def sample() -> None:
            with psycopg.connect(db_dsn, autocommit=True) as conn:
                while sum(went.values()) < 20:
                    rows = conn.execute(
                        "SELECT usename LIKE 'fsapps\\_app\\_%' AS tenant, count(*)"
                        " FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND query LIKE 'SELECT pg_sleep%' AND state = 'active' GROUP BY 1"
                    ).fetchall()
                    for tenant, n in rows:
                        kind = "tenant" if tenant else "operator"
                        peak[kind] = max(peak[kind], n)
                    peak["both"] = max(peak["both"], sum(n for _, n in rows))
                    gevent.sleep(0.02)

        watcher = gevent.spawn(sample)
        gevent.joinall([gevent.spawn(hold, k) for k in ("tenant", "operator") * 10], raise_error=True)
        watcher.get(timeout=10)
    finally:
        s.close()
    # Three of each at the same moment: twice the pool size, and neither kind waiting for the other.
    assert peak == {"tenant": 3, "operator": 3, "both": 6}
