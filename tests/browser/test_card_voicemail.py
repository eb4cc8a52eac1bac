"""A voicemail on the customer's card, played in place: the caller left a message before;
when they call again the agent's card shows it on the timeline (box, length) with an
<audio> element that plays the message the API serves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.sim.endpoints import CallerScript
from fsapps.store import customers
from tests.browser.test_desk_card import NUMBER
from tests.browser.test_floor_direct_calls import floor
from tests.support.api import PASSWORD
from tests.support.wavs import wav


def test_the_card_shows_the_callers_voicemail_and_plays_it(store: Any, tmp_path: Path, tabs: Any) -> None:
    vm = tmp_path / "voicemail"
    message = vm / "default" / "popco.example" / "8001" / "msg_1.wav"
    message.parent.mkdir(parents=True)
    message.write_bytes(wav(8000, seconds=1.0))
    with floor(store, tmp_path, voicemails=vm) as f:
        with store.tenant("popco") as t:
            ann = t.add_user("ann", PASSWORD, "agent").id
            customers.create(t, {"name": "Ada Lovelace", "company": "", "tags": [], "custom_fields": {},
                                 "numbers": [NUMBER], "owner_agent": None})  # fmt: skip
        with store.operator() as op:
            op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'pop_ann'", (ann,))
            op.conn.execute(
                "INSERT INTO voicemails (event_id, tenant_id, box, caller_number, path, seconds, left_at)"
                " VALUES (gen_random_uuid(), 'popco', '8001', %s, %s, 1, %s)",
                (NUMBER, str(message), datetime(2026, 11, 22, 20, 15, tzinfo=UTC)),
            )
        tab = tabs(f.base, "en-GB", "ann")
        page = tab.login("ann", PASSWORD)
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        caller = f.switch.place_call("7100", caller_id_number=NUMBER, script=CallerScript())
        card = page.locator("#card-customer")
        expect(card.locator('[data-field="customer_name"]')).to_have_text("Ada Lovelace")
        left = page.locator('#card-timeline li[data-kind="voicemail"]')
        expect(left).to_contain_text("Voicemail")
        expect(left).to_contain_text(f"{NUMBER} · left in box 8001, 1 s")
        played = left.locator("audio").evaluate("""(a) => new Promise((done) => {
          a.muted = true;
          a.addEventListener('playing', () => done({ok: true, duration: a.duration}), {once: true});
          a.addEventListener('error', () => done({ok: false, code: a.error && a.error.code}), {once: true});
          a.play().catch((e) => done({ok: false, why: String(e)}));
        })""")
        assert played["ok"] and abs(played["duration"] - 1.0) < 0.05, played
        tab.shot("card-voicemail")
        f.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
