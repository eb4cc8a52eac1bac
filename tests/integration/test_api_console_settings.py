"""The console settings through the HTTP API on the real store: every role of a tenant reads
its timezone and the floor's stuck-agent limits (a wallboard token too), the tenant admin
changes the limits one activity at a time, bad limits are refused with nothing changed, and
one tenant's limits are not another's."""

from __future__ import annotations

import pytest

from fsapps.store import api as repo
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, ROLES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme"
DEFAULTS = {"ringing": 60, "talking": 1200, "wrap_up": 180, "idle": 300, "on_break": 1800}


@pytest.fixture
def api(store):
    cc = populate(store)
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET timezone = 'Asia/Shanghai' WHERE id = 'acme'")
    server = serve_api(ApiContext(store, static_queues(QUEUES)))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_
    server.stop()


def test_every_role_reads_the_tenants_timezone_and_the_default_limits(api) -> None:
    for role in ROLES:
        r = api(role).get(T + "/console-settings")
        assert (r.status, r.json) == (200, {"timezone": "Asia/Shanghai", "stuck_limits": DEFAULTS}), role
    r = api("tenant_admin", "globex").get("/api/v1/tenants/globex/console-settings")
    assert r.json["timezone"] == "UTC"


def test_the_admin_changes_a_limit_and_keeps_the_others_and_other_tenants_keep_theirs(api) -> None:
    admin = api("tenant_admin")
    r = admin.request("PATCH", T + "/console-settings/stuck-limits", {"talking": 600})
    assert (r.status, r.json["stuck_limits"]) == (200, DEFAULTS | {"talking": 600})
    r = admin.request("PATCH", T + "/console-settings/stuck-limits", {"on_break": 900, "ringing": 30})
    assert r.json["stuck_limits"] == DEFAULTS | {"talking": 600, "on_break": 900, "ringing": 30}
    assert api("supervisor").get(T + "/console-settings").json["stuck_limits"]["talking"] == 600
    other = api("tenant_admin", "globex").get("/api/v1/tenants/globex/console-settings")
    assert other.json["stuck_limits"] == DEFAULTS
    # an admin cannot reach another tenant's (a tenant they cannot tell exists)
    r = api("tenant_admin", "globex").request("PATCH", T + "/console-settings/stuck-limits", {"talking": 60})
    assert (r.status, r.json["code"]) == (404, "no_such_tenant")
    assert admin.get(T + "/console-settings").json["stuck_limits"]["talking"] == 600


BAD = [{}, {"talking": 5}, {"talking": 86401}, {"talking": "long"}, {"available": 60}]


@pytest.mark.parametrize("body", BAD)
def test_bad_limits_are_refused_and_nothing_changes(api, body) -> None:
    admin = api("tenant_admin")
    r = admin.request("PATCH", T + "/console-settings/stuck-limits", body)
    assert (r.status, r.json["code"]) == (422, "invalid_input"), r.json
    assert admin.get(T + "/console-settings").json["stuck_limits"] == DEFAULTS


def test_a_wallboard_token_reads_its_tenants_timezone(api, store) -> None:
    with store.tenant("acme") as t:
        _, token = repo.issue_wallboard_token(t, "floor TV", None)
    tv = Client(api("agent").port, token=token)
    assert tv.get(T + "/console-settings").json["timezone"] == "Asia/Shanghai"
    r = tv.request("PATCH", T + "/console-settings/stuck-limits", {"talking": 60})
    assert (r.status, r.json["code"]) == (403, "wallboard_only")


def test_a_users_console_language_is_set_with_their_role_and_comes_with_their_login(api) -> None:
    admin = api("tenant_admin")
    wang = {"username": "wang.li", "password": "correct horse"}
    r = admin.request("POST", T + "/users", {**wang, "role": "agent", "language": "zh-CN"})
    assert (r.status, r.json["language"]) == (201, "zh-CN"), r.json
    uid = r.json["id"]
    login = Client(admin.port).request("POST", "/api/v1/session", wang)
    assert (login.status, login.json["language"]) == (200, "zh-CN")
    r = admin.request("PATCH", f"{T}/users/{uid}", {"role": "qa"})  # not named: kept
    assert (r.json["role"], r.json["language"]) == ("qa", "zh-CN")
    r = admin.request("PATCH", f"{T}/users/{uid}", {"language": None})  # back to the browser's
    assert (r.json["role"], r.json["language"]) == ("qa", None)
    r = admin.request("PATCH", f"{T}/users/{uid}", {"language": "fr"})
    assert (r.status, r.json["code"]) == (422, "invalid_input")
    listed = {u["username"]: u["language"] for u in admin.get(T + "/users").json}
    assert listed["wang.li"] is None and listed["agent_acme"] is None
