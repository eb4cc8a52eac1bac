"""What each resource does, through the HTTP API against the real PostgreSQL: the matrix
says who may; these say that what they may do happens, and bad input loses nothing."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fsapps.store.records import Cdr, SurveyAnswer, UsageRecord
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(store):
    cc = populate(store)
    clock = Clock()
    server = serve_api(ApiContext(store, static_queues(QUEUES), clock=clock))
    port = server.server_port

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(port, token=cc.token(role, tenant))

    yield as_, cc, clock
    server.stop()


def test_the_operator_adds_and_lists_tenants(api, store) -> None:
    as_, _, _ = api
    ops = as_("operator")
    r = ops.request("POST", T, {"id": "initech", "domain": "initech.example", "numbers": ["+15557000"]})
    assert r.status == 201 and r.json["id"] == "initech" and r.json["name"] == "initech"
    assert [t["id"] for t in ops.get(T).json] == ["acme", "globex", "initech"]
    with store.tenant("initech") as t:
        assert t.access_numbers() == ["+15557000"]
    r = ops.request("POST", T, {"id": "other", "domain": "initech.example"})
    assert (r.status, r.json["code"]) == (409, "tenant_exists")
    assert as_("tenant_admin").get(f"{T}/acme").json["domain"] == "acme.example"


def test_a_tenant_admin_adds_users_with_roles(api) -> None:
    as_, _, _ = api
    admin = as_("tenant_admin")
    r = admin.request(
        "POST", f"{T}/acme/users", {"username": "quinn", "password": "long-enough", "role": "qa"}
    )
    assert r.status == 201 and r.json["role"] == "qa" and "password" not in r.json
    assert Client(admin.port).login("quinn", "long-enough").json["role"] == "qa"
    r = admin.request(
        "POST", f"{T}/acme/users", {"username": "quinn", "password": "long-enough", "role": "qa"}
    )
    assert (r.status, r.json["code"]) == (409, "user_exists")
    for bad in ({"username": "x", "password": "short", "role": "qa"},
                {"username": "x", "password": "long-enough", "role": "operator_admin"},
                {"username": "x y", "password": "long-enough", "role": "agent"}):  # fmt: skip
        r = admin.request("POST", f"{T}/acme/users", bad)
        assert (r.status, r.json["code"]) == (422, "invalid_input"), bad
    names = {u["username"] for u in admin.get(f"{T}/acme/users").json}
    assert "quinn" in names and "x" not in names and not any(n.endswith("_globex") for n in names)


def test_groups_decide_what_a_supervisor_sees(api) -> None:
    as_, cc, _ = api
    admin, sup = as_("tenant_admin"), as_("supervisor")
    assert [a["id"] for a in sup.get(f"{T}/acme/agents").json] == ["acme1"]
    assert [q["name"] for q in sup.get(f"{T}/acme/queues").json] == ["support"]
    assert sup.get(f"{T}/acme/queues/sales").status == 403
    group = {"supervisors": [cc.users[("acme", "supervisor")]], "agents": ["acme1", "acme2"],
             "queues": ["support", "sales"]}  # fmt: skip
    assert admin.request("PUT", f"{T}/acme/groups/front", group).status == 204
    assert [a["id"] for a in sup.get(f"{T}/acme/agents").json] == ["acme1", "acme2"]
    assert sup.get(f"{T}/acme/queues/sales").status == 200
    listed = {**group, "queues": ["sales", "support"]}  # sorted
    assert admin.get(f"{T}/acme/groups").json == [{"name": "front", **listed}]
    for bad, code in (({"agents": ["globex1"]}, "no_such_agent"), ({"queues": ["nope"]}, "no_such_queue"),
                      ({"supervisors": [cc.users[("acme", "agent")]]}, "not_a_supervisor")):  # fmt: skip
        r = admin.request("PUT", f"{T}/acme/groups/front", bad)
        assert (r.status, r.json["code"]) == (422, code)
    assert admin.get(f"{T}/acme/groups").json == [{"name": "front", **listed}]  # unchanged


def test_agents_status_with_break_reasons_and_skills_with_proficiency(api, store) -> None:
    as_, _, _ = api
    agent = as_("agent")
    path = f"{T}/acme/agents/acme1"
    r = agent.request("PUT", path + "/status", {"status": "On Break", "reason": "training"})
    assert (r.status, r.json["status"], r.json["break_reason"]) == (200, "On Break", "training")
    r = agent.request("PUT", path + "/status", {"status": "Available", "reason": "lunch"})
    assert (r.status, r.json["code"]) == (422, "reason_without_break")
    r = agent.request("PUT", path + "/status", {"status": "Ready"})
    assert (r.status, r.json["code"]) == (422, "invalid_input")
    assert agent.get(path).json["status"] == "On Break"  # refused changes change nothing
    r = agent.request("PUT", path + "/status", {"status": "Available"})
    assert (r.json["status"], r.json["break_reason"]) == ("Available", "")
    with store.operator() as op:  # what the ACD reads
        row = op._one("SELECT status, break_reason FROM agent_state WHERE agent_id = 'acme1'")
    assert row == {"status": "Available", "break_reason": ""}

    sup = as_("supervisor")
    r = sup.request("PUT", path + "/skills", {"skills": {"english": 9, "billing": 3}})
    assert r.status == 200 and r.json["skills"] == {"english": 9, "billing": 3}
    r = sup.request("PUT", path + "/skills", {"skills": {"english": 11}})
    assert (r.status, r.json["code"]) == (422, "invalid_input")
    assert sup.get(path).json["skills"] == {"english": 9, "billing": 3}
    assert as_("tenant_admin").get(f"{T}/acme/agents/nobody").json["code"] == "no_such_agent"


def test_queue_live_state_and_moving_a_caller_up(api, store) -> None:
    as_, cc, clock = api
    sup = as_("supervisor")
    first = cc.callers[("acme", "support")]  # waiting 30 s
    later, oldest, talking = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute("UPDATE queue_members SET joined_epoch = %s WHERE uuid = %s", (clock.now - 30, first))
        for member, waited, state in (
            (later, 10, "Waiting"),
            (oldest, 200, "Waiting"),
            (talking, 90, "Answered"),
        ):
            op.conn.execute(
                "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, cid_number, state,"
                " serving_agent) VALUES (%s, 'acme', 'support', %s, '+15550777', %s, %s)",
                (member, clock.now - waited, state, "acme1" if state == "Answered" else None),
            )
    q = sup.get(f"{T}/acme/queues/support").json
    assert (q["strategy"], q["waiting"], q["tiers"]) == ("longest-idle-agent", 3, [
        {"agent": "acme1", "level": 1, "position": 1}])  # fmt: skip
    rows = [(c["uuid"], c["position"], c["state"]) for c in q["callers"]]
    assert rows == [
        (oldest, 1, "Waiting"),
        (first, 2, "Waiting"),
        (later, 3, "Waiting"),
        (talking, None, "Answered"),
    ]
    assert [c["wait_seconds"] for c in q["callers"]] == [200, 30, 10, 90]
    assert q["callers"][3]["agent"] == "acme1"

    # The dispatcher's order: one priority point is priority-aging (60 s) of head start, so
    # 10 s + 60 s passes 30 s but not 200 s.
    path = f"{T}/acme/queues/support/callers/{later}/priority"
    assert sup.request("PUT", path, {"priority": 1}).status == 204
    q = sup.get(f"{T}/acme/queues/support").json
    assert [(c["uuid"], c["position"], c["priority"]) for c in q["callers"][:3]] == [
        (oldest, 1, 0), (later, 2, 1), (first, 3, 0)]  # fmt: skip
    r = sup.request("PUT", f"{T}/acme/queues/support/callers/{talking}/priority", {"priority": 3})
    assert (r.status, r.json["code"]) == (404, "no_such_caller")  # talking already: nothing to move
    r = sup.request("PUT", f"{T}/acme/queues/support/callers/{cc.callers[('acme', 'sales')]}/priority",
                    {"priority": 3})  # fmt: skip
    assert (r.status, r.json["code"]) == (404, "no_such_caller")  # in another queue


def test_blacklist_entries_are_added_listed_and_removed(api, store) -> None:
    as_, _, _ = api
    admin = as_("tenant_admin")
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    body = {"match": "prefix", "reason": "robocalls", "expires_at": until.isoformat()}
    assert admin.request("PUT", f"{T}/acme/blacklist/+1900", body).status == 204
    assert admin.request("PUT", f"{T}/acme/blacklist/+15550100", {}).status == 204
    listed = admin.get(f"{T}/acme/blacklist").json
    assert [(e["number"], e["match"], e["reason"]) for e in listed] == [
        ("+15550100", "exact", ""), ("+1900", "prefix", "robocalls")]  # fmt: skip
    assert datetime.fromisoformat(listed[1]["expires_at"]) == until
    from fsapps.store import selfservice

    with store.tenant("acme") as t:  # what the blacklist application checks
        assert selfservice.blacklisted(t, "+19005551234", datetime.now(UTC))["reason"] == "robocalls"
    r = admin.request("PUT", f"{T}/acme/blacklist/call-me", {})
    assert (r.status, r.json["code"]) == (422, "invalid_number")
    assert admin.request("DELETE", f"{T}/acme/blacklist/+1900?match=prefix").status == 204
    r = admin.request("DELETE", f"{T}/acme/blacklist/+1900?match=prefix")
    assert (r.status, r.json["code"]) == (404, "not_blacklisted")
    assert [e["number"] for e in admin.get(f"{T}/acme/blacklist").json] == ["+15550100"]


def test_outage_notices_are_posted_listed_and_ended(api) -> None:
    as_, _, clock = api
    sup = as_("supervisor")
    ends = datetime.now(UTC) + timedelta(hours=2)
    notice = {"area_kind": "prefix", "area": "+1555", "message": "Lines down", "ends_at": ends.isoformat()}
    r = sup.request("POST", f"{T}/acme/outages", notice)
    assert r.status == 201
    oid = r.json["id"]
    assert [o["id"] for o in as_("agent").get(f"{T}/acme/outages").json] == [oid]
    r = sup.request("POST", f"{T}/acme/outages", {"area_kind": "area", "area": "x", "message": "m",
                                                 "ends_at": "2020-01-01T00:00:00Z"})  # fmt: skip
    assert (r.status, r.json["code"]) == (422, "ends_before_start")
    assert sup.request("DELETE", f"{T}/acme/outages/{oid}").status == 204
    clock.now += 1
    assert sup.get(f"{T}/acme/outages").json == []
    assert [o["id"] for o in sup.get(f"{T}/acme/outages?include_ended=true").json] == [oid]
    assert sup.request("DELETE", f"{T}/acme/outages/{oid}").json["code"] == "no_such_outage"


def _callback(store, queue: str) -> str:
    event = str(uuid.uuid4())
    with store.tenant("acme") as t:
        t.conn.execute(
            "INSERT INTO callback_requests (event_id, tenant_id, number, queue, requested_at)"
            " VALUES (%s, 'acme', '+15550142', %s, now())",
            (event, queue),
        )
    return event


def test_callbacks_are_claimed_by_one_agent_and_marked_done(api, store) -> None:
    as_, _, _ = api
    support, sales = _callback(store, "support"), _callback(store, "sales")
    sup, agent = as_("supervisor"), as_("agent")
    assert [c["event_id"] for c in sup.get(f"{T}/acme/callbacks").json] == [support]  # their group's queue
    assert {c["event_id"] for c in agent.get(f"{T}/acme/callbacks").json} == {support, sales}
    assert agent.request("POST", f"{T}/acme/callbacks/{sales}/claim").status == 204
    claimed = agent.get(f"{T}/acme/callbacks?status=dialing").json
    assert [(c["event_id"], c["claimed_by"]) for c in claimed] == [(sales, "acme1")]
    assert claimed[0]["claimed_at"]
    # Another agent of the tenant cannot take it any more, nor mark it done.
    with store.tenant("acme") as t:
        other = t.add_user("agent2_acme", "long-enough", "agent")
        token = t.issue_token(other.id, "t")
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'acme2'", (other.id,))
    agent2 = Client(agent.port, token=token)
    assert agent2.get(f"{T}/acme/callbacks?status=dialing").json == []  # not theirs
    assert [c["event_id"] for c in agent2.get(f"{T}/acme/callbacks").json] == [support]  # still to claim
    r = agent2.request("POST", f"{T}/acme/callbacks/{sales}/claim")
    assert (r.status, r.json["code"]) == (403, "forbidden")
    r = agent2.request("POST", f"{T}/acme/callbacks/{sales}/done", {})
    assert (r.status, r.json["code"]) == (403, "forbidden")
    assert agent.request("POST", f"{T}/acme/callbacks/{sales}/done", {"status": "failed"}).status == 204
    r = agent.request("POST", f"{T}/acme/callbacks/{sales}/done", {})
    assert (r.status, r.json["code"]) == (409, "callback_finished")
    assert [c["event_id"] for c in agent.get(f"{T}/acme/callbacks?status=failed").json] == [sales]
    r = agent.request("POST", f"{T}/acme/callbacks/{uuid.uuid4()}/claim")
    assert (r.status, r.json["code"]) == (404, "no_such_callback")


def test_records_surveys_cdrs_usage_and_statements(api, store) -> None:
    as_, _, _ = api
    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    call = str(uuid.uuid4())
    with store.tenant("acme") as t:
        t.add_cdrs([Cdr(str(uuid.uuid4()), "acme", call, call, "a", "inbound", "+15550123", "100", now,
                        now + timedelta(seconds=5), now + timedelta(seconds=65), 5, 60, 65, "NORMAL_CLEARING",
                        queue="support", agent_id="acme1")])  # fmt: skip
        t.add_usage([UsageRecord("acme", "agent", "handled_call", now, now + timedelta(seconds=60),
                                 Decimal(60), "seconds", "answered", resource_id="acme1")])  # fmt: skip
        from fsapps.store.db import insert_rows

        insert_rows(t.conn, "survey_answers", [
            SurveyAnswer("acme", "main", "q1", 5, now, call, "acme1", "support"),
            SurveyAnswer("acme", "main", "q1", 2, now, None, "acme2", "sales")])  # fmt: skip
    with store.operator() as op:
        op.set_billing_plan(
            "acme",
            {
                "currency": "EUR",
                "components": [
                    {"type": "outcome", "kind": "handled_call", "outcomes": ["answered"], "rate": "0.10"}
                ],
            },
        )
    qa, sup, admin = as_("qa"), as_("supervisor"), as_("tenant_admin")
    assert [(s["score"], s["queue"]) for s in qa.get(f"{T}/acme/surveys").json] in (
        [(5, "support"), (2, "sales")], [(2, "sales"), (5, "support")])  # fmt: skip
    assert [s["queue"] for s in sup.get(f"{T}/acme/surveys").json] == ["support"]
    cdrs = qa.get(f"{T}/acme/cdrs").json
    assert [(c["call_uuid"], c["billsec"], c["hangup_cause"]) for c in cdrs] == [
        (call, 60, "NORMAL_CLEARING")
    ]
    usage = admin.get(f"{T}/acme/usage?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z").json
    assert [(u["kind"], u["workload"]) for u in usage] == [("handled_call", "60.000")]
    assert admin.get(f"{T}/acme/usage?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z").json == []
    r = admin.get(f"{T}/acme/usage?from=yesterday&to=2027-01-01T00:00:00Z")
    assert (r.status, r.json["code"]) == (422, "invalid_input")
    st = admin.get(f"{T}/acme/statements/2026-11").json
    assert (st["currency"], st["records"], st["total"]) == ("EUR", 1, "0.10")
    assert admin.get(f"{T}/acme/statements/november").json["code"] == "invalid_month"
    billing_run = as_("operator").get("/api/v1/statements/2026-11").json
    assert [(s["tenant_id"], s["total"]) for s in billing_run] == [("acme", "0.10"), ("globex", "0.00")]
    # An agent reads the calls they were on: both legs of acme1's call, nothing of acme2's.
    other_call = str(uuid.uuid4())
    end = now + timedelta(seconds=65)
    with store.tenant("acme") as t:
        t.add_cdrs([
            Cdr(str(uuid.uuid4()), "acme", call, str(uuid.uuid4()), "b", "outbound", "+15550123", "acme1",
                now, now + timedelta(seconds=5), end, 0, 60, 65, "NORMAL_CLEARING"),
            Cdr(str(uuid.uuid4()), "acme", other_call, other_call, "a", "inbound", "+15550124", "100",
                now, None, end, 9, 0, 9, "ORIGINATOR_CANCEL", agent_id="acme2"),
        ])  # fmt: skip
    assert sorted(c["leg"] for c in as_("agent").get(f"{T}/acme/cdrs").json) == ["a", "b"]
    assert {c["call_uuid"] for c in as_("agent").get(f"{T}/acme/cdrs").json} == {call}
    assert len(qa.get(f"{T}/acme/cdrs").json) == 3
    assert as_("operator").get(f"{T}/globex/cdrs").json == []  # globex had none: acme's stay acme's


def test_a_tenant_admin_changes_roles_and_disables_users(api) -> None:
    as_, cc, _ = api
    admin, qa_id = as_("tenant_admin"), cc.users[("acme", "qa")]
    r = admin.request("PATCH", f"{T}/acme/users/{qa_id}", {"role": "supervisor"})
    assert (r.status, r.json["role"], r.json["disabled"]) == (200, "supervisor", False)
    assert as_("qa").get("/api/v1/session").json["role"] == "supervisor"
    assert admin.request("PATCH", f"{T}/acme/users/{qa_id}", {"disabled": True}).json["disabled"] is True
    assert as_("qa").get("/api/v1/session").status == 401
    r = admin.request("PATCH", f"{T}/acme/users/{cc.users[('acme', 'tenant_admin')]}", {"disabled": True})
    assert (r.status, r.json["code"]) == (422, "own_account")
    r = admin.request("PATCH", f"{T}/acme/users/{cc.users[('globex', 'qa')]}", {"disabled": True})
    assert (r.status, r.json["code"]) == (404, "no_such_user")  # globex's user, from acme's wall
    assert as_("qa", "globex").get("/api/v1/session").status == 200
    r = admin.request("PATCH", f"{T}/acme/users/{qa_id}", {"role": "operator_admin"})
    assert (r.status, r.json["code"]) == (422, "invalid_input")


def test_an_agent_shows_the_queues_they_serve(api) -> None:
    as_, _, _ = api
    agent = as_("agent").get(f"{T}/acme/agents/acme1").json
    assert agent["tiers"] == [{"queue": "support", "level": 1, "position": 1}]
    listed = {a["id"]: a["tiers"] for a in as_("tenant_admin").get(f"{T}/acme/agents").json}
    assert listed == {"acme1": [{"queue": "support", "level": 1, "position": 1}],
                      "acme2": [{"queue": "sales", "level": 1, "position": 1}]}  # fmt: skip


def test_api_tokens_are_listed_without_the_token_expire_and_are_revoked(api, store) -> None:
    as_, cc, clock = api
    admin, qa_id = as_("tenant_admin"), cc.users[("acme", "qa")]
    path = f"{T}/acme/users/{qa_id}/tokens"
    soon = datetime.fromtimestamp(clock.now, UTC) + timedelta(seconds=2)
    r = admin.request("POST", path, {"name": "nightly", "expires_at": soon.isoformat()})
    assert r.status == 201
    token = r.json["token"]
    script = Client(admin.port, token=token)
    assert script.get("/api/v1/session").json["username"] == "qa_acme"
    listed = admin.get(path).json
    assert [(x["name"], x["revoked_at"]) for x in listed] == [("tests", None), ("nightly", None)]
    assert token not in str(listed)
    r = admin.request("POST", path, {"name": "late", "expires_at": "2020-01-01T00:00:00Z"})
    assert (r.status, r.json["code"]) == (422, "expired")
    nightly = listed[1]["id"]
    assert admin.request("DELETE", f"{path}/{nightly}").status == 204
    assert (script.get("/api/v1/session").json["code"]) == "invalid_token"
    assert admin.request("DELETE", f"{path}/{nightly}").json["code"] == "no_such_token"
    assert as_("qa").get("/api/v1/session").status == 200  # the user's other token goes on
    other = cc.users[("globex", "qa")]
    assert admin.get(f"{T}/acme/users/{other}/tokens").json["code"] == "no_such_user"
    with store.tenant("acme") as t:  # the database's clock passes the token's end
        past = "now() - interval '1 second'"
        t.conn.execute(f"UPDATE api_tokens SET expires_at = {past} WHERE user_id = %s", (qa_id,))
    assert as_("qa").get("/api/v1/session").json["code"] == "invalid_token"
