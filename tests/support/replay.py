"""Replay a recorded Event Socket conversation against fsapps.sim.

The client side of each trace (what the recorder sent) is sent again; what
comes back is compared with what the real FreeSWITCH sent: the same frames,
content types, reply texts, event names in the same order, and the same
header names. Values that identify a run (UUIDs, timestamps, sequence
numbers, hostnames) are not compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import gevent
from gevent import socket

from fsapps.esl.codec import ApiResponse, CommandReply, Event, Message, MessageReader
from fsapps.sim.dialplan import StaticDialplan
from tests.support.traces import Trace

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Deliberate differences between the emulator and FreeSWITCH 1.10.12, with
# their reasons. The fidelity tests ignore exactly these and nothing else.
DELIBERATE = {
    "api status body": "uptime, session counts and idle CPU describe the running process",
    "api version body": "the emulator reports the version it copies; build details are not emulated",
    "variable_* headers": "which variables exist depends on SIP/RTP details (sofia, RTP stats, "
    "SDP) the emulator does not carry; the ones fsapps reads are checked separately",
    "CODEC/CHANNEL_STATE/... Channel-Presence-*": "presence is not emulated",
    "no CHANNEL_DESTROY on a lingering outbound socket": "as on the switch: the session is "
    "destroyed only after the socket closes",
    # The acceptance scenarios' conversations (tests/support/sequences.py):
    "uuid_break retries": "the real switch's session thread starts a queued execute up to a few "
    "ms later, and a uuid_break that arrives first is lost (switch_core_session_exec clears "
    "CF_BREAK); the emulator starts it at once. The queue breaks hold music again until the clip "
    "completes, so how many breaks it sends is timing, not behaviour",
    "completions of queued executes": "the real switch replies +OK to an execute at once and "
    "runs it on the session thread later, so commands sent back to back can all be answered "
    "before the first completes; the emulator runs each as it is queued. Completions keep "
    "their order among the events; only their place among the controller's commands moves",
    "RFC2822_DATE exported": "the real switch runs the vanilla public context's first extension "
    "(export RFC2822_DATE) before the tenant's; the emulator loads only the rendered files",
    "agents' phones": "sipp phones reached by SIP URI on the real switch, registered users in "
    "the emulator: the dial strings differ after the channel variables",
    "hold music between offers": "whether the queue starts a hold clip before an agent's offer "
    "reaches it, and breaks it, is the controller's own millisecond timing on either switch",
    "the hangup's tail": "mod_event_socket sends a lingering socket's disconnect notice on the "
    "listener's first pass that finds the channel down (mod_event_socket.c:1465), after whatever "
    "events were queued by then: right after CHANNEL_HANGUP when a bridge still has to unwind, "
    "even before CHANNEL_HANGUP when the channel is down before that event is queued (seen once "
    "on 1.10.12), after CHANNEL_HANGUP_COMPLETE in the recorded traces; the emulator always sends it after "
    "CHANNEL_HANGUP_COMPLETE. The controller, its flow over, says exit on the notice, so whether "
    "CHANNEL_EXECUTE_COMPLETE socket and CHANNEL_HANGUP_COMPLETE still reach it is that race",
    "the bridged caller's socket_resume": "the queue turns socket_resume off as it sees the caller "
    "bridged to an agent, from its event loop, so that the call outlives the controller; where the "
    "command and its reply fall among the call's other events (a digit, say) is that timing",
    "digits after the hangup": "a digit keyed while an agent's phone rings waits in the channel's "
    "queue (its DTMF event fires when an application dequeues it, switch_channel.c:677); seen on "
    "1.10.12, a digit still queued when the caller hangs up is fired after the bridge completes, "
    "while the emulator drops it. fsapps reads digits only from callers still on the line",
}

# Headers whose *presence* depends on things the emulator does not model.
IGNORED_HEADERS = re.compile(r"^(variable_.*|scope_variable_.*|Channel-Presence-.*|Presence-Data-Cols)$")


@dataclass
class Frame:
    kind: str  # content type
    name: str  # event name, reply text (normalised) or api body (normalised)
    headers: frozenset[str]

    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def _norm(text: str) -> str:
    return UUID.sub("<uuid>", text).strip()


def frame_of(msg: Message, *, api_bodies: bool = True) -> Frame:
    if isinstance(msg, Event):
        names = frozenset(k for k in msg.fields if not IGNORED_HEADERS.match(k))
        return Frame(msg.content_type, msg.name, names)
    if isinstance(msg, CommandReply):
        text = msg.reply_text
        if "Event-Name" in msg.headers:  # the outbound connect reply is a CHANNEL_DATA event
            names = frozenset(k for k in msg.headers if not IGNORED_HEADERS.match(k))
            return Frame(msg.content_type, _norm(text), names)
        return Frame(msg.content_type, _norm(text), frozenset(msg.headers))
    if isinstance(msg, ApiResponse):
        body = _norm(msg.text) if api_bodies else "<body>"
        return Frame(msg.content_type, body, frozenset(msg.headers))
    return Frame(msg.content_type, _norm(msg.text), frozenset(msg.headers))


def vanilla_dialplan(controller: tuple[str, int] | None = None) -> StaticDialplan:
    """The extensions the recordings dialled, as the vanilla configuration runs them."""
    prelude = [
        ("set", "outside_call=true"),
        ("export", "RFC2822_DATE=${strftime(%a, %d %b %Y %T %z)}"),
    ]
    dp = StaticDialplan()
    dp.add(
        "public",
        r"^9999$",
        [
            *prelude,
            ("answer", ""),
            ("playback", "tone_stream://L=3;%(500,500,440)"),
            ("hangup", "NORMAL_CLEARING"),
        ],
    )
    if controller is not None:
        host, port = controller
        dp.add("public", r"^9998$", [*prelude, ("socket", f"{host}:{port} async full")])
    return dp


class Peer:
    """One ESL connection from the test side, collecting what the emulator sends."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = MessageReader()
        self.messages: list[Message] = []
        self.closed = False
        self._g = gevent.spawn(self._pump)

    def _pump(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return
            self.messages += self.reader.feed(data)

    def wait_count(self, n: int, timeout: float) -> None:
        with gevent.Timeout(timeout, False):
            while len(self.messages) < n and not self.closed:
                gevent.sleep(0.005)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


def recorded_messages(trace: Trace, conn: int) -> list[Message]:
    reader = MessageReader()
    out: list[Message] = []
    for ln in trace.lines:
        if ln.conn == conn and ln.dir == "from_fs" and not ln.eof:
            out += reader.feed(ln.data)
    return out


def _job_uuids(msgs: list[Message]) -> dict[str, str]:
    """Job-Command-Arg -> the uuid its BACKGROUND_JOB returned."""
    out = {}
    for m in msgs:
        if isinstance(m, Event) and m.name == "BACKGROUND_JOB":
            found = UUID.search(m.payload)
            if found:
                out[m.get("Job-Command-Arg") or ""] = found.group(0)
    return out


def replay(
    trace: Trace,
    conn: int,
    address: tuple[str, int] | None = None,
    *,
    sock: socket.socket | None = None,
    on_note: Callable[[str], None] | None = None,
    timeout: float = 15.0,
    password: str = "ClueCon",
) -> tuple[list[Message], list[Message]]:
    """Send the recorded client writes, each once as many messages have come
    back as the recorder had seen before it; return (recorded, received)."""
    want = recorded_messages(trace, conn)
    peer = Peer(sock if sock is not None else socket.create_connection(address))
    reader = MessageReader()
    recorded_so_far = 0
    for ln in trace.lines:
        if ln.dir == "note":
            if on_note is not None:
                peer.wait_count(recorded_so_far, timeout)
                on_note(ln.data.decode())
            continue
        if ln.conn != conn:
            continue
        if ln.dir == "from_fs":
            if not ln.eof:
                recorded_so_far += len(reader.feed(ln.data))
            continue
        peer.wait_count(recorded_so_far, timeout)
        text = ln.data.decode()
        if text.startswith("auth ClueCon"):
            text = f"auth {password}\n\n"  # the recording's password, this run's switch
        theirs, ours = _job_uuids(want), _job_uuids(peer.messages)
        for arg, old in theirs.items():
            if arg in ours:
                text = text.replace(old, ours[arg])
        peer.send(text.encode())
    peer.wait_count(len(want), timeout)
    with gevent.Timeout(2, False):
        while not peer.closed:
            gevent.sleep(0.01)
    peer.sock.close()
    return want, peer.messages


def _channel_roles(msgs: list[Message]) -> dict[str, str]:
    # The real switch fires the two legs of an originate from different
    # threads, so which leg's first event arrives first varies from run to
    # run; a channel is named by its direction and its order among channels
    # of that direction, which both switches keep stable.
    roles: dict[str, str] = {}
    per_direction: dict[str, int] = {}
    for m in msgs:
        if isinstance(m, Event) and m.uuid and m.uuid not in roles:
            direction = m.get("Call-Direction") or "?"
            n = per_direction.get(direction, 0) + 1
            per_direction[direction] = n
            roles[m.uuid] = f"{direction} {n}"
    return roles


def compare(want: list[Message], got: list[Message], *, api_bodies: tuple[str, ...] = ()) -> list[str]:
    """Differences that matter: replies in order, each channel's events in
    order with the same header names, other events in order."""
    diffs: list[str] = []

    def replies(msgs: list[Message]) -> list[Frame]:
        out = []
        for m in msgs:
            if isinstance(m, Event):
                continue
            f = frame_of(m)
            if isinstance(m, ApiResponse) and any(f.name.startswith(p) or p == "*" for p in api_bodies):
                f = Frame(f.kind, "<body>", f.headers)
            out.append(f)
        return out

    rw, rg = replies(want), replies(got)
    if [f.key() for f in rw] != [f.key() for f in rg]:
        diffs.append(f"replies differ:\n  real: {[f.key() for f in rw]}\n  sim:  {[f.key() for f in rg]}")
    else:
        for a, b in zip(rw, rg, strict=True):
            if a.headers != b.headers:
                diffs.append(
                    f"{a.key()} headers: real-only {sorted(a.headers - b.headers)}, "
                    f"sim-only {sorted(b.headers - a.headers)}"
                )

    def events(msgs: list[Message]) -> dict[object, list[Event]]:
        roles = _channel_roles(msgs)
        out: dict[object, list[Event]] = {}
        for m in msgs:
            if isinstance(m, Event):
                key: object = roles[m.uuid] if m.uuid else "global"
                out.setdefault(key, []).append(m)
        return out

    ew, eg = events(want), events(got)
    for key in sorted(set(ew) | set(eg), key=str):
        real_events, sim_events = ew.get(key, []), eg.get(key, [])
        na, nb = [e.name for e in real_events], [e.name for e in sim_events]
        if key == "global":
            na = [n for n in na if n != "HEARTBEAT"]
            nb = [n for n in nb if n != "HEARTBEAT"]
        if na != nb:
            diffs.append(f"channel {key} events differ:\n  real: {na}\n  sim:  {nb}")
            continue
        for x, y in zip(
            [e for e in real_events if e.name != "HEARTBEAT"],
            [e for e in sim_events if e.name != "HEARTBEAT"],
            strict=True,
        ):
            fx, fy = frame_of(x), frame_of(y)
            if fx.headers != fy.headers:
                app = x.get("Application") or ""
                diffs.append(
                    f"channel {key} {x.name} {app}: real-only {sorted(fx.headers - fy.headers)}, "
                    f"sim-only {sorted(fy.headers - fx.headers)}"
                )
    return diffs
