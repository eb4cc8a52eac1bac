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


def test_calls_the_switch_no_longer_has_are_swept_this_controllers_and_dead_ones_but_not_the_living(
    store: Any,
) -> None:
    """A controller that died mid-call never saw its hangup: its row would show the agent on a
    call for ever. The sweep (on each connect, then every ``sweep_every``) forgets the rows of
    legs the switch does not have, this controller's and dead ones', and leaves a living
    controller's (it may follow another switch)."""
    import time
    import uuid

    from fsapps.acd.direct_calls import DirectCalls
    from fsapps.acd.notifier import AgentDirectCall, Notifier
    from fsapps.esl.client import InboundClient
    from fsapps.sim.switch import Switch, SwitchConfig
    from fsapps.store.records import Tenant

    with store.operator() as op:
        op.add_tenant(Tenant("popco", "Popco", "popco.example"))
        for agent in ("a_mine", "a_dead", "a_alive"):
            op.add_agent(agent, agent, {"popco": 1}, f"sofia/external/{agent}@127.0.0.1:5080")
        op.conn.execute("INSERT INTO acd_controllers (name, seen_epoch) VALUES ('other', %s)", (time.time(),))
        for agent, origin in (("a_mine", "me"), ("a_dead", "ghost"), ("a_alive", "other")):
            op.conn.execute(
                "INSERT INTO agent_direct_calls (leg, agent_id, number, direction, answered_epoch, origin)"
                " VALUES (%s, %s, '1', 'inbound', 1, %s)", (str(uuid.uuid4()), agent, origin),
            )  # fmt: skip

    def write(fn: Any) -> Any:
        with store.operator() as op:
            return fn(op.conn)

    switch = Switch(SwitchConfig(speed=1.0)).start()
    client = InboundClient("127.0.0.1", switch.port, switch.password)
    notifier = Notifier()
    ended = notifier.subscribe(lambda e: isinstance(e, AgentDirectCall) and e.what == "ended")
    calls = DirectCalls(client, notifier, dict, write, origin="me", sweep_every=0.2).start()
    client.start()
    try:
        def left() -> list[str]:
            with store.operator() as op:
                return [r["agent_id"] for r in op._all("SELECT agent_id FROM agent_direct_calls")]

        assert wait_for(lambda: left() == ["a_alive"]), left()
        told = {ended.get(timeout=5).event.agent for _ in range(2)}  # type: ignore[union-attr]
        assert told == {"a_mine", "a_dead"}
    finally:
        calls.stop()
        client.stop()
        switch.stop()
