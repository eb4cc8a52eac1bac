"""greenswitch's ESL protocol with its framing and writing replaced.

greenswitch 0.0.19 keeps the shape we want (handlers registered by event
name, a greenlet reading and one dispatching, auth and the outbound
session lifecycle) but, as measured in ../shared/FACTS.md:

1. ``ESLEvent.parse_data`` URL-decodes a whole block before splitting lines,
   so caller-controlled ``%0A`` forges headers;
2. an event's own body is glued onto its Content-Length header;
3. ``_read_socket`` spins forever when the socket closes mid-body;
4. it writes with ``send`` (partial writes) from any greenlet unlocked.

``FramedProtocol`` is mixed in front of greenswitch's classes and
overrides exactly those paths: bytes are framed by fsapps.esl.codec (split
first, decode per value, EOF mid-frame is an error), and writes go through
one lock with ``sendall`` so a reply can still be matched to its command by
order, which is what mod_event_socket guarantees per connection.
Handlers receive ``codec.Event`` objects.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.lock
from gevent.event import AsyncResult
from gevent.queue import Empty
from greenswitch import esl as gs

from fsapps.esl import codec

log = logging.getLogger("fsapps.esl")

Handler = Callable[[Any], None]


class ConnectionLost(gs.NotConnectedError):
    """The Event Socket connection closed (or was never there)."""


class CommandTimeout(TimeoutError):
    """FreeSWITCH did not reply to a command in time."""


class FramedProtocol:
    """Overrides for a greenswitch ``ESLProtocol`` subclass (mixed in first)."""

    # set by greenswitch's __init__: sock, _commands_sent, _esl_event_queue,
    # event_handlers, connected, _run, _lingering, _auth_request_event
    sock: Any
    _commands_sent: list[AsyncResult]
    _esl_event_queue: Any
    event_handlers: dict[str, list[Handler]]
    connected: bool
    _run: bool
    _lingering: bool
    _auth_request_event: Any

    reply_timeout: float = 30.0
    protocol_error: codec.ProtocolError | None = None

    def _init_framing(self, max_header: int = codec.MAX_HEADER_BLOCK, max_body: int = codec.MAX_BODY) -> None:
        self._reader = codec.MessageReader(max_header, max_body)
        self._write_lock = gevent.lock.Semaphore()
        self.bytes_in = 0
        self.messages_in = 0

    # --- reading ---------------------------------------------------------------

    def receive_events(self) -> None:
        reader = self._reader
        try:
            while self._run:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    reader.close()  # a half frame at EOF is a protocol error
                    break
                self.bytes_in += len(data)
                for msg in reader.feed(data):
                    self.messages_in += 1
                    self.handle_event(msg)
        except codec.ProtocolError as exc:
            self.protocol_error = exc
            log.error("Event Socket protocol error, closing the connection: %s", exc)
        finally:
            self._connection_closed()

    def _connection_closed(self) -> None:
        self.connected = False
        self._run = False
        self._auth_request_event.set()
        err = ConnectionLost(str(self.protocol_error) if self.protocol_error else "connection closed")
        pending, self._commands_sent = self._commands_sent, []
        for result in pending:
            result.set_exception(err)
        self._esl_event_queue.put(_CLOSED)
        self.close_socket()

    def close_socket(self) -> None:
        """Really close: greenswitch's makefile() keeps the fd open past sock.close()."""
        import socket as _socket

        for closer in (
            lambda: self.sock.shutdown(_socket.SHUT_RDWR),
            lambda: self.sock_file.close(),  # type: ignore[attr-defined]
            lambda: self.sock.close(),
        ):
            with contextlib.suppress(OSError, AttributeError):
                closer()

    def handle_event(self, msg: codec.Message) -> None:
        if isinstance(msg, codec.AuthRequest):
            self._auth_request_event.set()
        elif isinstance(msg, codec.CommandReply | codec.ApiResponse):
            if self._commands_sent:
                self._commands_sent.pop(0).set(msg)
            else:
                log.warning("reply with no command waiting: %r", msg)
        elif isinstance(msg, codec.DisconnectNotice):
            if msg.lingering:
                self._lingering = True
            else:
                self.connected = False
            self._esl_event_queue.put(msg)
        elif isinstance(msg, codec.RudeRejection):
            log.error("Event Socket refused the connection: %s", msg.text.strip())
            self.connected = False
            self._auth_request_event.set()
        else:
            if isinstance(msg, codec.Event):
                _ = msg.name  # split now: a malformed event fails here, in the reader
            self._esl_event_queue.put(msg)

    # --- dispatch --------------------------------------------------------------

    def process_events(self) -> None:
        while True:
            try:
                msg = self._esl_event_queue.get(timeout=1)
            except Empty:
                if not self._run:
                    return
                continue
            if msg is _CLOSED:
                self._dispatch("DISCONNECTED", None)
                return
            if isinstance(msg, codec.DisconnectNotice):
                self._dispatch("DISCONNECT", msg)
                continue
            if isinstance(msg, codec.LogData):
                self._dispatch("log", msg)
                continue
            if isinstance(msg, codec.Event):
                name = msg.subclass if msg.name == "CUSTOM" and msg.subclass else msg.name
                if not self._dispatch(name, msg):
                    self._dispatch("*", msg)

    def _dispatch(self, name: str, msg: Any) -> bool:
        handlers = self.event_handlers.get(name)
        if not handlers:
            return False
        for handler in list(handlers):
            try:
                handler(msg)
            except Exception:
                log.exception("event handler %s failed on %s", getattr(handler, "__name__", handler), name)
        return True

    # --- writing ---------------------------------------------------------------

    def send(self, data: str | bytes, timeout: float | None = None) -> codec.Message:
        """Write one command and wait for its reply (command/reply or api/response)."""
        raw = data if isinstance(data, bytes) else codec.encode_command(data)
        if not self.connected:
            raise ConnectionLost("not connected")
        result: AsyncResult = AsyncResult()
        with self._write_lock:
            self._commands_sent.append(result)
            try:
                self.sock.sendall(raw)
            except OSError as exc:
                if result in self._commands_sent:
                    self._commands_sent.remove(result)
                raise ConnectionLost(str(exc)) from exc
        wait = timeout if timeout is not None else self.reply_timeout
        try:
            return result.get(timeout=wait)
        except gevent.Timeout as exc:
            raise CommandTimeout(f"no reply to {describe(raw)} in {wait:g}s") from exc

    def send_pipelined(self, commands: list[str], timeout: float | None = None) -> list[codec.Message]:
        """Write several commands at once and wait for their replies, in order: one round
        trip, not one each. The switch reads a command a byte at a time and leaves the
        next one in the socket (read_packet, mod_event_socket.c:1208-1260), so nothing of
        the later commands is lost while it answers the first."""
        raw = b"".join(codec.encode_command(c) for c in commands)
        if not self.connected:
            raise ConnectionLost("not connected")
        results = [AsyncResult() for _ in commands]
        with self._write_lock:
            self._commands_sent.extend(results)
            try:
                self.sock.sendall(raw)
            except OSError as exc:
                for result in results:
                    if result in self._commands_sent:
                        self._commands_sent.remove(result)
                raise ConnectionLost(str(exc)) from exc
        wait = timeout if timeout is not None else self.reply_timeout
        deadline = time.monotonic() + wait
        try:
            return [r.get(timeout=max(0.0, deadline - time.monotonic())) for r in results]
        except gevent.Timeout as exc:
            raise CommandTimeout(f"no reply to {describe(raw)} in {wait:g}s") from exc

    def on(self, name: str, handler: Handler) -> None:
        """Call ``handler(event)`` for events named ``name`` (or a CUSTOM subclass, or '*')."""
        self.register_handle(name, handler)  # type: ignore[attr-defined]


_CLOSED = object()


def describe(raw: bytes) -> str:
    """What a command is, for a log line or an error: its name (``auth``,
    ``api uuid_kill``, ``sendmsg execute playback``), never its arguments,
    which can hold the Event Socket password (``auth``, ``userauth``) or a
    caller's data."""
    head, _, rest = raw.partition(b"\n\n")[0].partition(b"\n")
    words = head.decode("utf-8", "replace").split()
    if not words:
        return "an empty command"
    name = words[0].lower()
    if name in ("api", "bgapi") and len(words) > 1:
        return f"{name} {words[1][:40]}"
    if name == "sendmsg":
        wanted = (b"call-command", b"execute-app-name")
        lines = (line.partition(b":") for line in rest.split(b"\n"))
        named = [
            value.strip().decode("utf-8", "replace")[:40] for key, _, value in lines if key.lower() in wanted
        ]
        return " ".join(["sendmsg", *named])
    return name
