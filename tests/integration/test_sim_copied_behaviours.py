"""Behaviours the README says the emulator copies from FreeSWITCH on purpose, seen as a
controller sees them: over TCP, through the emulator's Event Socket.

- A queued ``sendmsg`` without ``event-lock`` runs nested inside the running application
  (switch_ivr_parse_all_events is called from inside the application's wait); with
  ``event-lock`` it waits for the application to finish (switch_ivr.c, parse_event).
- A listener that does not read is disconnected once its event queue is full and 500 more
  events in a row are lost (mod_event_socket.c:35-36, 400-402).
"""

from __future__ import annotations

from gevent import socket

from fsapps.esl import codec
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch, SwitchConfig
from tests.support.waiting import wait_for

LONG, SHORT = "silence_stream://3000", "silence_stream://200"


class Peer:
    """A raw Event Socket peer: send commands, read what the switch sends, frame by frame."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = codec.MessageReader()
        self.pending: list[codec.Message] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next(self, timeout: float = 10.0) -> codec.Message | None:
        """The next frame, or None once the switch closed the socket."""
        self.sock.settimeout(timeout)
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.pending += self.reader.feed(data)
        return self.pending.pop(0)


def executes(lock: bool) -> list[str]:
    """The controller of a call sends a long playback, then a short one, each a sendmsg
    execute, the second while the first plays; the order the switch runs them in."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    dp = StaticDialplan().add("public", r"^1000$", [("socket", f"127.0.0.1:{port} async full")])
    sw = Switch(dialplan=dp, speed=10.0).start()
    try:
        ch = sw.place_call("1000", script=CallerScript())
        sock, _ = server.accept()
        peer = Peer(sock)
        peer.send(b"connect\n\n")
        assert isinstance(peer.next(), codec.CommandReply)
        peer.send(b"myevents\n\n")
        assert isinstance(peer.next(), codec.CommandReply)
        locked = [("event-lock", "true")] if lock else []
        for i, what in enumerate((LONG, SHORT)):
            headers = [("execute-app-name", "playback"), ("event-uuid", f"play-{i}"), *locked]
            peer.send(codec.encode_sendmsg("execute", headers, app_arg=what))
        order: list[str] = []
        while len([o for o in order if o.startswith("done")]) < 2:
            msg = peer.next()
            assert msg is not None, order
            if isinstance(msg, codec.Event) and msg.get("Application") == "playback":
                if msg.name == "CHANNEL_EXECUTE":
                    order.append(f"start {msg.get('Application-Data')}")
                elif msg.name == "CHANNEL_EXECUTE_COMPLETE":
                    order.append(f"done {msg.get('Application-Data')}")
        sock.close()
        sw.api("uuid_kill", ch.uuid)
        return order
    finally:
        server.close()
        sw.stop()


def test_a_queued_sendmsg_without_event_lock_runs_nested_inside_the_running_application() -> None:
    assert executes(lock=False) == [f"start {LONG}", f"start {SHORT}", f"done {SHORT}", f"done {LONG}"]
    assert executes(lock=True) == [f"start {LONG}", f"done {LONG}", f"start {SHORT}", f"done {SHORT}"]


def test_a_listener_that_stops_reading_is_disconnected_after_500_lost_events() -> None:
    """The switch's queue is made small (the real one holds 100,000 events) so that the peer's
    socket buffers, not the queue, are what take time to fill. Whatever fired the event that
    killed the listener goes on."""
    queue = 20
    sw = Switch(SwitchConfig(max_event_queue=queue, password="ClueCon")).start()
    try:
        peer = Peer(socket.create_connection(("127.0.0.1", sw.port)))
        assert isinstance(peer.next(), codec.AuthRequest)
        peer.send(b"auth ClueCon\n\n")
        assert isinstance(peer.next(), codec.CommandReply)
        peer.send(b"event plain CUSTOM fsapps::filler\n\n")
        assert isinstance(peer.next(), codec.CommandReply)
        [listener] = sw.listeners
        body = "x" * 4000  # fills the socket buffers in fewer events
        fired = 0

        def fire_until_killed() -> bool:
            nonlocal fired
            for _ in range(200):
                ev = sw.new_event("CUSTOM", subclass="fsapps::filler")
                ev.add("Event-Subclass", "fsapps::filler")
                ev.body = body
                sw.fire(ev)
                fired += 1
            return not listener.running

        # The peer reads nothing meanwhile.
        assert wait_for(fire_until_killed, timeout=60), (fired, listener.lost, len(listener.queue))
        assert listener.lost == 501  # the 501st lost event in a row is the one that kills it
        assert wait_for(lambda: listener not in sw.listeners)
        # The peer, reading at last, gets what had been sent, then the end of the stream.
        got: list[codec.Message] = []
        while (msg := peer.next()) is not None:
            got.append(msg)
        delivered = [m for m in got if isinstance(m, codec.Event)]
        assert 0 < len(delivered) <= fired - 501 - queue  # the lost and the never-sent
    finally:
        sw.stop()
