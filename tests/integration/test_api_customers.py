"""The CRM over HTTP: customers with numbers in the caller-ID form, custom fields the tenant
admin defines, the screen pop by number, the account owner's rules, and the timeline of a
customer's calls (with the recording), callbacks, survey answers and notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

C = "/api/v1/tenants/acme/customers"


@pytest.fixture
def api(store):
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_
    server.stop()


def test_numbers_are_kept_as_the_caller_id_shows_them_and_pop_the_card(api) -> None:
    agent = api("agent")
    r = agent.request("POST", C, {"name": "Ada Lovelace", "numbers": ["+1 (555) 010-0123", "555.0199"],
                                  "company": "Analytical", "tags": ["vip", "vip", "gold"]})  # fmt: skip
    assert r.status == 201, r
    ada = r.json
    assert ada["numbers"] == ["+15550100123", "5550199"] and ada["tags"] == ["gold", "vip"]
    # The screen pop: the caller ID as the switch gives it finds the card, in any role that reads.
    for role in ("agent", "supervisor", "qa", "tenant_admin"):
        got = api(role).get(f"{C}/by-number/+15550100123")
        assert (got.status, got.json["id"]) == (200, ada["id"]), got
    assert api("agent").get(f"{C}/by-number/+15550100999").json["code"] == "no_such_customer"
    assert api("agent", "globex").get(f"{C.replace('acme', 'globex')}/by-number/+15550100123").status == 404
    bad = agent.get(f"{C}/by-number/call-me")
    assert (bad.status, bad.json["code"]) == (422, "invalid_number")
    # A number is one customer's: another customer cannot take it, in whatever form it is typed.
    taken = agent.request("POST", C, {"name": "Eve", "numbers": ["+1 555 010 0123"]})
    assert (taken.status, taken.json["code"]) == (409, "number_taken"), taken
    assert agent.get(C + "?number=%2B1%20555%20010%200123").json == [ada]
    assert [c["name"] for c in agent.get(C + "?name=LOVE").json] == ["Ada Lovelace"]
    assert [c["name"] for c in agent.get(C + "?name=analyt").json] == ["Ada Lovelace"]
    assert agent.get(C + "?tag=silver").json == []


def test_custom_fields_are_the_ones_the_tenant_admin_defined(api) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    assert agent.request("PUT", "/api/v1/tenants/acme/customer-fields/plan", {"type": "text"}).status == 403
    for name, kind in (("plan", "text"), ("since", "date"), ("lines", "number")):
        got = admin.request("PUT", f"/api/v1/tenants/acme/customer-fields/{name}", {"type": kind})
        assert got.status == 204, got
    bad_name = admin.request("PUT", "/api/v1/tenants/acme/customer-fields/Bad-Name", {"type": "text"})
    assert (bad_name.status, bad_name.json["code"]) == (422, "invalid_input")
    r = agent.request("POST", C, {"name": "Bob", "custom_fields": {"plan": "gold", "lines": 3}})
    assert r.status == 201 and r.json["custom_fields"] == {"plan": "gold", "lines": 3}
    bob = r.json["id"]
    for wrong in ({"colour": "red"}, {"lines": "three"}, {"since": "yesterday"}, {"lines": True}):
        got = agent.request("PATCH", f"{C}/{bob}", {"custom_fields": wrong})
        assert (got.status, got.json["code"]) == (422, "invalid_input"), (wrong, got)
    # A patch of the fields changes the ones given; null clears one.
    got = agent.request("PATCH", f"{C}/{bob}", {"custom_fields": {"since": "2024-02-29", "plan": None}})
    assert got.json["custom_fields"] == {"lines": 3, "since": "2024-02-29"}, got
    # The definition goes with its values.
    assert admin.request("DELETE", "/api/v1/tenants/acme/customer-fields/lines").status == 204
    assert agent.get(f"{C}/{bob}").json["custom_fields"] == {"since": "2024-02-29"}


def test_the_account_owner_is_an_agent_of_the_tenant_and_agents_assign_only_themselves(api) -> None:
    agent, sup, admin = api("agent"), api("supervisor"), api("tenant_admin")
    # The agent (acme1) takes a new customer on; they may not give one to acme2.
    mine = agent.request("POST", C, {"name": "Mine", "numbers": ["+15550200001"], "owner_agent": "acme1"})
    assert (mine.status, mine.json["owner_agent"]) == (201, "acme1"), mine
    other = agent.request("POST", C, {"name": "Theirs", "owner_agent": "acme2"})
    assert (other.status, other.json["code"]) == (403, "forbidden")
    # Not an agent of this tenant: refused, whoever asks.
    foreign = admin.request("POST", C, {"name": "X", "owner_agent": "globex1"})
    assert (foreign.status, foreign.json["code"]) == (422, "no_such_agent")
    # acme2's customer: the agent may edit the card, not take it over; the supervisor of
    # acme1's group may not move it from acme2 either; the admin may.
    theirs = admin.request("POST", C, {"name": "Theirs", "owner_agent": "acme2"}).json["id"]
    assert agent.request("PATCH", f"{C}/{theirs}", {"company": "Initech"}).json["company"] == "Initech"
    assert agent.request("PATCH", f"{C}/{theirs}", {"owner_agent": "acme1"}).status == 403
    assert sup.request("PATCH", f"{C}/{theirs}", {"owner_agent": "acme1"}).status == 403
    assert admin.request("PATCH", f"{C}/{theirs}", {"owner_agent": "acme1"}).json["owner_agent"] == "acme1"
    # Deleting is the admin's.
    assert agent.request("DELETE", f"{C}/{theirs}").status == 403
    assert admin.request("DELETE", f"{C}/{theirs}").status == 204
    assert agent.get(f"{C}/{theirs}").status == 404


def test_the_timeline_has_calls_with_recordings_callbacks_surveys_and_notes_newest_first(api, store) -> None:
    agent = api("agent")
    ada = agent.request("POST", C, {"name": "Ada", "numbers": ["+15550300001", "+15550300002"]}).json
    now = datetime.now(UTC).replace(microsecond=0)
    visit, other_call, outbound = (str(uuid.uuid4()) for _ in range(3))
    recording = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
            " ended_at, wait_seconds, talk_seconds, outcome, recording) VALUES"
            " (%s, 'acme', %s, 'support', 'acme1', '+15550300001', %s, %s, 12, 60, 'answered', '/r/x.wav'),"
            " (%s, 'acme', %s, 'support', NULL, '+15550399999', %s, %s, 5, 0, 'abandoned', NULL)",
            (recording, visit, now - timedelta(hours=3), now - timedelta(hours=3) + timedelta(minutes=2),
             str(uuid.uuid4()), other_call, now - timedelta(hours=2), now - timedelta(hours=2)),
        )  # fmt: skip
        # Its CDR (the same call: one entry) and an outbound call to the second number.
        for cid, caller, dest, direction, at in (
            (visit, "+15550300001", "8001", "inbound", now - timedelta(hours=3)),
            (outbound, "8001", "+15550300002", "outbound", now - timedelta(hours=1)),
        ):
            op.conn.execute(
                "INSERT INTO cdrs (event_id, tenant_id, call_uuid, leg_uuid, leg, direction, caller,"
                " destination, started_at, answered_at, ended_at, billsec, hangup_cause)"
                " VALUES (%s, 'acme', %s, %s, 'a', %s, %s, %s, %s, %s, %s, 30, 'NORMAL_CLEARING')",
                (str(uuid.uuid4()), cid, cid, direction, caller, dest, at, at, at + timedelta(seconds=30)),
            )
        op.conn.execute(
            "INSERT INTO survey_answers (event_id, tenant_id, call_uuid, agent_id, queue, flow, question,"
            " score, answered_at) VALUES (%s, 'acme', %s, 'acme1', 'support', 'main', 'rate', 5, %s)",
            (str(uuid.uuid4()), visit, now - timedelta(hours=2, minutes=50)),
        )
        op.conn.execute(
            "INSERT INTO callback_requests (event_id, tenant_id, number, queue, requested_at)"
            " VALUES (%s, 'acme', '+15550300002', 'support', %s)",
            (str(uuid.uuid4()), now - timedelta(minutes=30)),
        )
    note = agent.request("POST", f"{C}/{ada['id']}/notes", {"body": "Prefers mornings", "call": visit})
    assert note.status == 201
    got = agent.get(f"{C}/{ada['id']}/timeline")
    assert got.status == 200, got
    entries = [(e["kind"], e["call_uuid"], e["recording"]) for e in got.json]
    assert entries == [
        ("note", visit, None),
        ("callback", None, None),
        ("call", outbound, None),
        ("survey", visit, None),
        ("call", visit, recording),
    ], got.json
    detail = [e["detail"] for e in got.json]
    assert (detail[0]["author"], detail[0]["body"]) == ("agent_acme", "Prefers mornings")
    assert (detail[2]["direction"], detail[2]["number"]) == ("outbound", "+15550300002")
    assert detail[4]["outcome"] == "answered" and detail[3]["score"] == 5
    paged = agent.get(f"{C}/{ada['id']}/timeline?limit=2&offset=3").json
    assert [e["kind"] for e in paged] == ["survey", "call"]
    # Another tenant's agent cannot read it, nor find the customer there.
    assert api("agent", "globex").get(f"/api/v1/tenants/globex/customers/{ada['id']}/timeline").status == 404
