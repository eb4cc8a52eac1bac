"""Tickets assigned by skill, over HTTP against the real PostgreSQL: a ticket that needs a
skill and names no agent goes to the tenant's agent holding the skill with the fewest open
tickets (ties: longest since their last ticket, then the id), never to another tenant's;
supervisors and tenant admins reassign, agents do not; an agent's list (the desk's) shows
what they were given."""

from __future__ import annotations

import pytest

from fsapps.store import acd
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

K = "/api/v1/tenants/acme/tickets"


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_115_600.0  # 2026-12-01 09:00 UTC

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(store):
    cc = populate(store)
    with store.operator() as op:
        # acme3 holds no skill; globex's own agent is the best "billing" agent of all, and
        # idle: only the tenant's wall keeps acme's tickets from it.
        op.add_agent("acme3", "Agent 3 of acme", {"acme": 1})
        acd.ensure_agent(op.conn, "acme3")
    clock = Clock()
    server = serve_api(ApiContext(store, static_queues(QUEUES), clock=clock))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    as_.clock = clock  # type: ignore[attr-defined]
    admin, globex = as_("tenant_admin"), as_("tenant_admin", "globex")
    for agent, skills in (("acme1", {"billing": 5}), ("acme2", {"billing": 2}), ("acme3", {})):
        put = admin.request("PUT", f"/api/v1/tenants/acme/agents/{agent}/skills", {"skills": skills})
        assert put.status == 200, put
    assert globex.request("PUT", "/api/v1/tenants/globex/agents/globex1/skills",
                          {"skills": {"billing": 10}}).status == 200  # fmt: skip
    yield as_
    server.stop()


def _open(client: Client, api, subject: str, **more) -> dict:
    api.clock.now += 60  # each one a minute after the last: "longest since" is measurable
    r = client.request("POST", K, {"subject": subject, **more})
    assert r.status == 201, r
    return r.json


def test_a_skilled_ticket_goes_to_the_least_loaded_holder_then_the_longest_waiting(api) -> None:
    admin = api("tenant_admin")
    first = _open(admin, api, "Refund", required_skill="billing")
    # Both holders have no ticket and never had one: the id decides.
    assert (first["assignee_agent"], first["required_skill"]) == ("acme1", "billing")
    # acme1 has one open now: the fewest open wins.
    assert _open(admin, api, "Invoice copy", required_skill="billing")["assignee_agent"] == "acme2"
    # One each: acme1 was given theirs longer ago.
    assert _open(admin, api, "Direct debit", required_skill="billing")["assignee_agent"] == "acme1"
    # acme2 solves theirs: fewer open than acme1's two.
    assert admin.request("PATCH", f"{K}/1002", {"state": "solved"}).status == 200
    assert _open(admin, api, "VAT", required_skill="billing")["assignee_agent"] == "acme2"
    # Nobody holds the skill: no agent, the queue kept.
    french = _open(admin, api, "Bonjour", required_skill="french", assignee_queue="support")
    assert (french["assignee_agent"], french["assignee_queue"]) == (None, "support")
    # The history says a rule chose, and by which skill.
    history = [(e["actor"], e["kind"], e["detail"]) for e in admin.get(f"{K}/1001").json["history"]]
    assert history[1] == ("system", "assignee", {"agent": "acme1", "queue": None, "skill": "billing"})
    # An agent opening a ticket that needs a skill hands it on by the skill, not to themselves.
    mine = _open(api("agent"), api, "Card declined", required_skill="billing")
    assert mine["assignee_agent"] == "acme2"  # acme1 has two open, acme2 one (VAT)


def test_the_tenants_wall_holds_and_globex_tickets_go_to_globex_agents(api) -> None:
    acme, globex = api("tenant_admin"), api("tenant_admin", "globex")
    assert _open(acme, api, "Refund", required_skill="billing")["assignee_agent"] == "acme1"
    got = globex.request(
        "POST", K.replace("acme", "globex"), {"subject": "Theirs", "required_skill": "billing"}
    )
    assert got.json["assignee_agent"] == "globex1"
    # globex's open ticket does not count as acme1's load, nor acme's as globex1's.
    assert _open(acme, api, "Second", required_skill="billing")["assignee_agent"] == "acme2"


def test_supervisors_and_admins_reassign_agents_do_not_and_the_desk_lists_the_agents_own(api) -> None:
    admin, sup, agent = api("tenant_admin"), api("supervisor"), api("agent")
    _open(admin, api, "Refund", required_skill="billing")  # acme1: the agent's own
    _open(admin, api, "Invoice", required_skill="billing")  # acme2
    _open(admin, api, "Sales lead", assignee_queue="sales")  # neither theirs nor their queue's
    # The desk's list: the agent's own (and their queues'), not acme2's.
    assert [t["subject"] for t in agent.get(K).json] == ["Refund"]
    refused = agent.request("PATCH", f"{K}/1001", {"assignee_agent": "acme2"})
    assert (refused.status, refused.json["code"]) == (403, "reassign_refused")
    assert agent.request("PATCH", f"{K}/1001", {"state": "open"}).status == 200  # they work it
    moved = sup.request("PATCH", f"{K}/1002", {"assignee_agent": "acme1"})
    assert moved.status == 200 and moved.json["assignee_agent"] == "acme1"
    assert moved.json["history"][-1]["detail"] == {"agent": "acme1", "queue": None}
    assert admin.request("PATCH", f"{K}/1003", {"assignee_agent": "acme1"}).status == 200
    assert [t["subject"] for t in agent.get(K).json] == ["Sales lead", "Invoice", "Refund"]
    # Reassigning to another tenant's agent is refused as no agent of this tenant.
    other = sup.request("PATCH", f"{K}/1001", {"assignee_agent": "globex1"})
    assert (other.status, other.json["code"]) == (422, "no_such_agent")
