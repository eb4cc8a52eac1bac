"""OutboundCall.subscribe: one ordered feed of a call's events, then its end."""

from __future__ import annotations

import gevent
import gevent.queue

from fsapps.esl import codec
from fsapps.esl.server import OutboundCall
from fsapps.sim.endpoints import CallerScript
from tests.integration.test_esl_outbound import rig_factory  # noqa: F401  (fixture)

CLIP = "tone_stream://%(20000,0,440)"


def _names(items: list[codec.Event | None]) -> list[str]:
    wanted = {"CHANNEL_EXECUTE_COMPLETE", "DTMF", "CHANNEL_HANGUP", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"}
    out = []
    for item in items:
        if item is None:
            out.append("<gone>")
        elif item.name in wanted:
            out.append(f"{item.name} {item.get('Application') or item.get('DTMF-Digit') or ''}".strip())
    return out


def test_a_subscriber_hears_the_calls_events_in_order_then_its_end_once(rig_factory) -> None:  # noqa: F811
    heard: list[codec.Event | None] = []
    late: list[codec.Event | None] = []
    stopped: list[codec.Event | None] = []
    done = gevent.event.Event()

    def app(call: OutboundCall) -> None:
        feed: gevent.queue.Queue[codec.Event | None] = gevent.queue.Queue()
        unsubscribe = call.subscribe(feed.put)
        unsubscribe_early = call.subscribe(stopped.append)
        call.execute("answer")
        unsubscribe_early()  # nothing after this reaches it
        call.execute_async("playback", CLIP)
        while True:
            item = feed.get(timeout=30)
            heard.append(item)
            if item is None:
                break
            # Delivered after the call's own bookkeeping: the hangup cause is known by then.
            if item.name == "CHANNEL_HANGUP":
                assert call.hangup_cause == "NORMAL_CLEARING"
            if item.name == "CHANNEL_EXECUTE_COMPLETE" and item.get("Application") == "playback":
                call.finish()  # the socket lingers until the controller lets go: then the end
        unsubscribe()
        call.subscribe(late.append)  # the socket is gone already: told at once
        done.set()

    rig = rig_factory(app)
    ch = rig.call(CallerScript(dtmf=[(0.5, "7")], hangup_after=1.0))
    assert ch.destroyed.wait(15)
    assert done.wait(15)
    names = _names(heard)
    assert names[0] == "CHANNEL_EXECUTE_COMPLETE answer"
    assert (
        names.index("DTMF 7")
        < names.index("CHANNEL_HANGUP")
        < names.index("CHANNEL_EXECUTE_COMPLETE playback")
    )
    assert names.count("<gone>") == 1 and names[-1] == "<gone>"
    assert late == [None]
    assert _names(stopped) == ["CHANNEL_EXECUTE_COMPLETE answer"]
