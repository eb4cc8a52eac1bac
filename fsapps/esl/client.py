"""The inbound Event Socket client: api, bgapi, events, reconnecting.

``Connection`` is greenswitch's ``InboundESL`` with fsapps' framing (see
fsapps.esl.protocol). ``InboundClient`` owns one connection at a time and
replaces it when it is lost: FreeSWITCH disconnects a listener that falls
500 events behind (mod_event_socket.c:35), and a switch restart closes it.
Loss is detected by the socket closing and by missing HEARTBEATs; each
reconnect re-subscribes and re-applies filters, then tells ``on_connect``
callbacks so they can resynchronise their view (``show channels``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable
from typing import Any

import gevent
import gevent.event
from gevent.event import AsyncResult
from greenswitch import esl as gs

from fsapps.esl import codec
from fsapps.esl.protocol import CommandTimeout, ConnectionLost, FramedProtocol

log = logging.getLogger("fsapps.esl")


class AuthenticationFailed(ConnectionLost):
    pass


class Connection(FramedProtocol, gs.InboundESL):
    """One authenticated inbound connection."""

    def __init__(self, host: str, port: int, password: str, timeout: float = 5.0) -> None:
        gs.InboundESL.__init__(self, host, port, password, timeout)
        self._init_framing()
        self._jobs: dict[str, AsyncResult] = {}
        self.format = "plain"
        self.subscribed: set[str] = set()
        self.register_handle("BACKGROUND_JOB", self._on_background_job)
        self.register_handle("DISCONNECTED", self._on_disconnected)

    def connect(self) -> None:
        """greenswitch's connect, with a bound on the auth/request wait."""
        from gevent import socket

        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConnectionLost(f"{self.host}:{self.port}: {exc}") from exc
        self.sock.settimeout(None)
        self.connected = True
        self.sock_file = self.sock.makefile("rb")
        self.start_event_handlers()
        if not self._auth_request_event.wait(self.timeout) or not self.connected:
            self.stop()
            raise ConnectionLost(f"{self.host}:{self.port}: no auth/request from the switch")
        if "\n" in self.password or "\r" in self.password:
            # encode_command would refuse it with the value in its message.
            self._drop()
            raise AuthenticationFailed(f"{self.host}:{self.port}: the password holds a line break")
        try:
            reply = self.send(f"auth {self.password}", timeout=self.timeout)
        except CommandTimeout:
            self._drop()  # no ``exit``: a switch that does not answer auth would not answer it either
            raise
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            self.stop()
            # The password is deliberately not part of the message.
            raise AuthenticationFailed(f"{self.host}:{self.port}: authentication refused")

    def _drop(self) -> None:
        self._run = False
        self.close_socket()

    def stop(self) -> None:
        if self.connected:
            with contextlib.suppress(ConnectionLost, CommandTimeout):
                self.send("exit", timeout=2)
        self._run = False
        self.close_socket()

    # --- commands ----------------------------------------------------------------

    def api(self, command: str, timeout: float | None = None) -> str:
        reply = self.send(f"api {command}", timeout=timeout)
        return reply.text

    def api_many(self, commands: list[str], timeout: float | None = None) -> list[str]:
        """Several API commands in one write, their replies in order: one round trip, and
        the connection is not held between them by anyone else's command."""
        return [r.text for r in self.send_pipelined([f"api {c}" for c in commands], timeout)]

    def bgapi(self, command: str, job_uuid: str | None = None) -> AsyncResult:
        """Start a background job; the result's value is the BACKGROUND_JOB body.

        The Job-UUID is ours, sent as a header (mod_event_socket.c:2364), so the
        job is registered before its event can arrive.
        """
        if "BACKGROUND_JOB" not in self.subscribed and "ALL" not in self.subscribed:
            self.subscribe(["BACKGROUND_JOB"], self.format)  # results only come as events
        job = job_uuid or str(uuidlib.uuid4())
        result: AsyncResult = AsyncResult()
        self._jobs[job] = result
        try:
            reply = self.send(codec.encode_command(f"bgapi {command}", [("Job-UUID", job)]))
        except Exception:
            self._jobs.pop(job, None)
            raise
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            self._jobs.pop(job, None)
            result.set_exception(RuntimeError(reply.text if reply else "bgapi refused"))
        return result

    def _on_background_job(self, event: codec.Event) -> None:
        job = event.get("Job-UUID")
        result = self._jobs.pop(job or "", None)
        if result is not None:
            result.set(event.payload)

    def _on_disconnected(self, _: Any) -> None:
        err = ConnectionLost("connection lost before the job finished")
        jobs, self._jobs = self._jobs, {}
        for result in jobs.values():
            result.set_exception(err)

    def subscribe(self, events: Iterable[str], fmt: str = "plain") -> None:
        """Add events to the subscription (``event`` is additive in mod_event_socket)."""
        names = list(events)
        reply = self.send(f"event {fmt} {' '.join(names)}")
        if not isinstance(reply, codec.CommandReply) or not reply.ok:
            raise ValueError(f"event subscription refused: {getattr(reply, 'reply_text', reply)}")
        self.format = fmt
        self.subscribed.update(n.upper() for n in names)

    def filter(self, header: str, value: str) -> None:
        self.send(f"filter {header} {value}")


class InboundClient:
    """A long-lived inbound connection that comes back by itself.

    Event handlers and subscriptions are kept here and re-applied on every
    new connection. Backoff doubles from ``backoff_min`` to ``backoff_max``
    with jitter. ``heartbeat_timeout`` (seconds without any event while
    subscribed to HEARTBEAT) marks a connection dead.
    """

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        events: Iterable[str] = ("BACKGROUND_JOB", "HEARTBEAT"),
        filters: Iterable[tuple[str, str]] = (),
        backoff_min: float = 0.2,
        backoff_max: float = 10.0,
        heartbeat_timeout: float | None = 60.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.host, self.port, self.password = host, port, password
        self.events = list(dict.fromkeys(["BACKGROUND_JOB", *events]))
        self.filters = list(filters)
        self.backoff_min, self.backoff_max = backoff_min, backoff_max
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self.handlers: list[tuple[str, Callable[[codec.Event], None]]] = []
        self.on_connect: list[Callable[[Connection], None]] = []
        self.on_disconnect: list[Callable[[], None]] = []
        self.conn: Connection | None = None
        self.connections = 0
        self._ready = gevent.event.Event()
        self._stopping = False
        self._runner: gevent.Greenlet | None = None

    def on(self, name: str, handler: Callable[[codec.Event], None]) -> None:
        self.handlers.append((name, handler))
        if self.conn is not None:
            self.conn.on(name, handler)

    def start(self) -> InboundClient:
        self._runner = gevent.spawn(self._run)
        return self

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stopping = True
        if self._runner is not None:
            self._runner.kill(block=False)
        if self.conn is not None:
            self.conn.stop()
            self.conn = None

    def api(self, command: str, timeout: float | None = None) -> str:
        return self._live().api(command, timeout)

    def api_many(self, commands: list[str], timeout: float | None = None) -> list[str]:
        return self._live().api_many(commands, timeout)

    def bgapi(self, command: str, job_uuid: str | None = None) -> AsyncResult:
        return self._live().bgapi(command, job_uuid)

    def _live(self, wait: float = 5.0) -> Connection:
        if not self._ready.wait(wait) or self.conn is None:
            raise ConnectionLost(f"no Event Socket connection to {self.host}:{self.port}")
        return self.conn

    def _run(self) -> None:
        delay = self.backoff_min
        while not self._stopping:
            conn = Connection(self.host, self.port, self.password, self.connect_timeout)
            try:
                conn.connect()
                # Every word after CUSTOM names a subclass (mod_event_socket.c parse_command):
                # "CUSTOM <subclass>" entries go last, whoever added them first.
                conn.subscribe(sorted(self.events, key=lambda n: n.upper().startswith("CUSTOM ")))
                for header, value in self.filters:
                    conn.filter(header, value)
            except AuthenticationFailed:
                log.error("Event Socket %s:%s refused the password; retrying", self.host, self.port)
                gevent.sleep(self.backoff_max)
                continue
            except (ConnectionLost, CommandTimeout) as exc:
                log.warning(
                    "Event Socket %s:%s unavailable (%s); retrying in %.1fs", self.host, self.port, exc, delay
                )
                gevent.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_min
            self.connections += 1
            for name, handler in self.handlers:
                conn.on(name, handler)
            self.conn = conn
            self._ready.set()
            log.info("Event Socket connected to %s:%s", self.host, self.port)
            for cb in self.on_connect:
                try:
                    cb(conn)
                except Exception:
                    log.exception("on_connect callback failed")
            self._watch(conn)
            self._ready.clear()
            self.conn = None
            if not self._stopping:
                log.warning("Event Socket connection to %s:%s lost; reconnecting", self.host, self.port)
                for gone in self.on_disconnect:
                    gone()

    def _watch(self, conn: Connection) -> None:
        """Until the connection closes, or goes silent past the heartbeat timeout."""
        seen, since = conn.messages_in, time.monotonic()
        while conn.connected and not self._stopping:
            gevent.sleep(0.2)
            if conn.messages_in != seen:
                seen, since = conn.messages_in, time.monotonic()
            elif self.heartbeat_timeout and time.monotonic() - since > self.heartbeat_timeout:
                log.warning(
                    "nothing heard for %.0fs: treating the connection as dead", self.heartbeat_timeout
                )
                conn.stop()
                return
