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
"""

from __future__ import annotations

import contextlib
import logging
import uuid as uuidlib
from collections.abc import Callable
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


class CallerHungUp(gs.OutboundSessionHasGoneAway):
    """The call is over: the caller (or the switch) hung up, or the socket went away."""


class OutboundCall(FramedProtocol, gs.OutboundSession):
    def __init__(self, address: tuple[str, int], sock: socket.socket) -> None:
        self._init_framing()
        self._pending: dict[str, AsyncResult] = {}
        self.dtmf: gevent.queue.Queue[str] = gevent.queue.Queue()
        self.hangup_cause: str | None = None
        self.variables: dict[str, str] = {}
        self.answered = False  # from the connect reply's Answer-State, then CHANNEL_ANSWER
        self.hungup = gevent.event.Event()
        # Called with CHANNEL_BRIDGE / CHANNEL_UNBRIDGE (the ACD marks the agent answered).
        self.bridge_watchers: list[Callable[[codec.Event], None]] = []
        # The switch's clock (Event-Date-Timestamp, µs): when the call was handed
        # over and the latest moment heard of, so durations agree with its CDRs.
        self.connected_us = 0
        self.last_event_us = 0
        self.peer = address
        gs.OutboundSession.__init__(self, address, sock)
        self.session_data: codec.Headers | None = None

    # --- lifecycle -------------------------------------------------------------

    def connect(self) -> codec.CommandReply:
        reply = self.send("connect")
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            raise ConnectionLost(f"connect refused: {reply!r}")
        self.session_data = reply.headers
        self.answered = reply.headers.get("Answer-State") == "answered"
        self.connected_us = self.last_event_us = int(reply.headers.get("Event-Date-Timestamp") or 0)
        for name in reply.headers:
            if name.startswith("variable_"):
                self.variables[name[9:]] = reply.headers[name]
        self._outbound_connected = True
        return reply

    def myevents(self) -> None:
        self._ok(self.send("myevents"))

    def linger(self, timeout: int | None = None) -> None:
        self._ok(self.send("linger" if timeout is None else f"linger {timeout}"))

    def resume(self) -> None:
        """Let the dialplan go on when this socket closes (mod_event_socket.c:2001)."""
        self._ok(self.send("resume"))

    def release(self) -> None:
        """Hand the call back to the dialplan: its next action runs.

        ``resume`` puts the channel in CS_RESET when the socket closes, which
        ends the socket app's park even if the park had not begun yet; a bare
        close can leave the caller parked for good (switch_ivr_park sets
        CF_CONTROLLED again if the listener is already gone).
        """
        if not self.connected:
            return
        with contextlib.suppress(ConnectionLost, CommandTimeout, RuntimeError):
            self.resume()
        self.finish()

    def finish(self) -> None:
        """Say goodbye (``exit``) and close the socket."""
        if self.connected:
            with contextlib.suppress(ConnectionLost, CommandTimeout):
                self.send("exit", timeout=5)
        self._run = False
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
        return self.variables.get("uuid") or self.channel_data("Unique-ID")

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
            for key in event.fields:
                if key.startswith("variable_"):
                    self.variables[key[9:]] = event.fields[key]
        if name == "CHANNEL_EXECUTE_COMPLETE":
            waiter = self._pending.pop(event.get("Application-UUID") or "", None)
            if waiter is not None:
                waiter.set(event)
        elif name == "DTMF":
            self.dtmf.put(event.get("DTMF-Digit") or "")

    def on_bridge(self, event: codec.Event) -> None:
        self.on_event(event)
        for watcher in list(self.bridge_watchers):
            watcher(event)

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

    def _init_handlers(self) -> None:
        self.event_handlers.clear()
        for name in ("CHANNEL_EXECUTE_COMPLETE", "DTMF", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"):
            self.register_handle(name, self.on_event)
        self.register_handle("CHANNEL_HANGUP", self.on_hangup)
        for name in ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"):
            self.register_handle(name, self.on_bridge)
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


Application = Callable[[OutboundCall], Any]


class OutboundServer:
    """Accepts the switch's socket connections and runs one greenlet per call.

    ``handler(call)`` runs after connect, myevents and linger. More than
    ``max_connections`` calls at once: the extra call is handed back to the
    dialplan at once (``resume``), never left waiting in silence.
    """

    def __init__(
        self,
        handler: Application,
        host: str = "127.0.0.1",
        port: int = 8084,
        *,
        max_connections: int = 1000,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.max_connections = max_connections
        self.calls: set[OutboundCall] = set()
        self.accepted = 0
        self.rejected = 0
        self._server: StreamServer | None = None
        self._greenlets: set[gevent.Greenlet] = set()

    def start(self) -> OutboundServer:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))  # raises OSError: the caller decides, no sys.exit
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        self._server = StreamServer(sock, self._accept)
        self._server.start()
        log.info("outbound Event Socket server listening on %s:%s", self.host, self.port)
        return self

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        call = OutboundCall(address, sock)
        call._init_handlers()
        self._greenlets.add(gevent.getcurrent())
        try:
            call.connect()
            if len(self.calls) >= self.max_connections or self._server is None:
                self.rejected += 1
                log.warning(
                    "call %s refused: %d calls in progress (max %d); back to the dialplan",
                    call.uuid,
                    len(self.calls),
                    self.max_connections,
                )
                call.release()
                return
            self.calls.add(call)
            self.accepted += 1
            call.myevents()
            call.linger()
            self.handler(call)
        except CallerHungUp:
            log.info("call %s ended under its application", call.uuid)
        except (ConnectionLost, CommandTimeout) as exc:
            log.warning("call %s: Event Socket failure: %s", call.uuid or address, exc)
        except Exception:
            log.exception("call %s: application crashed; handing the call back to the dialplan", call.uuid)
            call.release()
        finally:
            self.calls.discard(call)
            self._greenlets.discard(gevent.getcurrent())
            if call.connected:
                call.finish()

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
