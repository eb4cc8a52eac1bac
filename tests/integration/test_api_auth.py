"""Who is asking: browser sessions (cookie + CSRF), bearer tokens, login throttling, and
the tenant wall under every service operation."""

from __future__ import annotations

import time

import psycopg
import pytest

from fsapps.web.app import ApiContext
from fsapps.web.policy import Principal, Role
from fsapps.web.service import Service
from fsapps.web.throttle import Limits, LoginThrottle
from tests.support.api import PASSWORD, QUEUES, Client, populate, serve_api, static_queues


class Clock:
    def __init__(self) -> None:
        self.wall = time.time()
        self.mono = 1000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def api(store):
    cc = populate(store)
    clock = Clock()
    ctx = ApiContext(store, static_queues(QUEUES), clock=clock.time, monotonic=clock.monotonic,
                     throttle=LoginThrottle(Limits(per_user=3, per_address=10, window=60)))  # fmt: skip
    server = serve_api(ctx)
    yield ctx, server.server_port, cc, clock
    server.stop()


def test_a_browser_session_is_an_httponly_strict_cookie_and_changes_need_the_csrf_token(api) -> None:
    _, port, _, _ = api
    browser = Client(port)
    r = browser.login("supervisor_acme", PASSWORD)
    assert r.status == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("fsapps_session=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/api/v1"):
        assert attribute in cookie
    assert "Secure" not in cookie  # api.cookie_secure is off by default (loopback, no TLS)
    me = r.json
    assert (me["role"], me["tenant"], me["queues"], me["agents"]) == (
        "supervisor",
        "acme",
        ["support"],
        ["acme1"],
    )
    assert browser.get("/api/v1/tenants/acme/agents/acme1").json["status"] == "Logged Out"

    path = "/api/v1/tenants/acme/agents/acme1/status"
    forged = Client(port, cookies=dict(browser.cookies))  # another site's page: the cookie, no token
    r = forged.request("PUT", path, {"status": "Available"})
    assert (r.status, r.json["code"]) == (403, "csrf_failed")
    r = forged.request("PUT", path, {"status": "Available"}, headers={"X-CSRF-Token": "guess"})
    assert (r.status, r.json["code"]) == (403, "csrf_failed")
    assert browser.get("/api/v1/tenants/acme/agents/acme1").json["status"] == "Logged Out"
    r = browser.request("PUT", path, {"status": "On Break", "reason": "lunch"})
    assert r.status == 200 and (r.json["status"], r.json["break_reason"]) == ("On Break", "lunch")

    assert browser.get("/api/v1/session").json["csrf_token"] == browser.csrf
    old = dict(browser.cookies)
    assert browser.request("DELETE", "/api/v1/session").status == 204
    assert browser.cookies == {}
    r = Client(port, cookies=old).get("/api/v1/session")
    assert (r.status, r.json["code"]) == (401, "session_expired")


def test_the_cookie_is_secure_when_configured(api, store) -> None:
    ctx, _, _, _ = api
    ctx.secure_cookie = True
    server = serve_api(ctx)
    try:
        r = Client(server.server_port).login("agent_acme", PASSWORD)
        assert r.status == 200 and "Secure" in r.headers["set-cookie"]
    finally:
        server.stop()


def test_a_session_ends_after_session_hours(api) -> None:
    ctx, port, _, clock = api
    clock.wall = time.time() - (ctx.session_hours + 1) * 3600  # logged in 13 hours ago
    browser = Client(port)
    assert browser.login("agent_acme", PASSWORD).status == 200
    r = browser.get("/api/v1/session")
    assert (r.status, r.json["code"]) == (401, "session_expired")


def test_logins_are_throttled_per_user_and_the_right_password_waits_too(api) -> None:
    _, port, _, clock = api
    c = Client(port)
    for _ in range(3):
        r = c.login("agent_acme", "wrong-password")
        assert (r.status, r.json["code"]) == (401, "wrong_credentials")
    r = c.login("agent_acme", PASSWORD)
    assert (r.status, r.json["code"]) == (429, "too_many_attempts")
    assert 1 <= int(r.headers["retry-after"]) <= 61
    assert c.login("agent_globex", PASSWORD).status == 200  # another user is not held back
    clock.mono += 61
    assert c.login("agent_acme", PASSWORD).status == 200


def test_an_unknown_user_and_a_wrong_password_look_the_same(api) -> None:
    _, port, _, _ = api
    a = Client(port).login("nobody-here", PASSWORD)
    b = Client(port).login("agent_acme", "wrong-password")
    assert (a.status, a.json) == (b.status, b.json)


def test_bearer_tokens_of_disabled_users_and_revoked_tokens_stop_working(api, store) -> None:
    _, port, cc, _ = api
    admin = Client(port, token=cc.token("tenant_admin", "acme"))
    agent = Client(port, token=cc.token("agent", "acme"))
    assert agent.get("/api/v1/session").status == 200
    with store.tenant("acme") as t:
        t.conn.execute("UPDATE users SET disabled = true WHERE id = %s", (cc.users[("acme", "agent")],))
    r = agent.get("/api/v1/session")
    assert (r.status, r.json["code"]) == (401, "invalid_token")
    assert admin.get("/api/v1/session").status == 200
    with store.tenant("acme") as t:
        t.conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s",
                       (cc.users[("acme", "tenant_admin")],))  # fmt: skip
    assert admin.get("/api/v1/session").status == 401
    r = Client(port, token=cc.token("tenant_admin", "acme"), cookies={}).request(
        "GET", "/api/v1/session", headers={"Authorization": "Basic b3BzOnB3"}
    )
    assert (r.status, r.json["code"]) == (401, "unauthenticated")


def test_an_issued_token_works_and_is_stored_as_a_digest(api, store) -> None:
    _, port, cc, _ = api
    admin = Client(port, token=cc.token("tenant_admin", "acme"))
    r = admin.request(
        "POST", f"/api/v1/tenants/acme/users/{cc.users[('acme', 'qa')]}/tokens", {"name": "cli"}
    )
    assert r.status == 201
    token = r.json["token"]
    with store.operator() as op:
        assert op._one("SELECT 1 FROM api_tokens WHERE token_sha256 = %s", (token,)) is None
    assert Client(port, token=token).get("/api/v1/session").json["role"] == "qa"


def test_every_operation_runs_behind_the_tenant_wall(api, store) -> None:
    """Even a query that forgets its tenant sees one tenant's rows: the service's
    transaction is the tenant's row-level-security session."""
    ctx, _, cc, _ = api
    admin = Principal(cc.users[("acme", "tenant_admin")], "tenant_admin_acme", Role.TENANT_ADMIN, "acme")
    svc = Service(store, admin, queues=ctx.queues, clock=time.time)
    with svc._tenant("acme", "agents.list") as t:
        for table in (
            "queue_members",
            "users",
            "api_tokens",
            "supervisor_groups",
            "supervisor_group_members",
        ):
            seen = {r["tenant_id"] for r in t._all(f"SELECT tenant_id FROM {table}")}
            assert seen == {"acme"}, table
        agents = {r["agent_id"] for r in t._all("SELECT agent_id FROM agent_state")}
        assert agents == {"acme1", "acme2"}
        changed = t.conn.execute("UPDATE queue_members SET priority = 7").rowcount
        assert changed == 2  # acme's two callers, not globex's
    with pytest.raises(psycopg.errors.InsufficientPrivilege), svc._tenant("acme", "agents.list") as t:
        t._all("SELECT * FROM user_sessions")  # sessions are the owner's alone


def test_a_suspended_tenants_users_can_neither_log_in_nor_use_their_tokens(api, store) -> None:
    _, port, cc, _ = api
    agent = Client(port, token=cc.token("agent", "acme"))
    browser = Client(port)
    assert browser.login("supervisor_acme", PASSWORD).status == 200
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = 'acme'")
    for r in (agent.get("/api/v1/session"), browser.get("/api/v1/session"),
              Client(port).login("tenant_admin_acme", PASSWORD)):  # fmt: skip
        assert (r.status, r.json["code"]) == (403, "tenant_suspended")
    assert Client(port, token=cc.token("agent", "globex")).get("/api/v1/session").status == 200
    assert Client(port, token=cc.token("operator", "acme")).get("/api/v1/tenants/acme").status == 200


def test_concurrent_requests_never_see_each_others_principal(api) -> None:
    """Flask's request globals under gevent: each greenlet its own (a mix-up would hand one
    person's rights to another)."""
    import gevent

    _, port, cc, _ = api
    people = [
        (role, tenant)
        for role in ("tenant_admin", "supervisor", "agent", "qa")
        for tenant in ("acme", "globex")
    ]

    def whoami(role: str, tenant: str) -> list[str]:
        client = Client(port, token=cc.token(role, tenant))
        return [client.get("/api/v1/session").json["username"] for _ in range(5)]

    jobs = [gevent.spawn(whoami, role, tenant) for role, tenant in people * 3]
    gevent.joinall(jobs, timeout=60, raise_error=True)
    for (role, tenant), job in zip(people * 3, jobs, strict=True):
        assert job.value == [f"{role}_{tenant}"] * 5
