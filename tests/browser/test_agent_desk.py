"""The agent's desk on the real event stream: a caller placed through the emulator runs a
flow whose lookup finds their account; the queue rings the agent's phone, and the desk,
driven by GET /api/v1/tenants/{tenant}/events alone (no reloads, no polling), pops the
caller's number and the lookup's fields, turns them into the current call when the phone
answers, and shows wrap-up when the call ends."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.controller import Controller
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.web.live import LiveEvents, live_events
from tests.support.api import PASSWORD, serve_api
from tests.support.controllers import load_rendered, start_controller
from tests.support.hostile import create_lookup_table
from tests.support.waiting import wait_for

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
HOSTILE = '<img src=x onerror="window.owned=1">'
QUEUE = {"front": {"tiers": ["pop_ann"]}}
FLOW = {
    "start": {"type": "lookup", "data": {"source": {"table": "popco_accounts", "column": "phone"},
                                         "key": "caller_id", "fields": ["name", "balance"], "prefix": "cn_"},
              "children": {"found": "q", "not_found": "q", "fallback": "q"}},
    "q": {"type": "queue", "data": {"queue": "front"}, "children": {"_": "bye"}},
    "bye": {"type": "hangup"},
}  # fmt: skip


@dataclass
class Desk:
    base: str
    switch: Switch
    controller: Controller
    live: LiveEvents
    phone: Endpoint


def _dialplan(root: Path) -> Path:
    tenant = {"id": "popco", "name": "Popco", "domain": "popco.example", "timezone": "UTC", "language": "en",
              "access_numbers": {"7100": "main"}, "queues": QUEUE}  # fmt: skip
    (root / "popco" / "flows").mkdir(parents=True)
    (root / "popco" / "tenant.yaml").write_text(json.dumps(tenant))
    (root / "popco" / "flows" / "main.yaml").write_text(json.dumps({"start": "start", "nodes": FLOW}))
    (root / "operator.yaml").write_text("tts: {engine: flite, voice: slt}\n")
    return root


@contextmanager
def desk(store: Any, tmp_path: Path) -> Iterator[Desk]:
    """Tenant popco: its caller's account in lookup.popco_accounts (a hostile name), agent
    pop_ann (user ``ann``, 10 minutes of wrap-up) whose phone rings until the test answers
    it; a controller on the emulator (10x); the API and console following its events."""
    with store.operator() as op:
        op.add_tenant(Tenant("popco", "Popco", "popco.example"))
        create_lookup_table(op.conn, "phone text, name text, balance text", table="popco_accounts")
        op.conn.execute("INSERT INTO lookup.popco_accounts VALUES ('popco', '13800000031', %s, '42.50')",
                        (HOSTILE,))  # fmt: skip
        op.add_agent("pop_ann", "Ann", {"popco": 1}, "sofia/external/pop_ann@127.0.0.1:5080")
        acd.ensure_agent(op.conn, "pop_ann", wrap_up_time=600)
        acd.set_status(op.conn, "pop_ann", "Available", 0)
    with store.tenant("popco") as t:
        ann = t.add_user("ann", PASSWORD, "agent").id
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'pop_ann'", (ann,))
    project = check(_dialplan(tmp_path / "dialplan"))
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=10.0, start=START))
    phone = switch.register_user("pop_ann", Endpoint(answer_after=None))  # answered by the test
    controller = start_controller(project, store, switch.clock, tmp_path / "c0")
    live = None
    server = None
    try:
        load_rendered(switch, project, [controller], tmp_path / "conf")
        switch.start()
        live = live_events(store, controller)
        queues = {"front": dict(QUEUE["front"])}
        ctx = ApiContext(store, lambda tenant: queues if tenant == "popco" else {}, clock=switch.clock.now,
                         live=live, session_hours=24 * 365 * 20)  # fmt: skip
        server = serve_api(ctx, console=True)
        yield Desk(f"http://127.0.0.1:{server.server_port}", switch, controller, live, phone)
    finally:
        if server is not None:
            server.stop(timeout=2)
        if live is not None:
            live.stop()
        controller.stop(grace=1.0)
        switch.stop()


def test_the_agents_desk_pops_the_callers_account_on_the_offer_then_the_call_then_wrap_up(
    store, tmp_path, tabs
) -> None:
    with desk(store, tmp_path) as d:
        tab = tabs(d.base, "en-GB", "agent")
        page = tab.login("ann", PASSWORD)
        expect(page).to_have_url(f"{d.base}/console/agent")
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        expect(page.locator("#state")).to_have_text("Ready")
        offer, call = page.locator("#offer-card"), page.locator("#call-fields")
        expect(offer).to_be_hidden()
        loads = page.evaluate("performance.getEntriesByType('navigation').length")

        caller = d.switch.place_call("7100", caller_id_number="13800000031", script=CallerScript())
        # The phone rings: the offer card pops the caller's number and the lookup's fields,
        # as text; none of the leg's own variables.
        expect(offer).to_be_visible()
        expect(offer.locator('[data-field="number"]')).to_have_text("13800000031")
        expect(offer.locator('[data-field="queue"]')).to_have_text("front")
        expect(offer.locator('[data-field="cn_name"]')).to_have_text(HOSTILE)
        expect(offer.locator('[data-field="cn_balance"]')).to_have_text("42.50")
        assert offer.locator("img").count() == 0 and page.evaluate("window.owned") is None
        shown = offer.locator("[data-field]").evaluate_all("els => els.map((e) => e.dataset.field)")
        assert shown == ["number", "name", "queue", "cn_name", "cn_balance"], shown
        expect(page.locator("#state")).to_have_text("Ringing")
        expect(page.locator("#no-call")).to_be_visible()  # not on it yet
        tab.shot("offer")

        # The agent answers: the offer becomes the current call, the screen pop with it.
        (leg,) = wait_for(lambda: d.phone.calls)
        d.switch.channels[leg].mark_answered()
        expect(offer).to_be_hidden()
        expect(call.locator('[data-field="number"]')).to_have_text("13800000031")
        expect(call.locator('[data-field="cn_name"]')).to_have_text(HOSTILE)
        expect(call.locator('[data-field="cn_balance"]')).to_have_text("42.50")
        expect(page.locator("#state")).to_have_text("On a call")
        expect(page.locator("#call-actions")).to_be_visible()
        tab.shot("call")

        # The agent hangs up: wrap-up, with its button.
        d.switch.channels[leg].hangup("NORMAL_CLEARING")
        expect(page.locator("#state")).to_have_text("Wrap-up")
        expect(page.locator("#no-call")).to_be_visible()
        expect(page.locator("#after-call")).to_be_visible()
        # After-call work counts down from the agent's 10 minutes, second by second.
        expect(page.locator("#acw")).to_have_text(re.compile(r"^after-call work: (10:00|9:\d\d) left$"))
        first = page.locator("#acw").inner_text()
        expect(page.locator("#acw")).not_to_have_text(first, timeout=3000)
        assert caller.destroyed.wait(30)
        tab.shot("wrap-up")
        # All of it through the stream: the page was loaded once.
        assert page.evaluate("performance.getEntriesByType('navigation').length") == loads == 1
