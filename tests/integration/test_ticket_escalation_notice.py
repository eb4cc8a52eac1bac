"""An overdue ticket's escalation is told: the ACD's sweep (a running dispatcher, its own
notifier, its relay to the API's process through PostgreSQL) publishes it; the console's
event stream shows it to the ticket's agent and the tenant's supervisors (not to another
agent, nor to another tenant), and the tenant's CRM webhook receives ``ticket.escalated``,
signed, once."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from fsapps.acd.dispatch import Dispatcher
from fsapps.acd.relay import Relay
from fsapps.acd.ticket_sweep import EVERY
from fsapps.webhooks import payload
from fsapps.webhooks.sender import store_sender
from tests.integration.test_api_events import A, G, live_api
from tests.integration.test_crm_webhooks import SECRET, Receiver, _put, receivers
from tests.support.api import Client
from tests.support.waiting import wait_for


def test_an_escalation_reaches_the_agents_and_supervisors_streams_and_the_crm(store, db_dsn) -> None:
    crm, other = Receiver(), Receiver()
    with receivers(crm, other), live_api(store, db_dsn) as x:
        _put(store, "acme", crm.url)
        _put(store, "globex", other.url)
        admin = Client(x.port, token=x.cc.token("tenant_admin", "acme"))
        assert admin.request("PUT", A + "/ticket-settings", {"due_minutes": {"urgent": 30}}).status == 200
        mine = admin.request("POST", A + "/tickets", {"subject": "Outage on Elm St", "priority": "urgent",
                                                       "assignee_agent": "acme1"}).json  # fmt: skip
        theirs = admin.request("POST", A + "/tickets", {"subject": "Router swap", "priority": "urgent",
                                                         "assignee_agent": "acme2"}).json  # fmt: skip
        agent, sup = x.stream("agent"), x.stream("supervisor")
        globex = x.stream("tenant_admin", G + "/events", tenant="globex")
        wall = [time.time() + 3600]  # an hour on: both are 30 minutes overdue
        d = Dispatcher(store, lambda: SimpleNamespace(tenants=[]), time.time, name="sweeper",
                       wall=lambda: wall[0])  # fmt: skip
        relay = Relay(db_dsn, d.notifier, origin="sweeper").start()
        sender = store_sender(store, allow_private=True, backoff=(0.05,)).start()
        d.notifier.listen(sender.follow)
        d.start()
        try:
            seen = sup.until(lambda f: f.event == "ticket_escalated" and f.data["number"] == theirs["number"])
            escalated = {f.data["number"]: f.data for f in seen if f.event == "ticket_escalated"}
            assert set(escalated) == {mine["number"], theirs["number"]}
            told = escalated[mine["number"]]
            assert (told["tenant"], told["subject"], told["priority"], told["agent"]) == (
                "acme", "Outage on Elm St", "urgent", "acme1")  # fmt: skip
            assert told["due_at"] == datetime_epoch(mine["due_at"])
            # The agent's stream: their ticket, not acme2's.
            got = agent.until(lambda f: f.event == "ticket_escalated")
            assert [f.data["number"] for f in got if f.event == "ticket_escalated"] == [mine["number"]]
            assert wait_for(lambda: len(crm.got) >= 2, timeout=20), crm.events()
            wall[0] += EVERY + 1  # another sweep: nothing is told twice
            assert wait_for(lambda: d.ticket_sweep.swept == 2, timeout=10)
            # A later change every stream sees (through the same PostgreSQL channel) marks the
            # end of what the sweeps said.
            for tenant, who in (("acme", "acme1"), ("globex", "globex1")):
                marker = Client(x.port, token=x.cc.token("tenant_admin", tenant)).request(
                    "PUT", f"/api/v1/tenants/{tenant}/agents/{who}/status", {"status": "On Break"}
                )
                assert marker.status == 200, marker
            later = agent.until(lambda f: f.event == "agent_state" and f.data["status"] == "On Break")
            assert not [f for f in later if f.event == "ticket_escalated"]
            theirs_seen = globex.until(lambda f: f.event == "agent_state" and f.data["agent"] == "globex1")
            assert not [f for f in theirs_seen if f.event == "ticket_escalated"]
            assert len(crm.got) == 2
        finally:
            d.stop()
            relay.stop()
            sender.stop()
    assert crm.events() == ["ticket.escalated", "ticket.escalated"] and other.got == []
    bodies = sorted((json.loads(r["body"]) for r in crm.got), key=lambda b: b["ticket"])
    first = crm.got[[json.loads(r["body"])["ticket"] for r in crm.got].index(mine["number"])]
    h = first["headers"]
    assert payload.verify(SECRET, h["X-Fsapps-Timestamp"], first["body"], h["X-Fsapps-Signature"])
    assert [(b["event"], b["tenant"], b["ticket"], b["agent"], b["subject"]) for b in bodies] == [
        ("ticket.escalated", "acme", mine["number"], "acme1", "Outage on Elm St"),
        ("ticket.escalated", "acme", theirs["number"], "acme2", "Router swap"),
    ]


def datetime_epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
