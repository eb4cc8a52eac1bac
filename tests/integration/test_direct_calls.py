"""Agents on calls no queue made, through a controller on the emulator with its inbound
Event Socket (fsapps.acd.direct_calls): a queue's offer answered is no direct call; a call
rung straight at an agent's phone (no queue) is, from its answer to its hangup, in
agent_direct_calls and in the API's agents list (talking, with the caller's number), and
the notifier publishes it both ways."""

from __future__ import annotations

from typing import Any

import gevent

from fsapps.sim.endpoints import CallerScript
from tests.browser.test_desk_card import NUMBER
from tests.browser.test_floor_direct_calls import floor
from tests.support.api import PASSWORD, Client
from tests.support.waiting import wait_for


def _rows(store: Any) -> list[dict[str, Any]]:
    with store.operator() as op:
        return op._all("SELECT agent_id, number, direction FROM agent_direct_calls ORDER BY answered_epoch")


def test_a_call_straight_to_an_agents_phone_is_a_direct_call_and_a_queue_offer_is_not(
    store: Any, tmp_path: Any
) -> None:
    with floor(store, tmp_path) as f:
        with store.tenant("popco") as t:
            admin = t.add_user("boss", PASSWORD, "tenant_admin")
            api = Client(int(f.base.rsplit(":", 1)[1]), token=t.issue_token(admin.id, "tests"))

        def bob() -> dict[str, Any]:
            return api.get("/api/v1/tenants/popco/agents/pop_bob").json

        # ann takes a queue caller: the ACD's call, not a direct one.
        caller = f.switch.place_call("7100", caller_id_number=NUMBER, script=CallerScript())
        f.answer("pop_ann", 1)
        assert wait_for(lambda: api.get("/api/v1/tenants/popco/agents/pop_ann").json["activity"] == "talking")

        # A colleague rings bob's phone from the switch, no queue; bob (On Break) answers.
        # (originate answers once the phone has: it runs beside the test, which answers.)
        dial = "{origination_caller_id_number=13900000001}sofia/external/pop_bob@127.0.0.1:5080 &park()"
        dialled = gevent.spawn(f.switch.api, "originate", dial)
        leg = f.answer("pop_bob", 1)
        assert dialled.get(timeout=30).startswith("+OK "), dialled.value
        assert wait_for(lambda: bob()["direct_call"] is not None), bob()
        got = bob()
        assert got["activity"] == "talking"
        assert got["direct_call"] == {"number": "13900000001", "direction": "inbound"}
        # The writes are in the order the switch sent its events: ann's answer came first.
        assert _rows(store) == [{"agent_id": "pop_bob", "number": "13900000001", "direction": "inbound"}]

        f.switch.channels[leg].hangup("NORMAL_CLEARING")
        assert wait_for(lambda: bob()["direct_call"] is None), bob()
        assert bob()["activity"] == "on_break"
        assert _rows(store) == []
        f.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
