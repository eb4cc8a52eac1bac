"""The tenant wall against SQL run inside a tenant transaction (a real PostgreSQL).

Each test runs what a flow's SQL, or a bug, could run on ``t.conn`` inside
``store.tenant("acme")`` and checks that bank's rows stay out of reach.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fsapps.store import migrate, selfservice
from fsapps.store.db import Store, StoreError
from fsapps.store.records import Tenant, UsageRecord

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def usage(tenant: str) -> UsageRecord:
    return UsageRecord(tenant, "agent", "handled_call", T0, T0 + timedelta(seconds=60), Decimal(60),
                       "seconds", "answered", resource_id="agent1")  # fmt: skip


@pytest.fixture
def walled(store):
    """Two tenants, each with a blacklist entry, a usage record and a user."""
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"), numbers=["4000"])
        op.add_tenant(Tenant("bank", "Bank", "bank.example"), numbers=["5000"])
    for tenant, number in (("acme", "111"), ("bank", "222")):
        with store.tenant(tenant) as t:
            selfservice.add_blacklist(t, number)
            t.add_usage([usage(tenant)])
            t.add_user(f"{tenant}-boss", "pw", "tenant_admin")
    return store


def seen(conn: psycopg.Connection) -> set[str]:
    """Every tenant whose rows this connection can read, across the tenant tables."""
    rows = conn.execute(
        "SELECT tenant_id FROM blacklist UNION SELECT tenant_id FROM usage_records"
        " UNION SELECT tenant_id FROM users UNION SELECT id FROM tenants"
        " UNION SELECT tenant_id FROM access_numbers"
    ).fetchall()
    return {r["tenant_id"] for r in rows}


def attempt(conn: psycopg.Connection, statement: str, params: tuple = ()) -> str:
    """Run ``statement`` in a savepoint (after a COMMIT, a transaction of its own); returns "ok"
    or the SQLSTATE it failed with."""
    try:
        with conn.transaction():
            conn.execute(statement, params)
        return "ok"
    except psycopg.Error as exc:
        return exc.sqlstate or type(exc).__name__


def owner(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
        return row[0]


def test_reset_role_or_set_role_to_the_owner_reaches_no_other_tenant(walled, db_dsn) -> None:
    with walled.tenant("acme") as t:
        assert seen(t.conn) == {"acme"}
        assert attempt(t.conn, "RESET ROLE") == "ok"
        assert seen(t.conn) == {"acme"}
        assert attempt(t.conn, f'SET ROLE "{owner(db_dsn)}"') == "42501"  # insufficient_privilege
        assert attempt(t.conn, "SET SESSION AUTHORIZATION DEFAULT") == "ok"  # back to the login itself
        assert seen(t.conn) == {"acme"}


def test_tenant_connections_log_in_as_a_role_without_privileges(walled) -> None:
    with walled.tenant("acme") as t:
        me = t.conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication,"
            " array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            "       WHERE m.member = r.oid) AS member_of"
            " FROM pg_roles r WHERE rolname = session_user"
        ).fetchone()
    assert me == {"rolsuper": False, "rolbypassrls": False, "rolcreaterole": False, "rolcreatedb": False,
                  "rolreplication": False, "member_of": ["fsapps_tenant"]}  # fmt: skip


def test_setting_the_tenant_by_hand_binds_nothing(walled) -> None:
    with walled.tenant("acme") as t:
        t.conn.execute("SELECT set_config('fsapps.tenant', 'bank', true)")  # the old binding
        assert seen(t.conn) == {"acme"}
        # The binding itself, with bank's name on acme's MAC: no tenant at all.
        t.conn.execute(
            "SELECT set_config('fsapps.binding',"
            " 'bank/' || split_part(current_setting('fsapps.binding'), '/', 2), true)"
        )
        assert seen(t.conn) == set()
        assert t.conn.execute("SELECT fsapps_current_tenant() AS t").fetchone() == {"t": None}


def test_after_commit_nothing_is_bound_not_even_a_replayed_binding(walled) -> None:
    with walled.tenant("acme") as t:
        binding = t.conn.execute("SELECT current_setting('fsapps.binding', true) AS b").fetchone()["b"]
        t.conn.execute("COMMIT")
        assert seen(t.conn) == set()
        t.conn.execute(
            "SELECT set_config('fsapps.binding', %s, false)", (binding,)
        )  # replayed, for the session
        assert seen(t.conn) == set()
        assert attempt(t.conn, "INSERT INTO blacklist (tenant_id, number) VALUES ('bank', '999')") == "42501"
        assert attempt(t.conn, "INSERT INTO blacklist (tenant_id, number) VALUES ('acme', '999')") == "42501"
    with walled.operator() as op:
        assert (
            op.conn.execute("SELECT count(*) AS n FROM blacklist WHERE number = '999'").fetchone()["n"] == 0
        )


def test_binding_wants_the_secret_and_binds_a_transaction_once(walled) -> None:
    with walled.tenant("acme") as t:
        assert attempt(t.conn, "SELECT fsapps_private.bind_tenant('guess', 'bank')") == "42501"
        assert seen(t.conn) == {"acme"}
        t.conn.execute("COMMIT")
        assert attempt(t.conn, "SELECT fsapps_private.bind_tenant('guess', 'bank')") == "42501"
        assert seen(t.conn) == set()
        # What the tenant role cannot read: the secret, and the MAC's helpers.
        assert attempt(t.conn, "SELECT * FROM fsapps_private.tenant_login") == "42501"
        assert attempt(t.conn, "SELECT fsapps_private.binding_mac('bank')") == "42501"
        assert attempt(t.conn, "SELECT * FROM fsapps_private.ensure_tenant_login()") == "42501"
    with walled.operator() as op:
        secret = op.conn.execute("SELECT bind_secret FROM fsapps_private.tenant_login").fetchone()[
            "bind_secret"
        ]
    with walled.tenant("acme") as t:
        # Even with the secret, a transaction bound to acme is not bound again.
        assert attempt(t.conn, "SELECT fsapps_private.bind_tenant(%s, 'bank')", (secret,)) == "42501"
        assert seen(t.conn) == {"acme"}


def test_the_secret_never_shows_in_another_sessions_query_text(walled) -> None:
    with walled.operator() as op:
        secret = op.conn.execute("SELECT bind_secret FROM fsapps_private.tenant_login").fetchone()[
            "bind_secret"
        ]
    with walled.tenant("bank"), walled.tenant("acme") as t:  # bank's connection idles, bound
        texts = [r["query"] for r in t.conn.execute(
            "SELECT query FROM pg_stat_activity WHERE usename = session_user AND pid <> pg_backend_pid()"
        ).fetchall()]  # fmt: skip
    assert any("bind_tenant" in q for q in texts), texts  # bank's session, last query: the binding
    assert not any(secret in q for q in texts)


def test_tenant_updates_neither_its_plan_nor_its_status(walled) -> None:
    with walled.tenant("acme") as t:
        assert attempt(t.conn, "UPDATE tenants SET billing_plan = '{\"components\": []}'") == "42501"
        assert attempt(t.conn, "UPDATE tenants SET status = 'closed'") == "42501"
    with walled.operator() as op:
        assert op.tenant("acme").status == "active"


def test_tenant_claims_no_access_number(walled) -> None:
    with walled.tenant("acme") as t:
        claim = "INSERT INTO access_numbers (number, tenant_id) VALUES ('9999', 'acme')"
        assert attempt(t.conn, claim) == "42501"
        assert attempt(t.conn, "DELETE FROM access_numbers") == "42501"
    with walled.operator() as op:
        assert op._one("SELECT 1 FROM access_numbers WHERE number = '9999'") is None


def test_api_token_only_for_the_tenants_own_users(walled) -> None:
    with walled.operator() as op:
        bank_boss = op.find_user("bank-boss")
        admin = op.add_operator_admin("root", "pw")
    assert bank_boss is not None
    with walled.tenant("acme") as t:
        for user_id in (bank_boss[0].id, admin.id):
            assert attempt(
                t.conn,
                "INSERT INTO api_tokens (user_id, tenant_id, name, token_sha256)"
                " VALUES (%s, 'acme', 'x', %s)",
                (user_id, f"digest-{user_id}"),
            ) == "42501"  # fmt: skip
        mine = t.users()[0]
        assert t.issue_token(mine.id, "wallboard").startswith("fsa_")


def test_what_one_tenants_sql_leaves_in_the_session_does_not_reach_the_next(db_dsn) -> None:
    """One connection serves acme, then bank, then acme: acme's temporary table named
    like the real blacklist must not catch bank's entry, nor its settings stay."""
    store = Store(db_dsn, max_size=1).open()
    try:
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"))
            op.add_tenant(Tenant("bank", "Bank", "bank.example"))
        with store.tenant("acme") as t:
            pid = t.conn.info.backend_pid
            t.conn.execute("CREATE TEMP TABLE blacklist (LIKE public.blacklist)")
            t.conn.execute("PREPARE loot AS SELECT * FROM blacklist")
            t.conn.execute("SET search_path = pg_temp, public")
            t.conn.execute("DECLARE held CURSOR WITH HOLD FOR SELECT 1")
        with store.tenant("bank") as t:
            assert t.conn.info.backend_pid == pid  # the same session, so the test means something
            assert t.conn.execute("SHOW search_path").fetchone() == {"search_path": '"$user", public'}
            selfservice.add_blacklist(t, "222", reason="bank's own")
        with store.tenant("acme") as t:
            assert t.conn.info.backend_pid == pid
            assert t.conn.execute("SELECT to_regclass('pg_temp.blacklist') AS r").fetchone() == {"r": None}
            assert t.conn.execute(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE from_sql"
            ).fetchone() == {"n": 0}  # fmt: skip
            assert t.conn.execute("SELECT count(*) AS n FROM pg_cursors").fetchone() == {"n": 0}
            assert selfservice.list_blacklist(t) == []
        with store.operator() as op:
            assert [
                r["tenant_id"] for r in op.conn.execute("SELECT tenant_id FROM blacklist").fetchall()
            ] == ["bank"]
    finally:
        store.close()


def test_a_statement_prepared_under_psycopgs_name_does_not_run_for_the_next_tenant(db_dsn) -> None:
    """psycopg prepares a statement run often enough and then runs it by name: acme's SQL
    swaps in its own under that name, and bank's next run of it must be bank's query."""
    store = Store(db_dsn, max_size=1).open()
    try:
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"))
            op.add_tenant(Tenant("bank", "Bank", "bank.example"))
        with store.tenant("bank") as t:
            selfservice.add_blacklist(t, "222")
            for _ in range(6):  # past psycopg's prepare_threshold
                selfservice.list_blacklist(t)
            (name,) = [r["name"] for r in t.conn.execute(
                "SELECT name FROM pg_prepared_statements"
                " WHERE NOT from_sql AND statement LIKE '%FROM blacklist%'"
            ).fetchall()]  # fmt: skip
        with store.tenant("acme") as t:
            t.conn.execute(f"DEALLOCATE {name}")
            t.conn.execute(
                f"PREPARE {name} AS SELECT 'acme was here'::text AS number, 'exact'::text AS match,"
                " ''::text AS reason, NULL::timestamptz AS expires_at"
            )
        with store.tenant("bank") as t:
            assert [r["number"] for r in selfservice.list_blacklist(t)] == ["222"]
    finally:
        store.close()


def test_a_connection_left_unwiped_is_not_reused(db_dsn) -> None:
    """acme's SQL leaves the session in COPY: the wipe cannot run, so the connection goes."""
    store = Store(db_dsn, max_size=1).open()
    try:
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"))
        with pytest.raises(psycopg.Error), store.tenant("acme") as t:
            pid = t.conn.info.backend_pid
            t.conn.execute("CREATE TEMP TABLE kept (a int)")
            t.conn.pgconn.send_query(b"COPY kept FROM STDIN")  # and walk away mid-COPY
        with store.tenant("acme") as t:
            assert t.conn.info.backend_pid != pid
            assert t.conn.execute("SELECT to_regclass('pg_temp.kept') AS r").fetchone() == {"r": None}
    finally:
        store.close()


def test_lookup_tables_made_as_the_readme_says_still_hold(walled) -> None:
    with walled.operator() as op:
        op.conn.execute(
            "CREATE TABLE lookup.accounts (tenant_id text NOT NULL, account_no text, balance numeric,"
            " due_date date)"
        )
        op.conn.execute("ALTER TABLE lookup.accounts ENABLE ROW LEVEL SECURITY")
        op.conn.execute(
            "CREATE POLICY tenant_rows ON lookup.accounts TO fsapps_tenant"
            " USING (tenant_id = fsapps_current_tenant())"
        )
        op.conn.execute("GRANT SELECT ON lookup.accounts TO fsapps_tenant")
        op.conn.execute("INSERT INTO lookup.accounts VALUES ('acme', '1', 10, NULL), ('bank', '1', 99, NULL)")
    with walled.tenant("acme") as t:
        assert selfservice.lookup_row(t, "accounts", "account_no", "1")["balance"] == 10
        t.conn.execute("RESET ROLE")
        t.conn.execute("SELECT set_config('fsapps.tenant', 'bank', true)")
        assert [
            r["tenant_id"] for r in t.conn.execute("SELECT tenant_id FROM lookup.accounts").fetchall()
        ] == ["acme"]


def test_what_tenant_sql_does_to_its_own_login_is_undone_when_a_store_opens(walled, db_dsn) -> None:
    dbname = conninfo_to_dict(db_dsn)["dbname"]
    with walled.tenant("acme") as t:
        t.conn.execute(
            f'ALTER ROLE CURRENT_USER IN DATABASE "{dbname}" SET default_transaction_read_only = on'
        )
    again = Store(db_dsn).open()
    try:
        with again.tenant("acme") as t:
            selfservice.add_blacklist(t, "333")
    finally:
        again.close()


def test_a_login_that_could_leave_objects_for_the_next_tenant_is_refused(db_dsn) -> None:
    """CREATE on public (PUBLIC had it before PostgreSQL 15): a table made there by one
    tenant's SQL would outlive the wipe and shadow or catch the next tenant's."""
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    with pytest.raises(StoreError, match="REVOKE CREATE ON SCHEMA public FROM PUBLIC"):
        Store(db_dsn).open().close()
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    Store(db_dsn).open().close()


def test_a_database_without_the_tenant_login_is_refused_clearly(pg_server) -> None:
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS before_0009")
        conn.execute("CREATE DATABASE before_0009")
    dsn = make_conninfo(pg_server.dsn, dbname="before_0009")
    migrate.migrate(dsn, upto=8)
    with pytest.raises(StoreError, match="run `fsapps db migrate`"):
        Store(dsn).open().close()


def test_migrating_a_database_with_tenants_keeps_their_rows_walled(pg_server) -> None:
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS upgraded")
        conn.execute("CREATE DATABASE upgraded")
    dsn = make_conninfo(pg_server.dsn, dbname="upgraded")
    migrate.migrate(dsn, upto=8)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, domain)"
            " VALUES ('acme', 'A', 'a.example'), ('bank', 'B', 'b.example');"
            " INSERT INTO blacklist (tenant_id, number) VALUES ('acme', '111'), ('bank', '222')"
        )
    assert [m.version for m in migrate.migrate(dsn)][:1] == [9]  # then any later ones
    store = Store(dsn).open()
    try:
        with store.tenant("bank") as t:
            assert [r["number"] for r in selfservice.list_blacklist(t)] == ["222"]
            t.conn.execute("RESET ROLE")
            assert seen(t.conn) == {"bank"}
    finally:
        store.close()


def test_tenant_login_by_password_where_pg_hba_wants_one(tmp_path) -> None:
    """A server of one's own: the owner as configured, the tenant login by the generated
    password (scram-sha-256), and one clear line when pg_hba.conf turns it away."""
    from fsapps.store.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path)
    dsn = server.start()
    hba = server.pgdata / "pg_hba.conf"
    trusting = hba.read_text()

    def hba_first(line: str) -> None:
        hba.write_text(line + "\n" + trusting)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")

    try:
        migrate.migrate(dsn)
        with psycopg.connect(dsn) as conn:
            role = conn.execute("SELECT role_name FROM fsapps_private.tenant_login").fetchone()[0]
        hba_first(f"local all {role} scram-sha-256")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(make_conninfo(dsn, user=role), password="guess").close()
        store = Store(dsn).open()
        try:
            with store.operator() as op:
                op.add_tenant(Tenant("acme", "Acme Cable", "acme.example"))
            with store.tenant("acme") as t:
                assert t.conn.execute("SELECT session_user AS u").fetchone() == {"u": role}
                selfservice.add_blacklist(t, "111")
        finally:
            store.close()
        hba_first(f"local all {role} reject")
        with pytest.raises(StoreError, match=f"cannot log in as '{role}'.*pg_hba.conf rejects"):
            Store(dsn).open(timeout=2).close()
    finally:
        server.close()
