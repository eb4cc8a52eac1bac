"""``fsapps demo`` as a newcomer meets it, in Chromium: the demo started as ``./dev demo``
starts it (its own embedded PostgreSQL, the emulator at real speed, callers arriving), the
agent logs in with the password the demo printed, goes ready, sees the arriving caller's
card pop while the emulated phone rings, the phone answers, the agent transfers the call to
the other agent, and the supervisor's floor shows her on the call, then wrapping up."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from fsapps.demo.live import CALLERS, CUSTOMERS, LiveDemo, Pace
from tests.support.waiting import wait_for


def test_a_newcomer_takes_a_demo_call_with_its_card_transfers_it_and_watches_the_floor(
    tmp_path, tabs
) -> None:
    # One caller at a time, a known customer, who stays on the line for the whole test.
    caller = CALLERS[0]
    (customer,) = [c for c in CUSTOMERS if caller.number in c["numbers"]]
    pace = Pace(interval=0.5, at_once=1, stay=120.0, answer_after=2.0)
    # ben is made ready by the supervisor below, once ann has the only caller.
    demo = LiveDemo(tmp_path / "demo", pace=pace, callers=[caller], ready=()).start()
    try:
        out = io.StringIO()
        demo.welcome(out)
        logins = {login.username: login for login in demo.logins}
        assert demo.address in out.getvalue() and logins["ann"].password in out.getvalue()
        base = demo.address.removesuffix("/console/")

        ann_tab = tabs(base, "en-GB", "demo-ann")
        ann = ann_tab.login("ann", logins["ann"].password)
        expect(ann).to_have_url(f"{base}/console/agent")
        expect(ann.locator("#live")).to_have_attribute("data-live", "live")
        ann.click("#go-ready")

        # The caller waiting in the queue is offered to ann: the screen pop and the customer's
        # card show while her phone rings, before it answers.
        offer, card = ann.locator("#offer-card"), ann.locator("#card-customer")
        expect(offer).to_be_visible()
        expect(offer.locator('[data-field="number"]')).to_have_text(caller.number)
        expect(card.locator('[data-field="customer_name"]')).to_have_text(customer["name"])
        expect(card.locator('[data-field="cf_plan"]')).to_have_text(customer["custom_fields"]["plan"])
        ann_tab.shot("screen-pop")
        # The emulated phone answers by itself.
        expect(ann.locator("#state")).to_have_text("On a call")
        expect(ann.locator('#call-fields [data-field="number"]')).to_have_text(caller.number)
        (leg,) = demo.phones["ann"].calls
        assert demo.console is not None and demo.console.switch.channels[leg].answered

        sup_tab = tabs(base, "en-GB", "demo-supervisor")
        floor = sup_tab.login("supervisor", logins["supervisor"].password)
        expect(floor).to_have_url(f"{base}/console/floor")
        on_floor = {agent: floor.locator(f'#agent-grid li[data-agent="{agent}"]') for agent in ("ann", "ben")}
        expect(on_floor["ann"]).to_have_attribute("data-activity", "talking")
        # The supervisor makes ben ready, then ann transfers her caller to him.
        on_floor["ben"].locator("select.force-status").select_option("Available")
        on_floor["ben"].locator("button.force").click()
        expect(on_floor["ben"]).to_have_attribute("data-activity", "available")

        ann.select_option("#target-kind", "agent")
        ann.fill("#target-value", "ben")
        ann.click('#call-actions button[data-op="transfer"]')
        # Ben's phone rings and answers the caller; ann's call is over and she wraps up, on
        # her desk and on the floor, where ben now talks to the caller (a direct call: the
        # transfer rang his phone, no queue).
        (ben_leg,) = wait_for(lambda: demo.phones["ben"].calls)
        assert wait_for(lambda: demo.console.switch.channels[ben_leg].answered)
        expect(ann.locator("#no-call")).to_be_visible()
        expect(ann.locator("#wrapup-call")).to_contain_text(caller.number)
        expect(on_floor["ann"]).to_have_attribute("data-activity", "wrap_up")
        expect(on_floor["ben"]).to_have_attribute("data-activity", "talking")
        expect(on_floor["ben"].locator(".caller")).to_have_text(f"{caller.number} · direct call in")
        sup_tab.shot("floor")
    finally:
        demo.stop()
