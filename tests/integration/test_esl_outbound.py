"""The outbound server (fsapps.esl.server) with calls from the emulator's socket app."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import gevent
import pytest
from gevent import socket
from greenswitch import esl as gs

from fsapps.esl.server import HAND_BACK, CallerHungUp, OutboundCall, OutboundServer
from fsapps.sim.channel import Channel
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from tests.support.waiting import wait_for

FALLBACK = "tone_stream://%(200,0,620)"


class Rig:
    """An emulator whose 9998 hands calls to a controller, then plays a fallback."""

    def __init__(self, handler: Callable[[OutboundCall], None], **server_kw) -> None:
        self.server = OutboundServer(handler, port=0, **server_kw).start()
        self.dialplan = StaticDialplan().add(
            "public",
            r"^9998$",
            [("socket", f"127.0.0.1:{self.server.port} async full"), ("playback", FALLBACK)],
        )
        self.switch = Switch(dialplan=self.dialplan, speed=10.0).start()

    def call(self, script: CallerScript | None = None, number: str = "1001") -> Channel:
        return self.switch.place_call("9998", caller_id_number=number, script=script)

    def close(self) -> None:
        self.server.stop(grace=1)
        self.switch.stop()


@pytest.fixture
def rig_factory():
    rigs: list[Rig] = []

    def make(handler, **kw) -> Rig:
        rig = Rig(handler, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def test_an_ivr_call_with_digits(rig_factory) -> None:
    results: dict[str, object] = {}

    def ivr(call: OutboundCall) -> None:
        results["caller"] = call.caller_id_number
        call.execute("answer")
        ev = call.execute(
            "play_and_get_digits",
            r"1 3 2 5000 # tone_stream://%(3000,0,350) silence_stream://250 choice \d+ 3000",
        )
        results["choice"] = ev.variable("choice")
        results["pressed"] = [call.dtmf.get_nowait() for _ in range(call.dtmf.qsize())]
        call.hangup("NORMAL_CLEARING")

    rig = rig_factory(ivr)
    ch = rig.call(CallerScript(dtmf=[(0.5, "4"), (0.9, "2"), (1.2, "#")]), number="5551234")
    assert ch.destroyed.wait(15)
    assert results == {"caller": "5551234", "choice": "42", "pressed": ["4", "2", "#"]}
    assert ch.hangup_cause == "NORMAL_CLEARING"
    assert f"heard {FALLBACK}" not in rig.switch.call_log(ch.uuid)


def test_caller_hangs_up_mid_playback(rig_factory) -> None:
    outcome: dict[str, object] = {}

    def app(call: OutboundCall) -> None:
        call.execute("answer")
        try:
            ev = call.execute("playback", "tone_stream://%(30000,0,440)")
            outcome["response"] = ev["Application-Response"]
            call.execute("playback", "tone_stream://%(1000,0,440)")
            outcome["after"] = "played on"
        except CallerHungUp:
            outcome["after"] = "caller gone"
        outcome["cause"] = call.hangup_cause

    rig = rig_factory(app)
    ch = rig.call(CallerScript(hangup_after=2.0))
    assert ch.destroyed.wait(15)
    rig.switch.wait_for(lambda: "cause" in outcome, timeout=5)
    assert outcome == {"response": "PLAYBACK ERROR", "after": "caller gone", "cause": "NORMAL_CLEARING"}


def test_over_the_cap_the_call_goes_on_in_the_dialplan(rig_factory) -> None:
    release = gevent.event.Event()

    def slow(call: OutboundCall) -> None:
        call.execute("answer")
        release.wait(10)
        call.hangup()

    rig = rig_factory(slow, max_connections=1)
    first = rig.call(number="1")
    rig.switch.wait_for(lambda: rig.server.accepted == 1, timeout=5)
    second = rig.call(number="2")
    rig.switch.wait_for(lambda: f"heard {FALLBACK}" in rig.switch.call_log(second.uuid), timeout=5)
    assert rig.server.rejected == 1
    release.set()
    assert first.destroyed.wait(10) and second.destroyed.wait(10)


def test_an_application_crash_hands_the_call_back(rig_factory, caplog) -> None:
    caplog.set_level(logging.ERROR, "fsapps.esl")

    def broken(call: OutboundCall) -> None:
        call.execute("answer")
        raise RuntimeError("bug in the application")

    rig = rig_factory(broken)
    ch = rig.call()
    assert ch.destroyed.wait(10)
    assert f"heard {FALLBACK}" in rig.switch.call_log(ch.uuid)
    assert any("crashed" in r.message for r in caplog.records)


def test_malformed_frame_drops_one_connection_not_the_server(rig_factory, caplog) -> None:
    caplog.set_level(logging.ERROR, "fsapps.esl")
    served: list[str] = []

    def app(call: OutboundCall) -> None:
        call.execute("answer")
        served.append(call.uuid)
        call.hangup()

    rig = rig_factory(app)
    bad = socket.create_connection(rig.server.address)
    bad.recv(1024)  # the server's `connect`
    bad.sendall(b"Content-Type: command/reply\nnot a header line\n\n")
    gevent.sleep(0.2)
    assert bad.recv(1024) == b""  # closed on us
    ch = rig.call()
    assert ch.destroyed.wait(10)
    assert served == [ch.uuid]
    assert any("protocol error" in r.message for r in caplog.records)


def test_graceful_stop_hands_running_calls_back(rig_factory) -> None:
    def holder(call: OutboundCall) -> None:
        call.execute("answer")
        call.execute("playback", "tone_stream://%(60000,0,440)")

    rig = rig_factory(holder)
    ch = rig.call()
    rig.switch.wait_for(lambda: rig.server.accepted == 1 and ch.answered, timeout=5)
    rig.server.stop(grace=0.2)
    rig.switch.wait_for(lambda: f"heard {FALLBACK}" in rig.switch.call_log(ch.uuid), timeout=10)


def test_unmodified_greenswitch_outbound_application() -> None:
    """A greenswitch OutboundSession application runs against the emulator unchanged."""
    done: list[str] = []

    class App:
        def __init__(self, session: gs.OutboundSession) -> None:
            self.session = session

        def run(self) -> None:
            self.session.connect()
            self.session.myevents()
            self.session.linger()
            self.session.answer()
            self.session.playback("tone_stream://%(500,0,440)", block=True)
            done.append(self.session.uuid)
            self.session.hangup()

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = gs.OutboundESLServer(bind_address="127.0.0.1", bind_port=port, application=App)
    listener = gevent.spawn(server.listen)
    dp = StaticDialplan().add("public", r"^9998$", [("socket", f"127.0.0.1:{port} async full")])
    sw = Switch(dialplan=dp, speed=10.0).start()
    try:
        gevent.sleep(0.2)
        ch = sw.place_call("9998")
        assert ch.destroyed.wait(15)
        assert done == [ch.uuid]
    finally:
        server.stop()
        sw.stop()
        listener.kill()


# --- hostile peers: real TCP against the running server ------------------------------


def peer(server: OutboundServer) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=5)
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server writes until it closes the socket (socket.timeout if it does not)."""
    sock.settimeout(timeout)
    got = b""
    while chunk := sock.recv(4096):
        got += chunk
    return got


def first_words(sock: socket.socket) -> bytes:
    """What the server says first: ``connect`` to a peer it admits."""
    sock.settimeout(5)
    got = b""
    while not got.endswith(b"\n\n"):
        chunk = sock.recv(64)
        if not chunk:
            break
        got += chunk
    return got


def test_sockets_are_capped_at_accept_and_silent_peers_timed_out(rig_factory) -> None:
    served: list[str] = []

    def app(call: OutboundCall) -> None:
        served.append(call.uuid)
        call.hangup()

    rig = rig_factory(app, max_connections=2, max_pending=3, connect_timeout=0.5)
    peers, heard = [], []
    started = time.monotonic()
    for _ in range(8):  # one after the other, so which are over the cap is known
        peers.append(peer(rig.server))
        heard.append(first_words(peers[-1]))
    # Five sockets (2 calls + 3 handshakes) asked to connect; the rest handed back at once.
    assert heard[:5] == [b"connect\n\n"] * 5
    for said, sock in zip(heard[5:], peers[5:], strict=True):
        assert said + read_until_closed(sock, timeout=1) == HAND_BACK
    for sock in peers[:5]:  # no connect reply: closed after connect_timeout, not 30 s
        assert read_until_closed(sock, timeout=5) == b""
    assert time.monotonic() - started < 3
    assert rig.server.dropped == 3
    assert wait_for(lambda: rig.server.open_sockets == 0, timeout=5)
    ch = rig.call()
    assert ch.destroyed.wait(10)
    assert served == [ch.uuid]
    for sock in peers:
        sock.close()


def test_a_call_over_the_socket_cap_goes_on_in_the_dialplan(rig_factory) -> None:
    rig = rig_factory(lambda call: None, max_connections=1, max_pending=1, connect_timeout=30)
    silent = [peer(rig.server), peer(rig.server)]
    assert [first_words(sock) for sock in silent] == [b"connect\n\n"] * 2
    ch = rig.call()
    rig.switch.wait_for(lambda: f"heard {FALLBACK}" in rig.switch.call_log(ch.uuid), timeout=5)
    assert rig.server.dropped == 1 and rig.server.accepted == 0
    for sock in silent:
        sock.close()
    assert wait_for(lambda: rig.server.open_sockets == 0, timeout=5)


def test_a_peer_outside_the_allow_list_is_closed_at_once(rig_factory) -> None:
    seen: list[str] = []
    rig = rig_factory(lambda call: seen.append(call.uuid), allow_from=["10.0.0.0/8", "fd00::/8"])
    sock = peer(rig.server)
    assert read_until_closed(sock, timeout=2) == HAND_BACK
    sock.close()
    ch = rig.call()  # the emulator connects from 127.0.0.1 too: back to its dialplan
    assert ch.destroyed.wait(10)
    assert f"heard {FALLBACK}" in rig.switch.call_log(ch.uuid)
    assert seen == [] and rig.server.refused_peers == 2 and rig.server.open_sockets == 0


def test_the_allow_list_admits_its_own_peers(rig_factory) -> None:
    seen: list[str] = []

    def app(call: OutboundCall) -> None:
        seen.append(call.uuid)
        call.hangup()

    rig = rig_factory(app, allow_from=["10.0.0.0/8", "127.0.0.1/32"])
    ch = rig.call()
    assert ch.destroyed.wait(10)
    assert seen == [ch.uuid] and rig.server.refused_peers == 0


@pytest.mark.parametrize(
    "frame",
    [
        b"Content-Type: command/reply\nContent-Length: 67108864\n\n",  # a body it would wait for
        b"Content-Type: command/reply\nX-Pad: " + b"a" * (300 << 10),  # a header block without end
    ],
    ids=["content-length", "header-block"],
)
def test_a_peer_cannot_make_the_server_buffer_megabytes(rig_factory, caplog, frame: bytes) -> None:
    caplog.set_level(logging.ERROR, "fsapps.esl")
    rig = rig_factory(lambda call: None, connect_timeout=30)
    sock = peer(rig.server)
    sock.settimeout(5)
    assert sock.recv(64) == b"connect\n\n"
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        sock.sendall(frame)
    assert read_until_closed(sock, timeout=5) == b""  # closed at once, not after connect_timeout
    sock.close()
    assert any("protocol error" in r.getMessage() for r in caplog.records)
    assert wait_for(lambda: rig.server.open_sockets == 0, timeout=5)


def test_a_call_hears_only_the_events_its_handlers_read(rig_factory) -> None:
    """myevents less what nothing reads: no CHANNEL_EXECUTE or CHANNEL_STATE copies of the
    channel cross the socket (each is every variable, serialized by the switch and parsed
    here), while the handled ones still arrive."""
    unhandled: list[str] = []
    handled: list[str] = []

    def app(call: OutboundCall) -> None:
        call.on("*", lambda ev: unhandled.append(ev.name))
        call.subscribe(lambda ev: handled.append(ev.name) if ev is not None else None)
        call.execute("answer")
        call.execute("playback", "silence_stream://100")
        call.hangup("NORMAL_CLEARING")

    rig = rig_factory(app)
    ch = rig.call()
    assert ch.destroyed.wait(15)
    wait_for(lambda: "CHANNEL_HANGUP_COMPLETE" in handled, timeout=10)
    assert handled.count("CHANNEL_EXECUTE_COMPLETE") >= 2 and "CHANNEL_ANSWER" in handled
    assert unhandled == []
