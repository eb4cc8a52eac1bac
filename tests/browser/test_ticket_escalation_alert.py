"""An overdue ticket's escalation on the pages: a ticket assigned by skill is on its agent's
desk; the ACD's sweep (a dispatcher of its own, its relay through PostgreSQL) escalates it,
and the supervisor floor shows the alert within 2 s of the sweep's publishing it, in
Chinese; the assigned agent's desk shows it too."""

from __future__ import annotations

import time
from types import SimpleNamespace

from playwright.sync_api import expect

from fsapps.acd.dispatch import Dispatcher
from fsapps.acd.notifier import TicketEscalated
from fsapps.acd.relay import Relay
from tests.browser.test_floor_live import live_site
from tests.support.api import PASSWORD, Client


def test_the_floor_and_the_agents_desk_show_an_escalated_ticket_within_2_s(store, db_dsn, tabs) -> None:
    with live_site(store, db_dsn) as (base, _live):
        port = int(base.rsplit(":", 1)[1])
        admin = Client(port)
        assert admin.login("tenant_admin_acme", PASSWORD).status == 200
        admin.request("PUT", "/api/v1/tenants/acme/ticket-settings", {"due_minutes": {"urgent": 30}})
        # acme1 alone holds the skill: the ticket is theirs by it, and on their desk's list.
        skills = admin.request("PUT", "/api/v1/tenants/acme/agents/acme1/skills", {"skills": {"outage": 5}})
        assert skills.status == 200, skills
        made = admin.request("POST", "/api/v1/tenants/acme/tickets", {
            "subject": "停电：榆树街", "priority": "urgent", "required_skill": "outage"})  # fmt: skip
        assert made.status == 201 and made.json["assignee_agent"] == "acme1", made
        number = made.json["number"]
        sup = tabs(base, "zh-CN", "supervisor")
        floor = sup.login("supervisor_acme", PASSWORD)
        expect(floor.locator("#live")).to_have_attribute("data-live", "live")
        agent = tabs(base, "en-GB", "agent")
        desk = agent.login("agent_acme", PASSWORD)
        expect(desk.locator("#live")).to_have_attribute("data-live", "live")
        row = desk.locator(f'#ticket-rows tr[data-ticket="{made.json["number"]}"]')
        expect(row).to_contain_text("停电：榆树街")
        expect(row).to_contain_text("acme1")

        wall = [time.time() + 3600]
        d = Dispatcher(store, lambda: SimpleNamespace(tenants=[]), time.time, name="sweeper",
                       wall=lambda: wall[0])  # fmt: skip
        published: list[float] = []
        d.notifier.listen(lambda item: published.append(time.monotonic()),
                          lambda e: isinstance(e, TicketEscalated))  # fmt: skip
        relay = Relay(db_dsn, d.notifier, origin="sweeper").start()
        d.start()
        try:
            alert = floor.locator(f'#tk2-escalations li[data-ticket="{number}"]')
            expect(alert).to_be_visible(timeout=15_000)
            seen = time.monotonic()
            assert published, "the sweep published nothing"
            assert seen - published[0] < 2.0, f"{seen - published[0]:.2f} s"
            expect(alert).to_contain_text(f"工单 {number}")
            expect(alert).to_contain_text("已超时")
            expect(floor.locator("#alerts-card")).to_have_class("card alerts raised")
            sup.shot("ticket-escalated")
            mine = desk.locator(f'#tk2-escalations li[data-ticket="{number}"]')
            expect(mine).to_contain_text(f"Ticket {number} (Urgent, acme1) is overdue")
            agent.shot("ticket-escalated")
        finally:
            d.stop()
            relay.stop()
