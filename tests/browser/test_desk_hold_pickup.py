"""Hold / Resume and Pick up on the agent's desk, in Chromium, on the real event stream
and the emulator: the desk's buttons run the API's operations (POST .../call/hold,
.../call/unhold, .../call/pickup) through the API's own Event Socket connection, and what
the caller hears and whose phone rings is read from the emulator's channels."""

from __future__ import annotations

from playwright.sync_api import expect

from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.model import AgentState
from fsapps.sim.apps.displace import heard_from
from tests.browser.test_desk_card import NUMBER, floor
from tests.support.api import PASSWORD
from tests.support.waiting import wait_for

# pop_bob is rung first (top-down) and rings long enough (ring-timeout, switch seconds at 10x)
# for a colleague's desk to see the call and pick it up.
RINGS_LONG = {"strategy": "top-down", "tiers": ["pop_bob", "pop_ann"], "ring-timeout": 600}


def test_an_agent_holds_the_caller_from_the_desk_by_keyboard_and_resumes(store, tmp_path, tabs) -> None:
    with floor(store, tmp_path, bob="On Break") as f:
        tab = tabs(f.base, "en-GB", "ann")
        page = tab.login("ann", PASSWORD)
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        hold, resume, held = page.locator("#dh-hold"), page.locator("#dh-resume"), page.locator("#dh-held")
        expect(hold).to_be_hidden()  # no call, nothing to hold

        caller = f.call()
        leg = f.switch.channels[f.answer("pop_ann", 1)]
        expect(page.locator('#call-fields [data-field="number"]')).to_have_text(NUMBER)
        expect(hold).to_be_visible()
        expect(resume).to_be_hidden()
        expect(held).to_be_hidden()
        assert heard_from(leg) == []

        # Hold, from the keyboard: the caller hears the queue's hold music in place of the agent.
        hold.focus()
        page.keyboard.press("Enter")
        expect(held).to_have_text("Held")
        expect(held).to_be_visible()
        expect(page.locator("#call-state")).to_have_text("on hold: the caller hears the hold music")
        expect(resume).to_be_focused()
        wait_for(lambda: heard_from(leg) == [DEFAULT_MOH])
        assert heard_from(leg) == [DEFAULT_MOH]
        assert f"displace({DEFAULT_MOH})" in f.switch.call_log(leg.uuid)
        assert f.switch.channels[caller.uuid].bridged_to is leg  # still their call
        tab.shot("held")

        # A reload shows the call held, as the switch has it.
        page.reload()
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        expect(held).to_be_visible()
        expect(resume).to_be_visible()
        expect(hold).to_be_hidden()

        # Resume: the music stops, they talk again.
        resume.focus()
        page.keyboard.press("Enter")
        expect(held).to_be_hidden()
        expect(hold).to_be_focused()
        expect(page.locator("#call-state")).to_have_text("talking")
        wait_for(lambda: heard_from(leg) == [])
        assert heard_from(leg) == [] and f.switch.channels[caller.uuid].bridged_to is leg
        f.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)


def test_an_agent_picks_up_a_call_ringing_at_a_colleague_and_gets_it_with_its_screen_pop(
    store, tmp_path, tabs
) -> None:
    with floor(store, tmp_path, bob="Available", queue=RINGS_LONG) as f:
        ann_tab, bob_tab = tabs(f.base, "zh-CN", "ann"), tabs(f.base, "en-GB", "bob")
        ann, bob = ann_tab.login("ann", PASSWORD), bob_tab.login("bob", PASSWORD)
        expect(ann.locator("#live")).to_have_attribute("data-live", "live")
        expect(bob.locator("#live")).to_have_attribute("data-live", "live")
        card = ann.locator("#dh-pickup-card")
        expect(card).to_be_hidden()

        caller = f.call()
        (bobs_leg,) = wait_for(lambda: f.phones["pop_bob"].calls)
        expect(bob.locator("#offer-card")).to_be_visible()
        # Ann's desk lists the call ringing at pop_bob; bob's own desk offers him nothing to pick up.
        row = card.locator(f'li[data-call="{caller.uuid}"]')
        expect(row.locator('[data-field="number"]')).to_have_text(NUMBER)
        expect(row.locator('[data-field="ringing"]')).to_contain_text("pop_bob")
        expect(bob.locator("#dh-pickup-card")).to_be_hidden()
        ann_tab.shot("ringing-at-a-colleague")

        row.locator("button").click()
        # pop_bob's phone stops ringing; pop_ann's rings with the call, and she answers it.
        wait_for(lambda: bobs_leg not in f.switch.channels)
        assert bobs_leg not in f.switch.channels
        assert f.switch.history[bobs_leg].hangup_cause == "PICKED_OFF"
        f.answer("pop_ann", 1)
        expect(ann.locator('#call-fields [data-field="number"]')).to_have_text(NUMBER)
        expect(ann.locator('#call-fields [data-field="cn_plan"]')).to_have_text("gold")
        expect(ann.locator("#card-new-number")).to_have_value(NUMBER)  # the card: a new customer
        expect(card).to_be_hidden()
        expect(bob.locator("#offer-card")).to_be_hidden()
        ann_tab.shot("picked-up")
        with store.operator() as op:
            ann_row = op.conn.execute("SELECT state FROM agent_state WHERE agent_id = 'pop_ann'").fetchone()
        assert ann_row["state"] == AgentState.IN_A_QUEUE_CALL
        f.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
