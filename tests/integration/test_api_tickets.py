"""Tickets over HTTP against the real PostgreSQL: numbers per tenant, states and their
history, an agent's tickets (theirs and their queues'), the SLA clock per priority and
the overdue flag, the customer's timeline, and the public web form and status link
(no login, rate limited, no internal notes). Who may do what in every role is
tests/integration/test_api_matrix.py's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

K = "/api/v1/tenants/acme/tickets"
START = datetime(2026, 12, 1, 9, 0).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(store):
    cc = populate(store)
    clock = Clock()
    server = serve_api(ApiContext(store, static_queues(QUEUES), clock=clock))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant) if role else None)

    as_.clock = clock  # type: ignore[attr-defined]
    as_.port = server.server_port  # type: ignore[attr-defined]
    yield as_
    server.stop()


def test_an_agent_opens_a_ticket_from_a_call_and_its_history_says_who_did_what(api) -> None:
    agent, sup = api("agent"), api("supervisor")
    ada = agent.request("POST", "/api/v1/tenants/acme/customers", {"name": "Ada", "numbers": ["+15550142"]})
    call = str(uuid.uuid4())
    no_call = agent.request("POST", K, {"subject": "Line noisy", "source": "call"})
    assert (no_call.status, no_call.json["code"]) == (422, "call_required")
    r = agent.request("POST", K, {"subject": "Line noisy", "body": "Crackling since Monday",
                                  "source": "call", "call_uuid": call, "customer_id": ada.json["id"],
                                  "priority": "high"})  # fmt: skip
    assert r.status == 201, r
    t = r.json
    assert (t["number"], t["state"], t["source"], t["call_uuid"], t["customer_name"]) == (
        1001,
        "new",
        "call",
        call,
        "Ada",
    )
    assert (t["assignee_agent"], t["created_by"]) == ("acme1", "agent_acme")  # who opens it works it
    assert t["status_link"].startswith("/console/ticket-status#acme/")
    # Numbers are the tenant's own: short, in order, and another tenant's start again.
    assert agent.request("POST", K, {"subject": "Second"}).json["number"] == 1002
    other = api("agent", "globex").request("POST", K.replace("acme", "globex"), {"subject": "Theirs"})
    assert other.json["number"] == 1001
    # States move as a help desk's do; a closed ticket stays closed.
    api.clock.now += 60
    assert agent.request("PATCH", f"{K}/1001", {"state": "pending"}).status == 200
    assert sup.request("PATCH", f"{K}/1001", {"state": "closed", "assignee_queue": "support"}).status == 200
    back = agent.request("PATCH", f"{K}/1001", {"state": "open"})
    assert (back.status, back.json["code"]) == (422, "state_move"), back
    bad = sup.request("PATCH", f"{K}/1001", {"assignee_queue": "nowhere"})
    assert (bad.status, bad.json["code"]) == (422, "no_such_queue")
    assert agent.request("POST", f"{K}/1001/notes", {"body": "Engineer booked"}).status == 201
    history = [(e["actor"], e["kind"], e["detail"]) for e in agent.get(f"{K}/1001").json["history"]]
    assert history == [
        ("agent_acme", "created", {"source": "call", "priority": "high"}),
        ("agent_acme", "assignee", {"agent": "acme1", "queue": None}),
        ("agent_acme", "state", {"from": "new", "to": "pending"}),
        ("supervisor_acme", "state", {"from": "pending", "to": "closed"}),
        ("supervisor_acme", "assignee", {"agent": "acme1", "queue": "support"}),
        ("agent_acme", "note", {"body": "Engineer booked"}),
    ]
    # The customer's timeline has it, with its state now.
    timeline = agent.get(f"/api/v1/tenants/acme/customers/{ada.json['id']}/timeline").json
    tickets = [e for e in timeline if e["kind"] == "ticket"]
    assert [(e["detail"]["number"], e["detail"]["state"], e["call_uuid"]) for e in tickets] == [
        (1001, "closed", call)
    ]


def test_an_agent_works_their_own_and_their_queues_tickets_and_qa_only_reads(api) -> None:
    admin, agent, qa = api("tenant_admin"), api("agent"), api("qa")
    # acme1 (the agent's own) is in support's tiers, not in sales'.
    for subject, to in (
        ("Mine", {"assignee_agent": "acme1"}),
        ("Support's", {"assignee_queue": "support"}),
        ("Sales'", {"assignee_queue": "sales"}),
        ("Acme2's", {"assignee_agent": "acme2"}),
    ):
        assert admin.request("POST", K, {"subject": subject, **to}).status == 201
    assert [t["subject"] for t in agent.get(K).json] == ["Support's", "Mine"]
    assert [t["subject"] for t in admin.get(K).json] == ["Acme2's", "Sales'", "Support's", "Mine"]
    assert [t["subject"] for t in qa.get(K + "?queue=sales").json] == ["Sales'"]
    for number in (1003, 1004):
        got = agent.get(f"{K}/{number}")
        assert (got.status, got.json["code"]) == (403, "not_yours")
        assert agent.request("PATCH", f"{K}/{number}", {"state": "open"}).status == 403
    assert agent.request("PATCH", f"{K}/1002", {"state": "open"}).status == 200
    assert qa.request("PATCH", f"{K}/1002", {"state": "solved"}).status == 403
    assert qa.get(f"{K}/1004").json["subject"] == "Acme2's"
    # Another tenant cannot tell the tickets are there.
    assert api("tenant_admin", "globex").get(f"{K}/1001").status == 404


def test_the_sla_clock_runs_per_priority_and_an_overdue_ticket_is_flagged(api) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    defaults = agent.get("/api/v1/tenants/acme/ticket-settings").json["due_minutes"]
    assert defaults == {"low": 10080, "normal": 4320, "high": 1440, "urgent": 240}
    s = admin.request("PUT", "/api/v1/tenants/acme/ticket-settings", {"due_minutes": {"urgent": 30}})
    assert s.json["due_minutes"]["urgent"] == 30 and s.json["due_minutes"]["high"] == 1440
    bad = admin.request("PUT", "/api/v1/tenants/acme/ticket-settings", {"due_minutes": {"asap": 5}})
    assert bad.status == 422
    urgent = agent.request("POST", K, {"subject": "Outage", "priority": "urgent"}).json
    normal = agent.request("POST", K, {"subject": "Invoice", "priority": "normal"}).json
    created = datetime.fromisoformat(urgent["created_at"])
    assert datetime.fromisoformat(urgent["due_at"]) - created == timedelta(minutes=30)
    assert datetime.fromisoformat(normal["due_at"]) - created == timedelta(days=3)
    assert not urgent["overdue"] and agent.get(K + "?overdue=true").json == []
    api.clock.now += 31 * 60
    assert [t["number"] for t in agent.get(K + "?overdue=true").json] == [urgent["number"]]
    assert agent.get(f"{K}/{urgent['number']}").json["overdue"] is True
    # Raising the normal one's priority moves its due time from its creation: overdue too.
    raised = agent.request("PATCH", f"{K}/{normal['number']}", {"priority": "urgent"}).json
    assert raised["overdue"] is True and raised["due_at"] == urgent["due_at"]
    # Solved, the clock stops.
    solved = agent.request("PATCH", f"{K}/{urgent['number']}", {"state": "solved"}).json
    assert solved["overdue"] is False
    assert [t["number"] for t in agent.get(K + "?overdue=true").json] == [normal["number"]]


def test_the_public_web_form_gives_a_number_and_a_status_link_without_notes(api) -> None:
    public = api(None)
    form = "/api/v1/public/tenants/acme/tickets"
    off = public.request("POST", form, {"subject": "Help", "contact": "ada@example.com"})
    assert (off.status, off.json["code"]) == (404, "no_web_form")  # the tenant admin has not opened it
    nowhere = public.request("POST", form.replace("acme", "nosuch"), {"subject": "Help", "contact": "x"})
    assert (nowhere.status, nowhere.json["code"]) == (404, "no_web_form")
    admin = api("tenant_admin")
    assert admin.request("PUT", "/api/v1/tenants/acme/ticket-settings",
                         {"web_form": True, "web_queue": "support"}).status == 200  # fmt: skip
    missing = public.request("POST", form, {"contact": "ada@example.com"})
    assert (missing.status, missing.json["code"]) == (422, "invalid_input")
    r = public.request(
        "POST", form, {"subject": "Bill wrong", "body": "Charged twice", "contact": "ada@example.com"}
    )
    assert r.status == 201, r
    number, link = r.json["number"], r.json["status_link"]
    tenant, token = link.split("#")[1].split("/")
    assert tenant == "acme" and len(token) >= 32
    # The form's ticket is in the tenant's web queue: the queue's agent works it.
    agent = api("agent")
    t = agent.get(f"{K}/{number}").json
    assert (t["source"], t["assignee_queue"], t["contact"], t["created_by"]) == (
        "web",
        "support",
        "ada@example.com",
        "web",
    )
    api.clock.now += 120
    agent.request("POST", f"{K}/{number}/notes", {"body": "Customer sounds angry, refund 42.00"})
    agent.request("PATCH", f"{K}/{number}", {"state": "open"})
    status = public.get(f"/api/v1/public/tenants/acme/ticket-status/{token}")
    assert status.status == 200, status
    assert (status.json["number"], status.json["subject"], status.json["state"]) == (
        number,
        "Bill wrong",
        "open",
    )
    assert [c["state"] for c in status.json["changes"]] == ["open"]
    assert b"angry" not in status.body and b"agent_acme" not in status.body  # no notes, no names
    for wrong in (
        f"globex/ticket-status/{token}",
        "acme/ticket-status/" + "x" * 32,
        "acme/ticket-status/" + "x" * 200,
    ):
        got = public.get(f"/api/v1/public/tenants/{wrong}")
        assert (got.status, got.json["code"]) == (404, "no_such_ticket"), wrong


def test_the_web_form_is_rate_limited_per_address(api) -> None:
    admin, public = api("tenant_admin"), api(None)
    admin.request("PUT", "/api/v1/tenants/acme/ticket-settings", {"web_form": True})
    form = "/api/v1/public/tenants/acme/tickets"
    got = [
        public.request("POST", form, {"subject": f"Spam {i}", "contact": "x@example.com"}) for i in range(6)
    ]
    assert [r.status for r in got] == [201] * 5 + [429]
    assert got[-1].json["code"] == "too_many_tickets" and int(got[-1].headers["retry-after"]) > 0
    assert len(admin.get(K).json) == 5  # the refused one left nothing behind


def test_a_suspended_tenants_web_form_takes_no_tickets(api, store) -> None:
    api("tenant_admin").request("PUT", "/api/v1/tenants/acme/ticket-settings", {"web_form": True})
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = 'acme'")
    r = api(None).request("POST", "/api/v1/public/tenants/acme/tickets", {"subject": "Hi", "contact": "x"})
    assert (r.status, r.json["code"]) == (404, "no_web_form")


def test_the_acds_housekeeping_escalates_overdue_tickets_once(api, store) -> None:
    """A running dispatcher's housekeeping sweeps on the wall clock: here an hour ahead, so
    the urgent ticket (due in 30 minutes) is overdue and the normal one is not."""
    import time
    from types import SimpleNamespace

    from fsapps.acd.dispatch import Dispatcher
    from fsapps.acd.ticket_sweep import EVERY
    from tests.support.waiting import wait_for

    admin, agent = api("tenant_admin"), api("agent")
    admin.request("PUT", "/api/v1/tenants/acme/ticket-settings", {"due_minutes": {"urgent": 30}})
    api.clock.now = time.time()
    urgent = agent.request("POST", K, {"subject": "Outage", "priority": "urgent"}).json["number"]
    normal = agent.request("POST", K, {"subject": "Invoice"}).json["number"]
    solved = agent.request("POST", K, {"subject": "Done", "priority": "urgent"}).json["number"]
    agent.request("PATCH", f"{K}/{solved}", {"state": "solved"})
    wall = [time.time() + 3600]
    d = Dispatcher(store, lambda: SimpleNamespace(tenants=[]), time.time, name="sweeper",
                   wall=lambda: wall[0]).start()  # fmt: skip
    try:
        wait_for(lambda: agent.get(f"{K}/{urgent}").json["escalated_at"] is not None, timeout=10)
        wall[0] += EVERY + 1  # another sweep: nothing escalates twice
        wait_for(lambda: d.ticket_sweep.last == wall[0], timeout=10)
    finally:
        d.stop()
    got = agent.get(f"{K}/{urgent}").json
    assert [(e["actor"], e["kind"]) for e in got["history"]].count(("system", "escalated")) == 1
    assert got["overdue"] is False  # the API's clock (now) says it is not overdue yet; the sweep's did
    assert agent.get(f"{K}/{normal}").json["escalated_at"] is None
    assert agent.get(f"{K}/{solved}").json["escalated_at"] is None
