"""CDRs from the switch's events into PostgreSQL: emulated calls, a real database."""

from __future__ import annotations

import gevent

from fsapps.esl.client import InboundClient
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch
from fsapps.store.collector import CdrCollector
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Tenant


def test_a_bridged_call_becomes_two_legs_and_one_call(store, tmp_path) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"), numbers=["4000"])
    dp = StaticDialplan()
    dp.add("public", r"^4000$", [
        ("set", "fsapps_tenant=acme"), ("set", "fsapps_queue=support"), ("answer", ""),
        ("export", "fsapps_tenant=acme"), ("export", "fsapps_agent=ag7"),
        ("bridge", "user/1001"),
    ])  # fmt: skip
    dp.add("public", r"^9999$", [("answer", ""), ("hangup", "")])  # a call no tenant claims
    sw = Switch(dialplan=dp, speed=20.0).start()
    sw.register_user("1001", Endpoint(answer_after=2.0, hangup_after=10.0))
    client = InboundClient("127.0.0.1", sw.port, "ClueCon", backoff_min=0.05)
    writer = DurableWriter(store, tmp_path / "spool")
    collector = CdrCollector(client, writer)
    client.start()
    try:
        assert client.wait_connected(5)
        ch = sw.place_call("4000", caller_id_number="5551234", script=CallerScript())
        other = sw.place_call("9999")
        assert ch.destroyed.wait(10) and other.destroyed.wait(10)
        with gevent.Timeout(10):
            while collector.collected < 2:
                gevent.sleep(0.05)
    finally:
        client.stop()
        sw.stop()
    with store.tenant("acme") as t:
        legs = {c["leg"]: c for c in t.cdrs()}
        (call,) = t.calls()
    assert set(legs) == {"a", "b"}
    assert str(legs["b"]["call_uuid"]) == ch.uuid == str(legs["a"]["leg_uuid"])
    assert legs["a"]["caller"] == "5551234" and legs["a"]["queue"] == "support"
    # b talked its 10 s; a as long plus b's 2 s of ringing. The emulator's clock runs at 20x,
    # so a loaded host's lag of a few tenths of a second is a few seconds here: bounded so.
    a, b = legs["a"]["billsec"], legs["b"]["billsec"]
    assert 9 <= b <= 13 and 1 <= a - b <= 4, (a, b)
    assert legs["a"]["wait_seconds"] in (1, 2, 3)  # until the agent's leg was bridged
    assert (call["agent_id"], call["hangup_cause"]) == ("ag7", "NORMAL_CLEARING")
    assert writer.spooled == 0
