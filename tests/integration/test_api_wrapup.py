"""Wrap-up over HTTP, against the real PostgreSQL: disposition codes per tenant and queue
(with defaults), an agent's disposition and notes on a call they handled, read back on the
call, in the wrap-ups list and on the customer's timeline; a required disposition holds
the agent back from ready; tenant walls."""

from __future__ import annotations

import time
import uuid

import pytest

from fsapps.store import customers
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme"
W = T + "/agents/acme1/wrap-ups/"  # + the call


@pytest.fixture
def api(store):
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_
    server.stop()


def answered(store, *, agent: str = "acme1", queue: str = "support", caller: str = "+15550100123",
             tenant: str = "acme", ago: float = 60.0) -> str:  # fmt: skip
    """A queue call the agent answered and that ended ``ago`` seconds ago, as the controller
    records it (a queue_calls row)."""
    call = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
            " ended_at, wait_seconds, talk_seconds, outcome) VALUES (%s, %s, %s, %s, %s, %s,"
            " to_timestamp(%s), to_timestamp(%s), 3, 40, 'answered')",
            (str(uuid.uuid4()), tenant, call, queue, agent, caller, time.time() - ago - 45,
             time.time() - ago),
        )
    return call


def test_the_defaults_until_the_tenant_defines_its_codes_then_per_queue(api) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    codes = agent.get(T + "/wrap-up-codes").json
    assert [c["code"] for c in codes][:2] == ["resolved", "follow_up"] and all(c["default"] for c in codes)
    assert agent.request("PUT", T + "/wrap-up-codes/sold", {"label": "Sold"}).status == 403
    for code, body in (("sold", {"label": "成交", "queues": ["sales"], "position": 1}),
                       ("solved", {"label": "已解决", "position": 0}),
                       ("rma", {"label": "退货", "queues": ["support"], "position": 2})):  # fmt: skip
        assert admin.request("PUT", T + f"/wrap-up-codes/{code}", body).status == 204
    assert [c["code"] for c in agent.get(T + "/wrap-up-codes?queue=sales").json] == ["solved", "sold"]
    assert [c["code"] for c in agent.get(T + "/wrap-up-codes?queue=support").json] == ["solved", "rma"]
    assert [c["code"] for c in agent.get(T + "/wrap-up-codes").json] == ["solved", "sold", "rma"]
    bad = admin.request("PUT", T + "/wrap-up-codes/Bad%20Code!", {"label": "x"})
    assert (bad.status, bad.json["code"]) == (422, "invalid_input")
    bad = admin.request("PUT", T + "/wrap-up-codes/x", {"label": "x", "queues": ["nosuch"]})
    assert (bad.status, bad.json["code"]) == (422, "no_such_queue")
    assert admin.request("DELETE", T + "/wrap-up-codes/rma").status == 204
    assert admin.request("DELETE", T + "/wrap-up-codes/rma").json["code"] == "no_such_code"
    # Globex still has the defaults: acme's codes are acme's.
    other = api("agent", "globex").get("/api/v1/tenants/globex/wrap-up-codes").json
    assert all(c["default"] for c in other)


def test_a_disposition_and_notes_reach_the_call_the_reports_and_the_customers_timeline(api, store) -> None:
    agent, sup = api("agent"), api("supervisor")
    with store.tenant("acme") as t:
        ada = customers.create(t, {"name": "Ada", "company": "", "tags": [], "custom_fields": {},
                                   "numbers": ["+15550100123"], "owner_agent": None})  # fmt: skip
    call = answered(store)
    last = agent.get(T + "/agents/acme1/wrap-up")
    assert last.status == 200, last
    assert (last.json["call_uuid"], last.json["queue"], last.json["wrap_up"]) == (call, "support", None)
    assert "resolved" in [c["code"] for c in last.json["codes"]]
    notes = "客户要求周一回电 <script>alert(1)</script> ' OR 1=1"
    r = agent.request("PUT", f"{W}{call}", {"disposition": "callback", "notes": notes})
    assert r.status == 200, r
    assert (r.json["disposition"], r.json["label"], r.json["notes"], r.json["written_by"]) == (
        "callback", "Callback promised", notes, "agent_acme")
    # Written again: replaced, not added.
    r = agent.request("PUT", f"{W}{call}", {"disposition": "resolved", "notes": notes})
    assert r.json["disposition"] == "resolved"
    got = sup.get(T + f"/calls/{call}").json
    assert [(w["agent_id"], w["disposition"], w["notes"]) for w in got["wrap_ups"]] == [
        ("acme1", "resolved", notes)]
    visits = [(v["queue"], v["agent_id"], v["outcome"]) for v in got["visits"]]
    assert visits == [("support", "acme1", "answered")]
    listed = api("tenant_admin").get(T + "/wrap-ups?disposition=resolved").json
    assert [(w["call_uuid"], w["number"]) for w in listed] == [(call, "+15550100123")]
    timeline = agent.get(T + f"/customers/{ada}/timeline").json
    kinds = [e["kind"] for e in timeline]
    assert "wrap_up" in kinds and "call" in kinds, timeline
    entry = next(e for e in timeline if e["kind"] == "wrap_up")
    assert (entry["call_uuid"], entry["agent_id"], entry["detail"]) == (call, "acme1", {
        "disposition": "resolved", "label": "Resolved", "notes": notes, "author": "agent_acme"})
    assert agent.get(T + "/agents/acme1/wrap-up").json["wrap_up"]["disposition"] == "resolved"


def test_only_the_calls_an_agent_handled_and_only_the_codes_for_its_queue(api, store) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    theirs, others = answered(store, queue="sales"), answered(store, agent="acme2")
    r = agent.request("PUT", f"{W}{others}", {"disposition": "resolved"})
    assert (r.status, r.json["code"]) == (404, "no_such_call")
    r = agent.request("PUT", T + f"/agents/acme2/wrap-ups/{others}", {"disposition": "resolved"})
    assert r.status == 403  # another agent's wrap-up
    r = agent.request("PUT", f"{W}{uuid.uuid4()}", {"disposition": "resolved"})
    assert (r.status, r.json["code"]) == (404, "no_such_call")
    for code, label, queue in (("rma", "退货", "support"), ("sold", "成交", "sales")):
        put = admin.request("PUT", T + f"/wrap-up-codes/{code}", {"label": label, "queues": [queue]})
        assert put.status == 204, put
    r = agent.request("PUT", f"{W}{theirs}", {"disposition": "rma"})
    assert (r.status, r.json["code"]) == (422, "invalid_disposition"), r
    r = agent.request("PUT", f"{W}{theirs}", {"disposition": "resolved"})
    assert (r.status, r.json["code"]) == (422, "invalid_disposition")  # not a default any more
    r = agent.request("PUT", f"{W}{theirs}", {"disposition": "sold",
                                                         "notes": "x" * 10_001})
    assert (r.status, r.json["code"]) == (422, "invalid_input")
    r = agent.request("PUT", f"{W}{theirs}", {"disposition": "sold"})
    assert (r.status, r.json["label"], r.json["notes"]) == (200, "成交", ""), r
    # The code goes; the label stays on what was written with it.
    assert admin.request("DELETE", T + "/wrap-up-codes/sold").status == 204
    assert agent.get(T + f"/calls/{theirs}").json["wrap_ups"][0]["label"] == "成交"
    # The agent reads their calls only; qa reads any; another tenant none.
    assert agent.get(T + f"/calls/{others}").status == 403
    assert api("qa").get(T + f"/calls/{others}").status == 200
    assert api("tenant_admin", "globex").get(f"/api/v1/tenants/globex/calls/{theirs}").status == 404
    assert api("agent").get(T + f"/calls/{uuid.uuid4()}").json["code"] == "no_such_call"
    assert [w["call_uuid"] for w in agent.get(T + "/wrap-ups?agent=acme2").json] == [theirs]  # their own


def test_a_required_disposition_holds_the_agent_back_from_ready(api, store) -> None:
    admin, agent, sup = api("tenant_admin"), api("agent"), api("supervisor")
    call = answered(store)
    ready = {"status": "Available", "reason": ""}
    # Not required (the default): ready at once.
    assert agent.get(T + "/wrap-up-settings").json == {"required": False}
    assert agent.request("PUT", T + "/agents/acme1/status", ready).status == 200
    assert agent.request("PUT", T + "/wrap-up-settings", {"required": True}).status == 403
    assert admin.request("PUT", T + "/wrap-up-settings", {"required": True}).json == {"required": True}
    r = agent.request("PUT", T + "/agents/acme1/status", ready)
    assert (r.status, r.json["code"]) == (409, "wrap_up_required"), r
    assert call in r.json["message"]
    # A break is fine; so is a supervisor forcing ready (the floor's override).
    brk = {"status": "On Break", "reason": "lunch"}
    assert agent.request("PUT", T + "/agents/acme1/status", brk).status == 200
    assert sup.request("PUT", T + "/agents/acme1/status", ready).status == 200
    assert agent.request("PUT", T + "/agents/acme1/status", brk).status == 200
    assert agent.request("PUT", f"{W}{call}", {"disposition": "resolved"}).status == 200
    assert agent.request("PUT", T + "/agents/acme1/status", ready).json["status"] == "Available"
    # The next call needs its own.
    answered(store, ago=5)
    assert agent.request("PUT", T + "/agents/acme1/status", ready).status == 409
    # Globex's setting is its own.
    assert api("agent", "globex").get("/api/v1/tenants/globex/wrap-up-settings").json == {"required": False}


def test_the_agent_on_a_call_can_write_its_wrap_up_before_it_ends(api, store) -> None:
    agent = api("agent")
    member = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, state, cid_number)"
            " VALUES (%s, 'acme', 'support', %s, 'Answered', '+15550100777')", (member, time.time() - 30))
        op.conn.execute("INSERT INTO agent_state (agent_id) VALUES ('acme1') ON CONFLICT DO NOTHING")
        op.conn.execute("UPDATE agent_state SET state = 'In a queue call', offered_member = %s"
                        " WHERE agent_id = 'acme1'", (member,))  # fmt: skip
    last = agent.get(T + "/agents/acme1/wrap-up").json
    assert (last["call_uuid"], last["number"], last["ended_at"]) == (member, "+15550100777", None)
    r = agent.request("PUT", f"{W}{member}", {"disposition": "follow_up", "notes": "n"})
    assert (r.status, r.json["queue"]) == (200, "support"), r
    assert api("agent").get(T + "/agents/acme2/wrap-up").status == 403
    assert api("tenant_admin").get(T + "/agents/acme2/wrap-up").json["code"] == "no_call"


def test_ending_wrap_up_early_is_going_ready_and_needs_the_required_disposition(api, store) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    call = answered(store)
    assert admin.request("PUT", T + "/wrap-up-settings", {"required": True}).status == 200
    done = T + "/agents/acme1/call/wrap-up-done"
    r = agent.request("POST", done)
    assert (r.status, r.json["code"]) == (409, "wrap_up_required"), r
    assert agent.request("PUT", f"{W}{call}", {"disposition": "resolved"}).status == 200
    # Past the check: on to the switch (none in this test).
    r = agent.request("POST", done)
    assert (r.status, r.json["code"]) == (503, "no_switch"), r
