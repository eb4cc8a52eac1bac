"""The outbound Event Socket server: the dialplan's ``socket`` app connects here.

``OutboundCall`` is greenswitch's ``OutboundSession`` with fsapps' framing
(fsapps.esl.protocol) and a different way to run applications:
greenswitch's blocking helpers wait for a CHANNEL_EXECUTE_COMPLETE whose
``variable_current_application`` matches, which FreeSWITCH leaves stale (a
park completion reports playback); here every execute carries its own
Event-UUID and waits for the completion with that Application-UUID, and
carries ``event-lock: true`` so a queued command cannot cut a running one
short (../shared/FACTS.md).

``OutboundServer`` replaces greenswitch's ``OutboundESLServer``, whose
accept loop polls with 100 ms sleeps and calls ``sys.exit()`` when it
cannot bind: a gevent StreamServer accepts at once, binding errors raise,
and a connection over the cap is handed straight back to the dialplan.

Whoever connects is taken for the switch handing over a call, so the server
trusts no more than it must: a peer outside ``allow_from`` is closed at
once, and so is a socket over the cap on sockets in any state
(``max_connections`` calls plus ``max_pending`` handshakes), both with
``resume`` and ``exit`` written unread so that a real switch's caller goes on
in the dialplan; the handshake (connect, myevents, linger) must be answered within
``connect_timeout`` seconds, and a peer's frames are read with limits that
keep what it can make us buffer to about a megabyte.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import gevent
import gevent.event
import gevent.queue
from gevent import socket
from gevent.event import AsyncResult
from gevent.server import StreamServer
from greenswitch import esl as gs

from fsapps.esl import codec
from fsapps.esl.protocol import CommandTimeout, ConnectionLost, FramedProtocol

log = logging.getLogger("fsapps.esl")

# Who may hand calls over by default: this host only (the switch beside the controller).
LOOPBACK = ("127.0.0.0/8", "::1")
# What one outbound peer may make its reader buffer. The largest frames recorded from
# FreeSWITCH 1.10 on an outbound socket are a 5.4 kB connect reply (its header block
# carries every channel variable) and 9.3 kB event bodies (../shared/fs-traces).
# The events an outbound call's handlers read (OutboundCall._init_handlers); the rest of
# myevents is taken back with nixevent at take-over.
HANDLED = (
    "CHANNEL_EXECUTE_COMPLETE", "DTMF", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP", "BACKGROUND_JOB", "CHANNEL_PARK",
)  # fmt: skip
OUTBOUND_MAX_HEADER = 256 << 10
OUTBOUND_MAX_BODY = 1 << 20

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(specs: Iterable[str]) -> tuple[Network, ...]:
    """``127.0.0.0/8``, ``::1``, ``10.1.2.3``: raises ValueError naming a bad one."""
    out = []
    for spec in specs:
        try:
            out.append(ipaddress.ip_network(str(spec).strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {spec!r}") from None
    return tuple(out)


def peer_allowed(host: str, allowed: Iterable[Network]) -> bool:
    """Whether a peer address is inside one of ``allowed``. An IPv4 peer on a
    dual-stack socket shows as ``::ffff:a.b.c.d`` and is matched as IPv4."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in allowed)


class ChannelVariables(MutableMapping[str, str]):
    """A call's channel variables as last heard, decoded only when read.

    Every channel event carries all of the channel's variables (~100 headers); decoding
    them all for each of a call's events was the controller's biggest cost at 30 calls/s
    (bench/realswitch.py --profile). The latest event that carries them is kept and a
    variable decoded when read; what this process set since (``call.variables[k] = v``)
    wins until an event says otherwise; a variable the switch unset is gone from the
    latest event, and so gone here (the old copy kept a stale value)."""

    __slots__ = ("_latest", "_set")

    def __init__(self) -> None:
        self._latest: Mapping[str, str] | None = None
        self._set: dict[str, str] = {}

    def heard(self, headers: Mapping[str, str]) -> None:
        self._latest = headers
        for name in [n for n in self._set if "variable_" + n in headers]:
            del self._set[name]  # the switch's word is newer

    def __getitem__(self, name: str) -> str:
        if name in self._set:
            return self._set[name]
        if self._latest is not None:
            return self._latest["variable_" + name]
        raise KeyError(name)

    def __setitem__(self, name: str, value: str) -> None:
        self._set[name] = value

    def __delitem__(self, name: str) -> None:
        self._set[name] = ""  # unset, as the switch's empty value is

    def _names(self) -> set[str]:
        names = set(self._set)
        if self._latest is not None:
            names.update(k[9:] for k in self._latest if k.startswith("variable_"))
        return names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


class CallerHungUp(gs.OutboundSessionHasGoneAway):
    """The call is over: the caller (or the switch) hung up, or the socket went away."""


class OutboundCall(FramedProtocol, gs.OutboundSession):
    def __init__(self, address: tuple[str, int], sock: socket.socket) -> None:
        self._init_framing(OUTBOUND_MAX_HEADER, OUTBOUND_MAX_BODY)
        self._pending: dict[str, AsyncResult] = {}
        self.dtmf: gevent.queue.Queue[str] = gevent.queue.Queue()
        self.hangup_cause: str | None = None
        self.variables = ChannelVariables()
        self.answered = False  # from the connect reply's Answer-State, then CHANNEL_ANSWER
        self.hungup = gevent.event.Event()
        # Set while the call must outlive this socket (a caller bridged to an agent): closing
        # it then says no ``resume``, so the switch leaves the channel where it is.
        self.keep_on_close = False
        # Whoever follows this call's events (subscribe).
        self._subscribers: list[Callable[[codec.Event | None], None]] = []
        self._gone = False  # the socket closed: subscribers were told
        self._bg_events = False  # the socket listens for BACKGROUND_JOB (bgapi)
        # The switch's clock (Event-Date-Timestamp, µs): when the call was handed
        # over and the latest moment heard of, so durations agree with its CDRs.
        self.connected_us = 0
        self.last_event_us = 0
        # This host's clock (time.time()): when the connection was accepted and the switch
        # answered ``connect`` (fsapps.acd.timeline reads them beside the switch's events).
        self.accepted_at = time.time()
        self.connected_at = 0.0
        self.peer = address
        gs.OutboundSession.__init__(self, address, sock)
        self.session_data: codec.Headers | None = None

    # --- lifecycle -------------------------------------------------------------

    def connect(self, timeout: float | None = None) -> codec.CommandReply:
        reply = self.send("connect", timeout=timeout)
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            raise ConnectionLost(f"connect refused: {reply!r}")
        self.session_data = reply.headers
        self.answered = reply.headers.get("Answer-State") == "answered"
        self.connected_us = self.last_event_us = int(reply.headers.get("Event-Date-Timestamp") or 0)
        self.connected_at = time.time()
        self.variables.heard(reply.headers)
        self._outbound_connected = True
        return reply

    def myevents(self, *, reply_timeout: float | None = None) -> None:
        self._ok(self.send("myevents", timeout=reply_timeout))

    def take_over(self, *, reply_timeout: float | None = None) -> None:
        """``myevents``, less the events no handler here reads, then ``linger``: one write,
        one round trip. Every event the switch sends is a copy of the channel with every
        variable, serialized there and parsed here; myevents alone subscribes to 23 kinds
        (mod_event_socket.c:2096-2118), ``nixevent`` takes kinds back off (:2539-2590)."""
        unread = sorted(codec.MYEVENTS - set(HANDLED))
        commands = ["myevents", f"nixevent {' '.join(unread)}", "linger"]
        for reply in self.send_pipelined(commands, reply_timeout):
            self._ok(reply)

    def linger(self, timeout: int | None = None, *, reply_timeout: float | None = None) -> None:
        self._ok(self.send("linger" if timeout is None else f"linger {timeout}", timeout=reply_timeout))

    def resume(self, *, reply_timeout: float | None = None) -> None:
        """Let the dialplan go on when this socket closes (mod_event_socket.c:2001)."""
        self._ok(self.send("resume", timeout=reply_timeout))

    def release(self, reply_timeout: float | None = None) -> None:
        """Hand the call back to the dialplan: its next action runs.

        ``resume`` puts the channel in CS_RESET when the socket closes, which
        ends the socket app's park even if the park had not begun yet; a bare
        close can leave the caller parked for good (switch_ivr_park sets
        CF_CONTROLLED again if the listener is already gone).
        """
        if not self.connected:
            return
        if self.keep_on_close:
            self.finish()
            return
        try:
            self.resume(reply_timeout=reply_timeout)
        except CommandTimeout:
            self.drop()  # a peer that does not answer resume would not answer exit either
            return
        except (ConnectionLost, RuntimeError):
            pass
        self.finish()

    def finish(self) -> None:
        """Say goodbye (``exit``) and close the socket."""
        if self.connected:
            with contextlib.suppress(ConnectionLost, CommandTimeout):
                self.send("exit", timeout=5)
        self.drop()

    def drop(self) -> None:
        """Close the socket without a word."""
        self._run = False
        self.connected = False
        self.close_socket()

    @staticmethod
    def _ok(reply: codec.Message) -> None:
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            raise RuntimeError(f"command refused: {getattr(reply, 'reply_text', reply)!r}")

    # --- properties the applications read ----------------------------------------

    def channel_data(self, name: str) -> str:
        """A header of the connect reply (the channel as it was handed over)."""
        return self.session_data.get(name, "") if self.session_data is not None else ""

    @property
    def uuid(self) -> str:
        # The switch's own Unique-ID, never a ${uuid} variable a flow could have set.
        return self.channel_data("Unique-ID")

    @property
    def caller_id_number(self) -> str:
        return self.channel_data("Caller-Caller-ID-Number")

    @property
    def destination_number(self) -> str:
        return self.channel_data("Caller-Destination-Number")

    @property
    def ready(self) -> bool:
        return self.connected and self.hangup_cause is None

    # --- events ----------------------------------------------------------------

    def on_event(self, event: codec.Event) -> None:
        name = event.name
        stamp = event.get("Event-Date-Timestamp")
        if stamp and stamp.isdigit():
            self.last_event_us = max(self.last_event_us, int(stamp))
        if name == "CHANNEL_ANSWER":
            self.answered = True
        if name in (
            "CHANNEL_EXECUTE_COMPLETE",
            "CHANNEL_HANGUP",
            "CHANNEL_HANGUP_COMPLETE",
            "CHANNEL_ANSWER",
        ):
            self.variables.heard(event.fields)
        if name == "CHANNEL_EXECUTE_COMPLETE":
            waiter = self._pending.pop(event.get("Application-UUID") or "", None)
            if waiter is not None:
                waiter.set(event)
        elif name == "DTMF":
            self.dtmf.put(event.get("DTMF-Digit") or "")
        for deliver in list(self._subscribers):
            deliver(event)

    def subscribe(self, deliver: Callable[[codec.Event | None], None]) -> Callable[[], None]:
        """Hand ``deliver`` every event this call hears from now on, after the call's own
        bookkeeping (variables, hangup cause, the executes waited on), in the order heard,
        then ``None`` once the socket is gone (at once if it is gone already). ``deliver``
        runs on the connection's event loop: it must not block (a queue's ``put``).
        Returns what ends the subscription."""
        self._subscribers.append(deliver)
        if self._gone:
            deliver(None)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(deliver)

        return unsubscribe

    def on_hangup(self, event: codec.Event) -> None:
        self.hangup_cause = event.get("Hangup-Cause") or "NORMAL_CLEARING"
        self._outbound_connected = False
        self.hungup.set()
        self.on_event(event)

    def on_disconnect(self, notice: codec.DisconnectNotice | None = None) -> None:
        if notice is not None and notice.lingering:
            return  # the switch keeps the socket for us: events still arrive
        self._outbound_connected = False
        self.hungup.set()
        err = CallerHungUp(self.hangup_cause or "socket closed")
        pending, self._pending = self._pending, {}
        for waiter in pending.values():
            waiter.set_exception(err)
        if not self._gone:
            self._gone = True
            for deliver in list(self._subscribers):
                deliver(None)

    def _init_handlers(self) -> None:
        self.event_handlers.clear()
        for name in HANDLED:
            if name != "CHANNEL_HANGUP":
                self.register_handle(name, self.on_event)
        self.register_handle("CHANNEL_HANGUP", self.on_hangup)
        self.register_handle("DISCONNECT", self.on_disconnect)
        self.register_handle("DISCONNECTED", lambda _: self.on_disconnect(None))

    # --- applications ------------------------------------------------------------

    def execute(self, app: str, arg: str | None = None, *, timeout: float | None = None) -> codec.Event:
        """Run a dialplan application and return its CHANNEL_EXECUTE_COMPLETE.

        Raises CallerHungUp if the call is already over, or the socket goes away
        before the application completes.
        """
        app_uuid, waiter = self.execute_async(app, arg)
        try:
            return waiter.get(timeout=timeout)
        except gevent.Timeout as exc:
            raise CommandTimeout(f"{app} did not complete in {timeout}s") from exc
        finally:
            self._pending.pop(app_uuid, None)

    def execute_async(self, app: str, arg: str | None = None) -> tuple[str, AsyncResult]:
        """Start an application; its CHANNEL_EXECUTE_COMPLETE (or CallerHungUp) arrives
        in the returned AsyncResult. Hold music runs this way while the caller waits."""
        if not self.ready:
            raise CallerHungUp(self.hangup_cause or "not connected")
        app_uuid = str(uuidlib.uuid4())
        waiter: AsyncResult = AsyncResult()
        self._pending[app_uuid] = waiter
        raw = codec.encode_sendmsg(
            "execute",
            [("execute-app-name", app), ("event-lock", "true"), ("Event-UUID", app_uuid)],
            app_arg=arg,
        )
        try:
            self._ok(self.send(raw))
        except ConnectionLost as exc:
            self._pending.pop(app_uuid, None)
            raise CallerHungUp(str(exc)) from exc
        return app_uuid, waiter

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        if not self.ready:
            return
        with contextlib.suppress(ConnectionLost):
            self._ok(self.send(codec.encode_sendmsg("hangup", [("hangup-cause", cause)])))

    def api(self, command: str) -> str:
        """``api`` on this socket (needs ``socket ... full``)."""
        return self.send(f"api {command}").text

    def bgapi(self, command: str, job: str) -> None:
        """``bgapi`` on this socket (needs ``socket ... full``): its result comes as a
        BACKGROUND_JOB event with Job-UUID ``job`` to this call's subscribers. myevents
        passes it on (its Job-Owner-UUID is this call's, mod_event_socket.c:380) once the
        socket listens for BACKGROUND_JOB at all, which it is told the first time."""
        if not self._bg_events:
            self._ok(self.send("event plain BACKGROUND_JOB"))
            self._bg_events = True
        self._ok(self.send(codec.encode_command(f"bgapi {command}", [("Job-UUID", job)])))


Application = Callable[[OutboundCall], Any]


# Written, unread, to a connection closed at accept: if the peer is a switch handing a
# call over, ``resume`` (taken before ``connect``, mod_event_socket.c:2001) lets its
# dialplan go on when the socket closes (l.2811) instead of leaving the caller parked.
HAND_BACK = b"resume\n\nexit\n\n"


def hand_back_unread(sock: socket.socket) -> None:
    """One non-blocking write and no wait: a refused peer costs no greenlet."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(HAND_BACK)


class _Listener(StreamServer):
    """Admits or closes each connection before a greenlet is spent on it."""

    def __init__(self, sock: socket.socket, owner: OutboundServer) -> None:
        super().__init__(sock, owner._accept)
        self.owner = owner

    def do_handle(self, *args: Any) -> None:
        sock, address = args
        if not self.owner._admit(address):
            hand_back_unread(sock)
            self.do_close(sock, address)
            return
        try:
            super().do_handle(sock, address)
        except BaseException:
            self.owner.open_sockets -= 1  # never started: _accept will not count it out
            raise


class _Throttled:
    """A warning at most every ``every`` seconds, with how many were folded into it:
    a flood of refused peers must not flood the log."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._last = float("-inf")
        self._folded = 0

    def warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            self._folded += 1
            return
        folded, self._folded, self._last = self._folded, 0, now
        suffix = f" ({folded} more since the last warning)" if folded else ""
        log.warning(message + suffix, *args)


class OutboundServer:
    """Accepts the switch's socket connections and runs one greenlet per call.

    ``handler(call)`` runs after connect, myevents and linger. More than
    ``max_connections`` calls at once: the extra call is handed back to the
    dialplan at once (``resume``), never left waiting in silence. Sockets in
    any state are capped at ``max_connections + max_pending``: beyond that a
    connection is closed as soon as it is accepted, as is one from a peer
    outside ``allow_from``. The handshake must be answered within
    ``connect_timeout`` seconds.
    """

    def __init__(
        self,
        handler: Application,
        host: str = "127.0.0.1",
        port: int = 8084,
        *,
        max_connections: int = 1000,
        max_pending: int = 100,
        connect_timeout: float = 5.0,
        allow_from: Iterable[str] = LOOPBACK,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.max_connections = max_connections
        self.max_pending = max_pending
        self.connect_timeout = connect_timeout
        self.allow_from = networks(allow_from)
        self.calls: set[OutboundCall] = set()
        self.accepted = 0
        self.rejected = 0  # over max_connections: handed back to the dialplan
        self.open_sockets = 0
        self.refused_peers = 0  # not on the allow-list
        self.dropped = 0  # over the socket cap
        self._server: StreamServer | None = None
        self._greenlets: set[gevent.Greenlet] = set()
        self._refusals = _Throttled()
        self._drops = _Throttled()
        self._silent = _Throttled()

    @property
    def max_sockets(self) -> int:
        return self.max_connections + self.max_pending

    def start(self) -> OutboundServer:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))  # raises OSError: the caller decides, no sys.exit
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        self._server = _Listener(sock, self)
        self._server.start()
        log.info("outbound Event Socket server listening on %s:%s", self.host, self.port)
        return self

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _admit(self, address: tuple[str, int]) -> bool:
        """At accept, before anything is read or written: counts the socket in when admitted."""
        if not peer_allowed(address[0], self.allow_from):
            self.refused_peers += 1
            self._refusals.warn("connection from %s refused: not in controller.allow_from", address[0])
            return False
        if self.open_sockets >= self.max_sockets:
            self.dropped += 1
            self._drops.warn(
                "connection from %s closed: %d sockets open (max_connections %d + max_pending %d)",
                address[0],
                self.open_sockets,
                self.max_connections,
                self.max_pending,
            )
            return False
        self.open_sockets += 1
        return True

    def _accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        self._greenlets.add(gevent.getcurrent())
        call: OutboundCall | None = None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            call = OutboundCall(address, sock)
            call._init_handlers()
            self._run(call)
        finally:
            self.open_sockets -= 1
            self._greenlets.discard(gevent.getcurrent())
            if call is not None and call.connected:
                call.finish()

    def _run(self, call: OutboundCall) -> None:
        handshake = self.connect_timeout
        try:
            try:
                call.connect(timeout=handshake)
            except CommandTimeout:
                self._silent.warn("peer %s sent no connect reply in %gs: closed", call.peer[0], handshake)
                call.drop()
                return
            if len(self.calls) >= self.max_connections or self._server is None:
                self.rejected += 1
                log.warning(
                    "call %s refused: %d calls in progress (max %d); back to the dialplan",
                    call.uuid,
                    len(self.calls),
                    self.max_connections,
                )
                call.release(reply_timeout=handshake)
                return
            self.calls.add(call)
            self.accepted += 1
            try:
                call.take_over(reply_timeout=handshake)
            except CommandTimeout as exc:
                log.warning("call %s: %s; closed", call.uuid, exc)
                call.drop()
                return
            self.handler(call)
        except CallerHungUp:
            log.info("call %s ended under its application", call.uuid)
        except (ConnectionLost, CommandTimeout) as exc:
            log.warning("call %s: Event Socket failure: %s", call.uuid or call.peer[0], exc)
        except Exception:
            log.exception("call %s: application crashed; handing the call back to the dialplan", call.uuid)
            call.release()
        finally:
            self.calls.discard(call)

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting; let calls finish for ``grace`` seconds, then hand them back."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with gevent.Timeout(grace, False):
            while self.calls:
                gevent.sleep(0.05)
        for call in list(self.calls):
            log.info("call %s handed back to the dialplan at shutdown", call.uuid)
            call.release()
        gevent.joinall(list(self._greenlets), timeout=2)
