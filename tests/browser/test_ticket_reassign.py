"""A tenant admin reassigns a ticket from the tenant page's list, from the keyboard; the
agent who had it loses it from their desk's list, the one given it finds it on theirs."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.sections import open_section
from tests.browser.test_floor_live import live_site
from tests.support.api import PASSWORD, Client


def test_an_admin_reassigns_a_ticket_and_it_moves_between_the_agents_desks(store, db_dsn, tabs) -> None:
    with live_site(store, db_dsn) as (base, _live):
        admin = Client(int(base.rsplit(":", 1)[1]))
        assert admin.login("tenant_admin_acme", PASSWORD).status == 200
        made = admin.request("POST", "/api/v1/tenants/acme/tickets",
                             {"subject": "Modem swap", "assignee_agent": "acme2"})  # fmt: skip
        number = made.json["number"]
        agent = tabs(base, "en-GB", "agent")
        desk = agent.login("agent_acme", PASSWORD)  # acme1's user
        expect(desk.locator("#ticket-rows")).to_have_text("No tickets.")
        boss = tabs(base, "zh-CN", "admin")
        page = boss.login("tenant_admin_acme", PASSWORD)
        open_section(page, "tickets")
        row = page.locator(f'#tickets-rows tr[data-ticket="{number}"]')
        expect(row).to_contain_text("acme2")
        row.locator("input.reassign-to").fill("acme1")
        row.locator("input.reassign-to").press("Enter")
        expect(page.locator(".message.done")).to_have_text(f"工单 {number} 已改派给 acme1。")
        # The list read again: the cell's text (not the typed input) names the new agent.
        expect(row.locator("td").last).to_contain_text("acme1")
        expect(row.locator("td").last).not_to_contain_text("acme2")
        boss.shot("ticket-reassigned")
        desk.reload()
        expect(desk.locator(f'#ticket-rows tr[data-ticket="{number}"]')).to_contain_text("Modem swap")
