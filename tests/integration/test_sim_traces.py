"""fsapps.sim held to the real FreeSWITCH: the recorded conversations replayed."""

from __future__ import annotations

import gevent
import pytest
from gevent import socket

from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from tests.support import replay, traces


def _switch(dialplan, speed: float = 10.0) -> Switch:
    return Switch(dialplan=dialplan, speed=speed).start()


def _caller_on_note(sw: Switch, script: CallerScript):
    def on_note(text: str) -> None:
        if "sipp" in text and "started" in text:
            dest = "9998" if "9998" in text else "9999"
            sw.place_call(dest, caller_id_number="sipp", script=script)

    return on_note


@pytest.mark.parametrize("conn", [1, 2])
def test_s01_auth_and_api(conn: int) -> None:
    trace = traces.load("s01_inbound_auth_api")
    sw = _switch(replay.vanilla_dialplan())
    try:
        want, got = replay.replay(trace, conn, sw.address)
    finally:
        sw.stop()
    assert replay.compare(want, got, api_bodies=("UP ", "FreeSWITCH Version")) == []


@pytest.mark.parametrize("name", ["s02_inbound_events_call", "s03_inbound_events_json"])
def test_inbound_events_of_a_call(name: str) -> None:
    trace = traces.load(name)
    sw = _switch(replay.vanilla_dialplan())
    try:
        want, got = replay.replay(trace, 1, sw.address, on_note=_caller_on_note(sw, CallerScript()))
    finally:
        sw.stop()
    assert replay.compare(want, got) == []


def _outbound(name: str, script: CallerScript):
    trace = traces.load(name)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    sw = _switch(replay.vanilla_dialplan(server.getsockname()))
    try:
        sw.place_call("9998", caller_id_number="sipp", script=script)
        with gevent.Timeout(10):
            conn, _ = server.accept()
        want, got = replay.replay(trace, 1, sock=conn)
    finally:
        sw.stop()
        server.close()
    return want, got


def test_s04_outbound_ivr() -> None:
    want, got = _outbound("s04_outbound_ivr", CallerScript(dtmf=[(2.5, "1"), (3.2, "2"), (3.9, "#")]))
    assert replay.compare(want, got) == []


def test_s05_outbound_caller_hangup() -> None:
    want, got = _outbound("s05_outbound_caller_hangup", CallerScript(hangup_after=4.0))
    assert replay.compare(want, got) == []


def test_s06_originate_and_bridge() -> None:
    trace = traces.load("s06_originate_bridge")
    sw = _switch(replay.vanilla_dialplan())
    try:
        want, got = replay.replay(trace, 1, sw.address)
    finally:
        sw.stop()
    assert replay.compare(want, got) == []
