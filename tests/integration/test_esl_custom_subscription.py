"""The inbound client's subscription with a CUSTOM subclass among its events, against the
emulator: mod_event_socket reads every word after CUSTOM as a subclass (parse_command), so
an event added after "CUSTOM vm::maintenance" (the agents' phones' CHANNEL_CREATE, added
by a later follower) must still be subscribed to as an event, and the subclass too."""

from __future__ import annotations

from fsapps.esl.client import InboundClient
from tests.integration.test_esl_inbound import sw  # noqa: F401  (fixture)


def test_events_added_after_a_custom_subclass_are_still_events(sw) -> None:  # noqa: F811
    client = InboundClient("127.0.0.1", sw.port, "ClueCon", events=["CUSTOM vm::maintenance"],
                           backoff_min=0.05)  # fmt: skip
    client.events.append("CHANNEL_CREATE")  # as fsapps.acd.phones adds it, after the voicemails'

    created: list[str] = []
    kept: list[str] = []
    client.on("CHANNEL_CREATE", lambda e: created.append(e.uuid or ""))
    client.on("vm::maintenance", lambda e: kept.append(e.get("VM-Action") or ""))
    client.start()
    try:
        assert client.wait_connected(5)
        ch = sw.place_call("9999")
        sw.wait_for(lambda: ch.uuid in created, timeout=5)
        ev = sw.new_event("CUSTOM", subclass="vm::maintenance")
        ev.add("VM-Action", "leave-message")
        sw.fire(ev)
        sw.wait_for(lambda: kept == ["leave-message"], timeout=5)
    finally:
        client.stop()
