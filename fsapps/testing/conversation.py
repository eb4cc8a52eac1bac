"""What the controller's Event Socket connections said and heard, recorded so the
same scenario can be compared on two switches (the real FreeSWITCH and
fsapps.sim), or kept as a trace.

    with recording() as rec:
        ...run the scenario...
    for conv in rec.conversations:      # one per connection, in opening order
        conv.kind, conv.channel, conv.entries

Every fsapps Event Socket connection in this process is recorded (the
controller's outbound sessions and inbound clients alike): the recorder
wraps the two places all traffic passes, ``FramedProtocol.send`` and
``FramedProtocol.handle_event``, for the duration of the ``with``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fsapps.esl import codec
from fsapps.esl.protocol import FramedProtocol


@dataclass
class Entry:
    direction: str  # "sent" (a command) or "heard" (a reply, response or event)
    message: codec.Command | codec.Message
    at: float  # time.monotonic() when it passed


@dataclass
class Conversation:
    kind: str  # "outbound" (the switch connected to the controller) or "inbound"
    local: tuple[str, int] | None = None  # for an outbound session: the controller's listening address
    peer: tuple[str, int] | None = None  # for an inbound client: the switch's Event Socket
    entries: list[Entry] = field(default_factory=list)

    @property
    def channel(self) -> str | None:
        """An outbound session's channel: the Unique-ID of the connect reply."""
        for e in self.entries:
            if isinstance(e.message, codec.CommandReply) and "Unique-ID" in e.message.headers:
                return e.message.headers["Unique-ID"]
        return None

    def commands(self) -> list[codec.Command]:
        return [e.message for e in self.entries if isinstance(e.message, codec.Command)]

    def events(self) -> list[codec.Event]:
        return [e.message for e in self.entries if isinstance(e.message, codec.Event)]


@dataclass
class Recorder:
    """Conversations in the order their connections first spoke or were spoken to."""

    conversations: list[Conversation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _conversation(self, conn: Any) -> Conversation:
        with self._lock:
            seen = getattr(conn, "_fsapps_recorded", None)
            if isinstance(seen, tuple) and seen[0] is self:
                return seen[1]
            from fsapps.esl.server import OutboundCall

            conv = Conversation("outbound" if isinstance(conn, OutboundCall) else "inbound")
            with contextlib.suppress(OSError, AttributeError):
                conv.local, conv.peer = conn.sock.getsockname()[:2], conn.sock.getpeername()[:2]
            conn._fsapps_recorded = (self, conv)
            self.conversations.append(conv)
            return conv

    def sent(self, conn: Any, data: str | bytes) -> None:
        raw = data if isinstance(data, bytes) else codec.encode_command(data)
        reader = codec.CommandReader()
        for command in reader.feed(raw):
            self._conversation(conn).entries.append(Entry("sent", command, time.monotonic()))

    def heard(self, conn: Any, msg: codec.Message) -> None:
        self._conversation(conn).entries.append(Entry("heard", msg, time.monotonic()))

    def outbound(self, port: int | None = None) -> list[Conversation]:
        """The switch's sessions with a controller (the one listening on ``port``)."""
        return [
            c for c in self.conversations
            if c.kind == "outbound" and (port is None or (c.local is not None and c.local[1] == port))
        ]  # fmt: skip


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    send, handle_event = FramedProtocol.send, FramedProtocol.handle_event

    def recorded_send(self: Any, data: str | bytes, timeout: float | None = None) -> codec.Message:
        recorder.sent(self, data)
        return send(self, data, timeout)

    def recorded_handle_event(self: Any, msg: codec.Message) -> None:
        recorder.heard(self, msg)
        handle_event(self, msg)

    FramedProtocol.send = recorded_send  # type: ignore[method-assign]
    FramedProtocol.handle_event = recorded_handle_event  # type: ignore[method-assign]
    try:
        yield recorder
    finally:
        FramedProtocol.send = send  # type: ignore[method-assign]
        FramedProtocol.handle_event = handle_event  # type: ignore[method-assign]
