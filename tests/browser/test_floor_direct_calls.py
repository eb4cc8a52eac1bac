"""The supervisor's floor shows an agent on a call no queue made: ann takes a queue caller
and transfers them straight to bob (a blind transfer to an agent: the caller is bridged to
bob's phone, no queue's offer); bob answers, and the floor, following the event stream,
shows him talking to the caller's number within 1 s, and free again within 1 s of the
hangup."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.config import EslSettings
from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.web.live import live_events
from tests.browser.test_desk_card import NUMBER, QUEUE, START, Floor, _dialplan
from tests.support.api import PASSWORD, serve_api
from tests.support.controllers import load_rendered, start_controller

WITHIN = 1000  # ms: an ACD change reaches the supervisor's screen within a second


@contextmanager
def floor(store: Any, tmp_path: Path, voicemails: Path | None = None) -> Iterator[Floor]:
    """Tenant popco, agents pop_ann (Available) and pop_bob (On Break), phones the test
    answers; a controller on the emulator (10x) with its inbound Event Socket, as
    ``fsapps controller`` runs with ``esl.password`` set; the API following its events."""
    with store.operator() as op:
        op.add_tenant(Tenant("popco", "Popco", "popco.example", "Asia/Shanghai"))
        for agent, status in (("pop_ann", "Available"), ("pop_bob", "On Break")):
            op.add_agent(agent, agent, {"popco": 1}, f"sofia/external/{agent}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent, wrap_up_time=0)
            acd.set_status(op.conn, agent, status, 0)
    project = check(_dialplan(tmp_path / "dialplan"))
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=10.0, start=START))
    phones = {a: switch.register_user(a, Endpoint(answer_after=None)) for a in ("pop_ann", "pop_bob")}
    switch.start()
    esl = EslSettings("127.0.0.1", switch.port, switch.password)
    controller = start_controller(project, store, switch.clock, tmp_path / "c0", esl=esl)
    live = server = conn = None
    try:
        load_rendered(switch, project, [controller], tmp_path / "conf")
        live = live_events(store, controller)
        queues = {"front": dict(QUEUE["front"])}
        conn = Connection("127.0.0.1", switch.port, switch.password)
        conn.connect()
        ctx = ApiContext(store, lambda tenant: queues if tenant == "popco" else {}, clock=switch.clock.now,
                         live=live, switch=conn.api, voicemails=voicemails,
                         session_hours=24 * 365 * 20)  # fmt: skip
        server = serve_api(ctx, console=True)
        yield Floor(f"http://127.0.0.1:{server.server_port}", switch, store, phones)
    finally:
        if server is not None:
            server.stop(timeout=2)
        if live is not None:
            live.stop()
        if conn is not None:
            conn.stop()
        controller.stop(grace=1.0)
        switch.stop()


def test_a_direct_transfer_shows_the_agent_on_a_call_on_the_floor_and_free_after_the_hangup(
    store: Any, tmp_path: Any, tabs: Any
) -> None:
    with floor(store, tmp_path) as f:
        with store.tenant("popco") as t:
            sup = t.add_user("sup", PASSWORD, "supervisor").id
            repo.put_group(t, "front", [sup], ["pop_ann", "pop_bob"], ["front"])
        tab = tabs(f.base, "en-GB", "supervisor")
        page = tab.login("sup", PASSWORD)
        expect(page).to_have_url(f"{f.base}/console/floor")
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        bob = page.locator('#agent-grid li[data-agent="pop_bob"]')
        expect(bob).to_have_attribute("data-activity", "on_break")
        expect(bob.locator(".caller")).to_have_text("no call")

        caller = f.switch.place_call("7100", caller_id_number=NUMBER, script=CallerScript())
        f.answer("pop_ann", 1)
        ann = page.locator('#agent-grid li[data-agent="pop_ann"]')
        expect(ann).to_have_attribute("data-activity", "talking")
        # The supervisor transfers ann's caller to bob, through the page's own API module.
        got = page.evaluate("""async () => {
          const src = document.querySelector('script[type=module]').src.replace(/[^/]*$/, 'api.js');
          const {api} = await import(src);
          return api('POST', '/tenants/popco/agents/pop_ann/call/transfer', {agent: 'pop_bob'});
        }""")
        assert got is None or "leg" in got, got
        leg = f.answer("pop_bob", 1)
        answered = time.monotonic()
        expect(bob).to_have_attribute("data-activity", "talking", timeout=WITHIN)
        shown = time.monotonic() - answered
        expect(bob.locator(".caller")).to_have_text(f"{NUMBER} · direct call in")
        tab.shot("floor-direct-call")

        f.switch.channels[leg].hangup("NORMAL_CLEARING")
        hung_up = time.monotonic()
        expect(bob).to_have_attribute("data-activity", "on_break", timeout=WITHIN)
        freed = time.monotonic() - hung_up
        expect(bob.locator(".caller")).to_have_text("no call")
        assert caller.destroyed.wait(30)
        print(f"direct call on the floor after {shown * 1000:.0f} ms, off after {freed * 1000:.0f} ms")
