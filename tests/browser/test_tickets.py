"""A ticket opened from a call is read back by phone: an agent on the desk answers a known
customer's call and opens a ticket from it (prefilled with the customer and the call); a
second call, to the tenant's ticket-status line, keys in the number, and the emulator's
caller hears its state. Then the customer's status link shows it, in Chinese, with no
internal note; and the tenant page lists it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.flows.check import check
from fsapps.sim.channel import Channel
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd, customers
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.web.live import live_events
from tests.browser.sections import SHOWN_DRAWN, open_section
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.controllers import load_rendered, start_controller
from tests.support.waiting import wait_for

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
CUSTOMER = "13800000041"
QUEUE = {"front": {"tiers": ["tix_ann"]}}
TENANT = {
    "id": "tixco", "name": "Tixco", "domain": "tixco.example", "timezone": "UTC", "language": "en",
    "access_numbers": {"7200": "main", "7201": "status"}, "queues": QUEUE,
    "prompts": {"ask": {"text": "Please key in your ticket number, then the hash key."}},
}  # fmt: skip
MAIN = {
    "q": {"type": "queue", "data": {"queue": "front"}, "children": {"_": "bye"}},
    "bye": {"type": "hangup"},
}
STATUS = {
    "read": {"type": "ticket_status", "data": {"prompt": "ask"},
             "children": {"found": "bye", "not_found": "bye"}},
    "bye": {"type": "hangup"},
}  # fmt: skip


@dataclass
class Listener(CallerScript):
    """A caller who keeps what they heard (each prompt's text, as the switch played it)."""

    heard: list[str] = field(default_factory=list)

    def attach(self, ch: Channel) -> None:
        ch.prompt_listeners.append(self.heard.append)
        super().attach(ch)


@dataclass
class Site:
    base: str
    port: int
    switch: Switch
    phone: Endpoint
    customer: int


def _dialplan(root: Path) -> Path:
    (root / "tixco" / "flows").mkdir(parents=True)
    (root / "tixco" / "tenant.yaml").write_text(json.dumps(TENANT))
    (root / "tixco" / "flows" / "main.yaml").write_text(json.dumps({"start": "q", "nodes": MAIN}))
    (root / "tixco" / "flows" / "status.yaml").write_text(json.dumps({"start": "read", "nodes": STATUS}))
    (root / "operator.yaml").write_text("tts: {engine: flite, voice: slt}\n")
    return root


@contextmanager
def site(store: Any, tmp_path: Path) -> Iterator[Site]:
    """Tenant tixco: agent tix_ann (user ``ann``) whose phone rings until the test answers,
    customer Ada Lovelace calling from CUSTOMER, an admin ``boss``; a controller on the
    emulator (10x); the API and console."""
    with store.operator() as op:
        op.add_tenant(Tenant("tixco", "Tixco", "tixco.example"))
        op.add_agent("tix_ann", "Ann", {"tixco": 1}, "sofia/external/tix_ann@127.0.0.1:5080")
        acd.ensure_agent(op.conn, "tix_ann", wrap_up_time=600)
        acd.set_status(op.conn, "tix_ann", "Available", 0)
    with store.tenant("tixco") as t:
        ann = t.add_user("ann", PASSWORD, "agent").id
        t.add_user("boss", PASSWORD, "tenant_admin")
        ada = customers.create(t, {"name": "Ada Lovelace", "company": "", "tags": [], "custom_fields": {},
                                   "owner_agent": None, "numbers": [CUSTOMER]})  # fmt: skip
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'tix_ann'", (ann,))
    project = check(_dialplan(tmp_path / "dialplan"))
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=10.0, start=START))
    phone = switch.register_user("tix_ann", Endpoint(answer_after=None))  # answered by the test
    controller = start_controller(project, store, switch.clock, tmp_path / "c0")
    live = server = None
    try:
        load_rendered(switch, project, [controller], tmp_path / "conf")
        switch.start()
        live = live_events(store, controller)
        queues = {"front": dict(QUEUE["front"])}
        ctx = ApiContext(store, lambda tenant: queues if tenant == "tixco" else {}, clock=switch.clock.now,
                         live=live, session_hours=24 * 365 * 20)  # fmt: skip
        server = serve_api(ctx, console=True)
        port = server.server_port
        yield Site(f"http://127.0.0.1:{port}", port, switch, phone, ada)
    finally:
        if server is not None:
            server.stop(timeout=2)
        if live is not None:
            live.stop()
        controller.stop(grace=1.0)
        switch.stop()


def test_a_ticket_opened_from_a_call_on_the_desk_is_read_back_by_phone(store, tmp_path, tabs) -> None:
    with site(store, tmp_path) as s:
        tab = tabs(s.base, "en-GB", "agent")
        page = tab.login("ann", PASSWORD)
        expect(page).to_have_url(f"{s.base}/console/agent")
        expect(page.locator("#state")).to_have_text("Ready")
        expect(page.locator("#ticket-rows")).to_have_text("No tickets.")

        # Ada calls; Ann answers, and opens a ticket from the call: the form names the caller
        # and the customer their number finds.
        caller = s.switch.place_call("7200", caller_id_number=CUSTOMER, script=CallerScript())
        (leg,) = wait_for(lambda: s.phone.calls)
        s.switch.channels[leg].mark_answered()
        expect(page.locator('#call-fields [data-field="number"]')).to_have_text(CUSTOMER)
        page.locator("#ticket-open").press("Enter")  # the keyboard opens it, and lands on the subject
        expect(page.locator("#ticket-from")).to_have_text(f"From the call with {CUSTOMER} (Ada Lovelace)")
        expect(page.locator("#ticket-subject")).to_be_focused()
        page.keyboard.type("No signal since the storm")
        page.fill("#ticket-body", "Engineer visit wanted")
        page.select_option("#ticket-priority", "high")
        tab.shot("open-ticket")
        page.locator("#ticket-form button[type=submit]").click()
        expect(page.locator(".message.done")).to_have_text("Ticket 1001 opened.")
        row = page.locator('#ticket-rows tr[data-ticket="1001"]')
        expect(row).to_contain_text("No signal since the storm")
        expect(row).to_contain_text("Ada Lovelace")
        expect(row.locator("select")).to_have_value("new")
        tab.shot("ticket-listed")
        boss = Client(s.port)
        assert boss.login("boss", PASSWORD).status == 200
        got = boss.get("/api/v1/tenants/tixco/tickets/1001").json
        assert (got["call_uuid"], got["customer_id"], got["source"]) == (caller.uuid, s.customer, "call")
        s.switch.channels[leg].hangup("NORMAL_CLEARING")
        assert caller.destroyed.wait(30)

        # Ada calls the status line and keys in the number: she hears its state.
        asking = Listener(answers=[("ticket number", "1001#")], hangup_after=60)
        status_call = s.switch.place_call("7201", caller_id_number=CUSTOMER, script=asking)
        wait_for(lambda: any("Ticket 1 0 0 1 is" in h for h in asking.heard), timeout=30)
        assert [h for h in asking.heard if "Ticket" in h] == ["say:Ticket 1 0 0 1 is received."], asking.heard
        assert status_call.destroyed.wait(30)

        # Ann works it (the desk's state select); the phone says so on the next call.
        row.locator("select").select_option("open")
        expect(page.locator(".message.done")).to_have_text("Ticket 1001 is now Open.")
        again = Listener(answers=[("ticket number", "1001#")], hangup_after=60)
        s.switch.place_call("7201", caller_id_number=CUSTOMER, script=again)
        wait_for(lambda: any("Ticket 1 0 0 1 is" in h for h in again.heard), timeout=30)
        assert "say:Ticket 1 0 0 1 is being worked on." in again.heard, again.heard


def test_the_web_form_and_the_status_link_show_a_ticket_without_its_notes(store, tmp_path, tabs) -> None:
    with site(store, tmp_path) as s:
        admin = tabs(s.base, "en-GB", "admin")
        page = admin.login("boss", PASSWORD)
        expect(page).to_have_url(f"{s.base}/console/tenant")
        open_section(page, "tickets")
        page.check("#web-form")
        page.fill("#web-queue", "front")
        page.click("#ticket-settings-save")
        expect(page.locator(".message.done")).to_have_text("Saved.")
        expect(page.locator("#web-form-link")).to_contain_text("/console/ticket-form?tenant=tixco")

        customer = tabs(s.base, "zh-CN", "customer")
        form = customer.goto("/console/ticket-form?tenant=tixco")
        form.fill("#web-subject", "账单有误")
        form.fill("#web-body", "重复扣费")
        form.fill("#web-contact", "ada@example.com")
        form.click("#web-ticket button[type=submit]")
        expect(form.locator("#web-number")).to_have_text("谢谢，您的工单号是 1001。")
        customer.shot("web-form-sent")
        link = form.locator("#web-status-link").get_attribute("href")
        assert link and link.startswith("/console/ticket-status#tixco/")

        # The tenant page lists it (the queue's); an internal note and a state change later,
        # the status link shows the state, not the note.
        page.reload()
        row = page.locator('#tickets-rows tr[data-ticket="1001"]')
        expect(row).to_contain_text("账单有误")
        boss = Client(s.port)
        boss.login("boss", PASSWORD)
        boss.request("POST", "/api/v1/tenants/tixco/tickets/1001/notes", {"body": "Refund approved secretly"})
        row.locator("select").select_option("pending")
        expect(page.locator(".message.done")).to_have_text("Ticket 1001 is now Pending.")
        admin.shot("tenant-tickets")

        status = customer.goto(link)
        expect(status.locator("#ticket-now")).to_have_text("当前状态：待回复。")
        expect(status.locator("#ticket-heading")).to_have_text("工单 1001：账单有误")
        expect(status.locator("#ticket-changes li")).to_have_count(1)
        assert "secretly" not in status.content() and "boss" not in status.locator("main").inner_text()
        customer.shot("status-link")
        # Another language keeps the link's ticket (the fragment is not the server's to keep).
        status.click('a[data-lang="en"]')
        expect(status.locator("#ticket-now")).to_have_text("It is Pending.")
        wrong = customer.goto("/console/ticket-status#tixco/not-a-token")
        expect(wrong.locator("#ticket-missing")).to_be_visible()


def test_the_ticket_settings_wait_for_their_fetch_before_they_take_input(store, tmp_path, tabs) -> None:
    """What the admin types before the settings are in would be drawn over by them: the
    form stays disabled until then (the settings' GET held back here)."""
    with site(store, tmp_path) as s:
        admin = tabs(s.base, "en-GB", "admin")
        page = admin.login("boss", PASSWORD)
        expect(page).to_have_url(f"{s.base}/console/tenant")
        held: list[Any] = []
        page.route("**/api/v1/tenants/tixco/ticket-settings", lambda route: held.append(route))
        page.wait_for_function(SHOWN_DRAWN)
        page.click('#tabs a[data-tab="tickets"]')
        expect(page.locator("#tickets-rows")).to_have_text("No tickets.")  # the list is in
        for _ in range(250):  # the route's handler runs as Playwright delivers it: until then
            if held:
                break
            page.wait_for_timeout(20)
        assert [r.request.method for r in held] == ["GET"]
        for field_ in ("#web-form", "#web-queue", "#sla-urgent", "#ticket-settings-save"):
            expect(page.locator(field_)).to_be_disabled()
        held[0].continue_()
        for field_ in ("#web-form", "#web-queue", "#sla-urgent", "#ticket-settings-save"):
            expect(page.locator(field_)).to_be_enabled()
        expect(page.locator("#sla-urgent")).not_to_have_value("")

        # A read that fails says so, and leaves the form disabled (saved, its blanks would
        # overwrite the settings it never showed).
        page.route("**/api/v1/tenants/tixco/ticket-settings", lambda route: route.fulfill(
            status=503, json={"code": "database_unavailable", "message": "The database is unavailable."}))
        page.reload()
        expect(page.locator('#tabs a[data-tab="tickets"]')).to_have_attribute("aria-current", "page")
        expect(page.locator("#messages .message.error")).to_have_count(1)
        for field_ in ("#web-form", "#web-queue", "#sla-urgent", "#ticket-settings-save"):
            expect(page.locator(field_)).to_be_disabled()
