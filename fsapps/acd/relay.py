"""The ACD's live events between processes, through PostgreSQL's NOTIFY.

A notifier (fsapps.acd.notifier) is in-process, one per controller, but the HTTP
API's event streams must show every controller's changes and those the CLI and the
API make in the database from processes that have no notifier. So:

* each controller's relay sends its notifier's events on the ``fsapps_events``
  channel (``start``), from a greenlet of its own, in batches: publishing stays
  non-blocking and the ACD's path never waits for PostgreSQL. Queue figures are not
  sent: every controller's dispatcher publishes every queue's figures, read from the
  database (all controllers' callers), once a second;
* a status change made in the database (``fsapps agent status``, the API's
  ``PUT .../status``) is announced by ``announce`` in the transaction that makes it,
  so it goes out exactly when, and only if, it commits;
* a process that serves event streams ``follow``s the channel and hands on what
  other processes sent (its own events it already has: no duplicates).

The dispatcher's wake-up channel (fsapps.store.acd.CHANNEL) is another channel: the
events wake no dispatcher. A NOTIFY payload is shorter than 8000 bytes; a bigger
event (an offer with a long screen pop) is sent in fragments, in one transaction,
which PostgreSQL delivers in order and together.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable

import gevent
import gevent.event
import gevent.queue
import psycopg

from fsapps.acd import wire
from fsapps.acd.notifier import AcdEvent, Notifier, Published, QueueFigures
from fsapps.store.literals import text_array

log = logging.getLogger("fsapps.acd")

CHANNEL = "fsapps_events"
LIMIT = 7900  # bytes of payload per NOTIFY (PostgreSQL's limit is 8000, the header included here)
OUTBOX = 10_000  # events waiting to be sent before new ones are dropped (PostgreSQL is down)
BATCH = 200  # events per round trip
GATHER = 0.02  # seconds the first event of a batch waits for others
PARTIAL = 100  # fragmented events being put together at once


def payloads(origin: str, number: int, event: AcdEvent) -> list[str]:
    """The NOTIFY payloads of one event: ``<origin> <number> <i>/<n>\\n`` and a piece of
    its JSON (ASCII only, so that characters are bytes)."""
    body = json.dumps({"k": wire.kind_of(event), "f": wire.fields_of(event)}, separators=(",", ":"))
    size = LIMIT - len(origin) - 40
    pieces = [body[i : i + size] for i in range(0, len(body), size)] or [""]
    return [f"{origin} {number} {i}/{len(pieces)}\n{p}" for i, p in enumerate(pieces, 1)]


def announce(conn: psycopg.Connection, event: AcdEvent) -> None:
    """Send ``event`` when the caller's transaction commits (nothing if it rolls back):
    for changes made in the database outside any controller's notifier."""
    origin = f"db-{uuid.uuid4().hex[:12]}"
    for p in payloads(origin, 0, event):
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, p))


class Assembly:
    """Payloads back into events: a whole one at once, fragments once all are in."""

    def __init__(self) -> None:
        self._partial: OrderedDict[tuple[str, str], list[str]] = OrderedDict()

    def add(self, payload: str) -> tuple[str, AcdEvent] | None:
        """(origin, event) once complete; None meanwhile. BadEvent for a payload that is
        not ours."""
        head, sep, piece = payload.partition("\n")
        origin, number, part = [*head.split(" "), "", "", ""][:3]
        i, _, n = part.partition("/")
        if not sep or not i.isdigit() or not n.isdigit() or not 1 <= int(i) <= int(n):
            raise wire.BadEvent(f"not a relayed event: {head[:80]!r}")
        if n != "1":
            key = (origin, number)
            pieces = self._partial.setdefault(key, [])
            if len(pieces) != int(i) - 1:  # one went missing: the event cannot be put together
                self._partial.pop(key, None)
                raise wire.BadEvent(f"fragment {part} of {origin} {number} out of order")
            pieces.append(piece)
            while len(self._partial) > PARTIAL:
                self._partial.popitem(last=False)
            if int(i) < int(n):
                return None
            piece = "".join(self._partial.pop(key))
        try:
            data = json.loads(piece)
        except ValueError:
            raise wire.BadEvent(f"{origin} {number}: not JSON") from None
        if not isinstance(data, dict):
            raise wire.BadEvent(f"{origin} {number}: not an event")
        return origin, wire.from_fields(str(data.get("k")), data.get("f") or {})


class Relay:
    """One process's side of the channel. ``origin``: this process's name on it (the
    dispatcher's: unique among live controllers)."""

    def __init__(self, dsn: str, notifier: Notifier, origin: str) -> None:
        self.dsn = dsn
        self.notifier = notifier
        self.origin = origin
        self._own = f"{origin} "  # how this process's payloads start (payloads)
        self.sent = 0
        self.lost = 0  # events not sent: the outbox was full (PostgreSQL down for long)
        self._number = 0
        self._outbox: gevent.queue.Queue[AcdEvent] = gevent.queue.Queue(OUTBOX)
        self._greenlets: list[gevent.Greenlet] = []
        self.listening = gevent.event.Event()  # set once ``follow`` listens to the channel
        self._stop_listening: Callable[[], None] | None = None

    def start(self) -> Relay:
        """Send this process's events to the others."""
        self._stop_listening = self.notifier.listen(self._queue, lambda e: not isinstance(e, QueueFigures))
        self._greenlets.append(gevent.spawn(self._send))
        return self

    def follow(self, deliver: Callable[[AcdEvent], None], *, resumed: Callable[[], None]) -> None:
        """Hand ``deliver`` every event the other processes send. ``resumed``: called when
        the channel was lost and is listened to again (what was sent meanwhile is gone)."""
        self._greenlets.append(gevent.spawn(self._receive, deliver, resumed))

    def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        gevent.killall(self._greenlets, timeout=5)

    # --- sending ---------------------------------------------------------------------------

    def _queue(self, item: Published) -> None:
        """On the publisher's greenlet: never blocks."""
        try:
            self._outbox.put_nowait(item.event)
        except gevent.queue.Full:
            self.lost += 1
            if self.lost == 1 or self.lost % 1000 == 0:
                log.warning("ACD events not relayed to other processes: %d lost (database down?)", self.lost)

    def _send(self) -> None:
        batch: list[str] = []
        while True:
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    # Its NOTIFYs commit under PostgreSQL's one lock for all notifying
                    # transactions: not waiting for a WAL flush while holding it keeps the
                    # ACD's wake-ups from queueing behind it (fsapps.acd.wakeup).
                    conn.execute("SET synchronous_commit TO off")
                    while True:
                        if not batch:
                            batch = self._payloads([self._outbox.get()])
                            # A call makes a dozen events within milliseconds: one round trip
                            # for what comes in GATHER instead of one each (it was 9% of a
                            # loaded controller's CPU), at GATHER's cost to the streams' delay.
                            gevent.sleep(GATHER)
                        events: list[AcdEvent] = []
                        while len(events) < BATCH and not self._outbox.empty():
                            events.append(self._outbox.get_nowait())
                        batch += self._payloads(events)
                        # One statement: one transaction, delivered in this order.
                        conn.execute(
                            "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS x(p, i)"
                            " ORDER BY i",
                            (CHANNEL, text_array(batch)),  # one literal: fsapps.store.literals
                        )
                        self.sent += len(batch)
                        batch = []
            except psycopg.Error as exc:
                log.warning("ACD events relay: %s; reconnecting", exc)
                gevent.sleep(1.0)

    def _payloads(self, events: list[AcdEvent]) -> list[str]:
        out = []
        for event in events:
            self._number += 1
            out += payloads(self.origin, self._number, event)
        return out

    # --- receiving -------------------------------------------------------------------------

    def _receive(self, deliver: Callable[[AcdEvent], None], resumed: Callable[[], None]) -> None:
        first = True
        while True:
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        resumed()
                    first = False
                    assembly = Assembly()
                    for note in conn.notifies():
                        self._received(assembly, note.payload, deliver)
            except psycopg.Error as exc:
                log.warning("ACD events from other processes lost (%s); listening again", exc)
                first = False
                gevent.sleep(1.0)

    def _received(self, assembly: Assembly, payload: str, deliver: Callable[[AcdEvent], None]) -> None:
        if payload.startswith(self._own):
            return  # our own, back from PostgreSQL: our notifier had it first (not parsed)
        try:
            got = assembly.add(payload)
        except wire.BadEvent as exc:
            log.warning("ACD events relay: %s", exc)
            return
        if got is None:
            return
        _, event = got
        try:
            deliver(event)
        except Exception:
            log.exception("ACD events relay: delivering %r failed", event)
