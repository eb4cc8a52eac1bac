"""The inbound client (fsapps.esl.client) against the emulator, and greenswitch unchanged."""

from __future__ import annotations

import logging

import gevent
import pytest
from gevent import socket
from greenswitch import esl as gs

from fsapps.esl.client import AuthenticationFailed, Connection, InboundClient
from fsapps.esl.protocol import ConnectionLost
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch


@pytest.fixture
def sw():
    dp = StaticDialplan().add(
        "public", r"^9999$", [("answer", ""), ("playback", "tone_stream://%(1000,0,440)"), ("hangup", "")]
    )
    s = Switch(dialplan=dp, speed=10.0).start()
    yield s
    s.stop()


def connect(sw: Switch, password: str = "ClueCon") -> Connection:
    c = Connection("127.0.0.1", sw.port, password)
    c.connect()
    return c


def test_api_and_unknown_command(sw: Switch) -> None:
    c = connect(sw)
    assert c.api("status").startswith("UP ")
    assert c.api("bogus_command") == "-ERR bogus_command Command not found!\n"
    assert c.api("uuid_exists 00000000-0000-0000-0000-000000000000") == "false"
    c.stop()


def test_wrong_password_is_refused(sw: Switch) -> None:
    with pytest.raises(AuthenticationFailed) as err:
        connect(sw, "not-the-password")
    assert "not-the-password" not in str(err.value)


def test_bgapi_results_match_their_job_uuid(sw: Switch) -> None:
    c = connect(sw)
    jobs = {c.bgapi("version"): "FreeSWITCH Version", c.bgapi("uuid_exists nope"): "false"}
    for job, want in jobs.items():
        assert job.get(timeout=5).startswith(want)
    chosen = c.bgapi("status", job_uuid="11111111-2222-3333-4444-555555555555")
    assert chosen.get(timeout=5).startswith("UP ")
    c.stop()


def test_events_for_a_call_and_filters(sw: Switch) -> None:
    c = connect(sw)
    got: list[tuple[str, str | None]] = []
    c.on("*", lambda e: got.append((e.name, e.uuid)))
    c.subscribe(["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"])
    first = sw.place_call("9999", caller_id_number="2001")
    # A channel is destroyed before its last event has crossed the socket: wait for that.
    sw.wait_for(lambda: ("CHANNEL_HANGUP_COMPLETE", first.uuid) in got, timeout=10)
    before_filter = list(got)
    got.clear()
    c.filter("Caller-Caller-ID-Number", "2002")
    # The filtered-out call first, over before the other starts: one connection's events
    # come in order, so by the other's last event any of its own would have come.
    third = sw.place_call("9999", caller_id_number="2003")
    assert third.destroyed.wait(10)
    second = sw.place_call("9999", caller_id_number="2002")
    sw.wait_for(lambda: ("CHANNEL_HANGUP_COMPLETE", second.uuid) in got, timeout=10)
    assert [n for n, _ in before_filter] == ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"]
    assert [u for _, u in got] == [second.uuid] * 3
    c.stop()


def test_lost_connection_fails_pending_commands_and_jobs(sw: Switch) -> None:
    sw.register_user("1009", Endpoint(answer_after=None))  # rings until the originate gives up
    c = connect(sw)
    job = c.bgapi("originate user/1009 &park()")
    for lst in list(sw.listeners):
        lst.kill("testing a lost connection\n")
    with pytest.raises(ConnectionLost):
        job.get(timeout=5)
    with pytest.raises(ConnectionLost):
        c.api("status")


def test_client_reconnects_and_resubscribes(sw: Switch) -> None:
    client = InboundClient("127.0.0.1", sw.port, "ClueCon", events=["CHANNEL_CREATE"], backoff_min=0.05)
    created: list[str] = []
    connects: list[int] = []
    client.on("CHANNEL_CREATE", lambda e: created.append(e.uuid or ""))
    client.on_connect.append(lambda conn: connects.append(1))
    client.start()
    assert client.wait_connected(5)
    for lst in list(sw.listeners):
        lst.kill("killed listener because of lost events\n")
    sw.wait_for(lambda: len(connects) == 2, timeout=5)
    ch = sw.place_call("9999")
    sw.wait_for(lambda: ch.uuid in created, timeout=5)
    assert client.api("uuid_exists " + ch.uuid) in ("true", "false")
    client.stop()


def test_client_keeps_trying_while_the_switch_is_down() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = InboundClient("127.0.0.1", port, "ClueCon", backoff_min=0.05, backoff_max=0.1).start()
    assert not client.wait_connected(0.3)
    sw = Switch(port=port, speed=10.0).start()
    try:
        assert client.wait_connected(5)
        assert client.api("status").startswith("UP ")
    finally:
        client.stop()
        sw.stop()


def test_silent_connection_is_declared_dead(sw: Switch, caplog) -> None:
    caplog.set_level(logging.WARNING, "fsapps.esl")
    client = InboundClient(
        "127.0.0.1", sw.port, "ClueCon", events=["CHANNEL_CREATE"], heartbeat_timeout=0.3, backoff_min=0.05
    )
    connects: list[int] = []
    client.on_connect.append(lambda conn: connects.append(1))
    client.events.append("HEARTBEAT")
    client.start()
    # The emulator's heartbeat is every 20 virtual seconds (2 s here): silence first.
    sw.wait_for(lambda: len(connects) >= 2, timeout=5)
    assert any("nothing heard" in r.message for r in caplog.records)
    client.stop()


def test_malformed_frame_closes_the_connection(caplog) -> None:
    caplog.set_level(logging.ERROR, "fsapps.esl")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def fake_switch() -> None:
        conn, _ = server.accept()
        conn.sendall(b"Content-Type: auth/request\n\n")
        conn.recv(1024)
        conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        conn.recv(1024)
        conn.sendall(b"Content-Type: api/response\nContent-Length: banana\n\n")
        gevent.sleep(1)
        conn.close()

    g = gevent.spawn(fake_switch)
    c = Connection("127.0.0.1", server.getsockname()[1], "x")
    c.connect()
    with pytest.raises(ConnectionLost):
        c.api("status", timeout=5)
    assert c.protocol_error is not None
    assert any("protocol error" in r.message for r in caplog.records)
    g.kill()
    server.close()


def test_unmodified_greenswitch_inbound(sw: Switch) -> None:
    """greenswitch, written against the real switch, works against the emulator as it is."""
    esl = gs.InboundESL("127.0.0.1", sw.port, "ClueCon")
    esl.connect()
    assert esl.send("api status").data.startswith("UP ")
    names: list[str] = []
    esl.register_handle("CHANNEL_ANSWER", lambda e: names.append(e.headers["Event-Name"]))
    esl.register_handle("BACKGROUND_JOB", lambda e: names.append("BACKGROUND_JOB"))
    assert esl.send("event plain CHANNEL_ANSWER BACKGROUND_JOB").data == "+OK event listener enabled plain"
    reply = esl.send("bgapi status")
    assert reply.headers["Reply-Text"].startswith("+OK Job-UUID: ")
    ch = sw.place_call("9999", script=CallerScript())
    ch.destroyed.wait(10)
    sw.wait_for(lambda: "CHANNEL_ANSWER" in names and "BACKGROUND_JOB" in names, timeout=5)
    esl.stop()
