"""The customer card on the agent's desk, in Chromium, on the real event stream: a caller
placed through the emulator runs a flow whose lookup finds their account; the queue rings
the agents' phones; the desk pops the card of the caller's customer, or the new-customer
form for an unknown number; saving it makes the caller the agent's customer, and their
next call rings that agent first (the owner's sticky routing) and pops the card. When
one agent transfers the call to another, the other's desk shows the same card with the
first agent's notes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd, customers
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.web.live import live_events
from tests.support.api import PASSWORD, serve_api
from tests.support.controllers import load_rendered, start_controller
from tests.support.hostile import create_lookup_table
from tests.support.waiting import wait_for

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
NUMBER = "13800000031"
# top-down: pop_bob is rung first whenever he is free, unless the caller has an owner.
# ring-timeout: switch seconds at 10x, long enough for the form filled while it rings on a loaded host.
QUEUE = {"front": {"strategy": "top-down", "tiers": ["pop_bob", "pop_ann"], "ring-timeout": 600}}
FLOW = {
    "start": {"type": "lookup", "data": {"source": {"table": "popco_accounts", "column": "phone"},
                                         "key": "caller_id", "fields": ["plan", "balance"], "prefix": "cn_"},
              "children": {"found": "q", "not_found": "q", "fallback": "q"}},
    "q": {"type": "queue", "data": {"queue": "front"}, "children": {"_": "bye"}},
    "bye": {"type": "hangup"},
}  # fmt: skip


@dataclass
class Floor:
    base: str
    switch: Switch
    store: Any
    phones: dict[str, Endpoint]

    def call(self) -> Any:
        return self.switch.place_call("7100", caller_id_number=NUMBER, script=CallerScript())

    def answer(self, agent: str, nth: int) -> str:
        """The ``nth`` call (from 1) to ``agent``'s phone, answered; its leg."""
        calls = wait_for(lambda: len(self.phones[agent].calls) >= nth and self.phones[agent].calls)
        assert len(calls) >= nth, calls
        leg = calls[nth - 1]
        self.switch.channels[leg].mark_answered()
        return leg


def _dialplan(root: Path, queues: dict[str, Any] | None = None) -> Path:
    tenant = {"id": "popco", "name": "Popco", "domain": "popco.example", "timezone": "Asia/Shanghai",
              "language": "en", "access_numbers": {"7100": "main"}, "queues": queues or QUEUE}  # fmt: skip
    (root / "popco" / "flows").mkdir(parents=True)
    (root / "popco" / "tenant.yaml").write_text(json.dumps(tenant))
    (root / "popco" / "flows" / "main.yaml").write_text(json.dumps({"start": "start", "nodes": FLOW}))
    (root / "operator.yaml").write_text("tts: {engine: flite, voice: slt}\n")
    return root


@contextmanager
def floor(store: Any, tmp_path: Path, bob: str, queue: dict[str, Any] | None = None) -> Iterator[Floor]:
    """Tenant popco: its caller's account in lookup.popco_accounts (plan gold, balance
    42.50), the custom fields plan ("Plan") and balance ("Balance due"); agents pop_ann
    (user ann) and pop_bob (user bob, status ``bob``), no wrap-up, phones the test answers.
    ``queue``: the front queue's settings, if not QUEUE's."""
    queues = {"front": queue if queue is not None else QUEUE["front"]}
    with store.operator() as op:
        op.add_tenant(Tenant("popco", "Popco", "popco.example", "Asia/Shanghai"))
        create_lookup_table(op.conn, "phone text, plan text, balance text", table="popco_accounts")
        op.conn.execute("INSERT INTO lookup.popco_accounts VALUES ('popco', %s, 'gold', '42.50')", (NUMBER,))
        for agent, status in (("pop_ann", "Available"), ("pop_bob", bob)):
            op.add_agent(agent, agent, {"popco": 1}, f"sofia/external/{agent}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent, wrap_up_time=0)
            acd.set_status(op.conn, agent, status, 0)
    with store.tenant("popco") as t:
        users = {name: t.add_user(name, PASSWORD, "agent").id for name in ("ann", "bob")}
        customers.put_field(t, "plan", "text", "Plan")
        customers.put_field(t, "balance", "text", "Balance due")
    with store.operator() as op:
        for name, user in users.items():
            op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (user, f"pop_{name}"))
    project = check(_dialplan(tmp_path / "dialplan", queues))
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=10.0, start=START))
    phones = {a: switch.register_user(a, Endpoint(answer_after=None)) for a in ("pop_ann", "pop_bob")}
    controller = start_controller(project, store, switch.clock, tmp_path / "c0")
    live = None
    server = None
    esl = None
    try:
        load_rendered(switch, project, [controller], tmp_path / "conf")
        switch.start()
        live = live_events(store, controller)
        # The API acts on calls through its own Event Socket connection, as `fsapps serve`'s does.
        esl = Connection("127.0.0.1", switch.port, switch.password)
        esl.connect()
        ctx = ApiContext(store, lambda tenant: queues if tenant == "popco" else {}, clock=switch.clock.now,
                         live=live, switch=esl.api, session_hours=24 * 365 * 20)  # fmt: skip
        server = serve_api(ctx, console=True)
        yield Floor(f"http://127.0.0.1:{server.server_port}", switch, store, phones)
    finally:
        if server is not None:
            server.stop(timeout=2)
        if live is not None:
            live.stop()
        if esl is not None:
            esl.stop()
        controller.stop(grace=1.0)
        switch.stop()


def test_an_unknown_number_opens_the_new_customer_form_and_its_next_call_pops_the_card_at_the_owner(
    store, tmp_path, tabs
) -> None:
    with floor(store, tmp_path, bob="On Break") as f:
        tab = tabs(f.base, "en-GB", "ann")
        page = tab.login("ann", PASSWORD)
        expect(page).to_have_url(f"{f.base}/console/agent")
        expect(page.locator("#state")).to_have_text("Ready")
        card, form = page.locator("#card-card"), page.locator("#card-new")

        first = f.call()
        offer = page.locator("#offer-card")
        expect(offer).to_be_visible()
        # The screen pop's fields by the tenant's labels, not the lookup's keys.
        expect(offer.locator('dd[data-field="cn_balance"]')).to_have_text("42.50")
        assert offer.locator("dt").all_inner_texts()[-2:] == ["Plan", "Balance due"]
        # An unknown number: the new-customer form, with the number and what the IVR found.
        expect(form).to_be_visible()
        expect(page.locator("#card-new-number")).to_have_value(NUMBER)
        expect(page.locator('#card-ivr dd[data-field="cn_plan"]')).to_have_text("gold")
        expect(page.locator('#card-new-fields input[name="balance"]')).to_have_value("42.50")
        expect(page.locator("#card-new-owner")).to_be_checked()

        # A reload while it rings: the offer and its screen pop come back.
        page.reload()
        expect(offer.locator('dd[data-field="cn_plan"]')).to_have_text("gold")
        expect(form).to_be_visible()
        tab.shot("new-customer-form")

        page.fill("#card-new-name", "Ada Lovelace")
        page.fill("#card-new-company", "Analytical Engines")
        page.fill("#card-new-tags", "vip, engines")
        page.click("#card-new button[type=submit]")
        customer = page.locator("#card-customer")
        expect(customer).to_be_visible()
        expect(form).to_be_hidden()
        expect(customer.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        expect(customer.locator('[data-field="owner"]')).to_have_text("pop_ann")
        expect(customer.locator('[data-field="cf_balance"]')).to_have_text("42.50")
        expect(customer.locator('dt:has-text("Balance due")')).to_have_count(1)
        with store.tenant("popco") as t:
            saved = customers.by_number(t, NUMBER)
        assert saved is not None and (saved["name"], saved["owner_agent"], saved["tags"]) == (
            "Ada Lovelace", "pop_ann", ["engines", "vip"])  # fmt: skip

        leg = f.answer("pop_ann", 1)
        expect(page.locator('#call-fields [data-field="number"]')).to_have_text(NUMBER)
        f.switch.channels[leg].hangup("NORMAL_CLEARING")
        assert first.destroyed.wait(30)
        expect(card).to_be_hidden()

        # pop_bob is back: top-down would ring him first, but the caller is pop_ann's customer.
        with store.operator() as op:
            acd.set_status(op.conn, "pop_bob", "Available", START)
            acd.notify(op.conn)
        second = f.call()
        expect(offer).to_be_visible()
        expect(customer).to_be_visible()
        expect(customer.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        expect(form).to_be_hidden()
        assert len(f.phones["pop_ann"].calls) == 2 and f.phones["pop_bob"].calls == []
        tab.shot("card-at-the-owner")
        f.switch.api("uuid_kill", second.uuid)
        assert second.destroyed.wait(30)


def test_a_transfer_to_another_agent_brings_the_card_and_the_notes_to_their_desk(
    store, tmp_path, tabs
) -> None:
    with floor(store, tmp_path, bob="On Break") as f:
        with store.tenant("popco") as t:
            customers.create(t, {"name": "Ada Lovelace", "company": "Analytical Engines", "tags": ["vip"],
                                 "custom_fields": {"plan": "gold"}, "numbers": [NUMBER], "owner_agent": None})
        ann_tab, bob_tab = tabs(f.base, "en-GB", "ann"), tabs(f.base, "zh-CN", "bob")
        ann, bob = ann_tab.login("ann", PASSWORD), bob_tab.login("bob", PASSWORD)
        expect(ann.locator("#live")).to_have_attribute("data-live", "live")
        expect(bob.locator("#live")).to_have_attribute("data-live", "live")

        caller = f.call()
        f.answer("pop_ann", 1)
        card = ann.locator("#card-customer")
        expect(card.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        expect(card.locator('[data-field="cf_plan"]')).to_have_text("gold")
        ann.fill("#card-note", "Wants the platinum plan; call back Monday")
        ann.click("#card-note-form button[type=submit]")
        expect(ann.locator("#card-noted li")).to_have_text("ann: Wants the platinum plan; call back Monday")
        expect(bob.locator("#card-card")).to_be_hidden()

        ann.select_option("#target-kind", "agent")
        ann.fill("#target-value", "pop_bob")
        ann.click('#call-actions button[data-op="transfer"]')
        # Bob's phone rings with the caller, and his desk shows the card that came with it.
        wait_for(lambda: f.phones["pop_bob"].calls)
        assert f.phones["pop_bob"].calls, "the transfer did not ring pop_bob"
        bobs = bob.locator("#card-card")
        expect(bobs).to_be_visible()
        expect(bob.locator("#card-handover")).to_contain_text("pop_ann")
        expect(bobs.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        expect(bob.locator("#card-noted li")).to_have_text("ann: Wants the platinum plan; call back Monday")
        bob_tab.shot("card-handed-over")
        # A reload keeps it while the call lasts.
        bob.reload()
        expect(bob.locator("#card-handover")).to_contain_text("pop_ann")
        expect(bobs.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        f.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
