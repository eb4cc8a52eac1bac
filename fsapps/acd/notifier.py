"""The ACD's live events: a small in-process publish/subscribe.

The dispatcher and the queue visits' driver publish typed events (an agent's
state changed, an offer rang an agent with the caller's screen-pop
variables, a queue's figures, a caller joined, left, was answered or
abandoned, a call leg rang, answered or ended); the metrics (fsapps.acd.
live_metrics) and, later, the console and the API's per-user event streams
follow them.

Each event gets the next sequence number of its notifier, so a client that
lost its stream can resume after the last one it saw (``subscribe(after=)``)
from the notifier's recent history. Publishing never blocks and never fails
the ACD's path: a subscription whose queue is full is dropped (it learns so
from ``dropped`` and resumes from its last number), and a listener that
raises is logged and skipped. A notifier is built once per controller and
handed to whatever publishes or follows (fsapps.controller): no globals.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gevent.queue

log = logging.getLogger("fsapps.acd")

HISTORY = 10_000  # events kept for subscribers that resume
QUEUE = 1_000  # events a subscription may fall behind before it is dropped


# --- the events -----------------------------------------------------------------------


@dataclass(frozen=True)
class AgentStateChanged:
    agent: str
    state: str  # Waiting | Receiving | In a queue call | Idle
    status: str  # Available | On Break | ...
    at: float
    member: str = ""  # the caller it is about (Receiving, In a queue call), if any


@dataclass(frozen=True)
class OfferMade:
    """An agent's phone rings for a caller; ``variables``: what the leg carries, the
    lookup's screen-pop fields among them."""

    tenant: str
    queue: str
    member: str
    agent: str
    leg: str
    variables: tuple[tuple[str, str], ...]
    at: float


@dataclass(frozen=True)
class QueueFigures:
    tenant: str
    queue: str
    waiting: int
    longest_wait: float
    agents: tuple[tuple[str, str, int], ...]  # (status, state, how many), every pair
    at: float


@dataclass(frozen=True)
class MemberChanged:
    """A caller ``joined``, was ``answered`` (by ``agent``), ``abandoned`` or ``left``
    the queue (``outcome``: answered, timed_out, overflowed, callback, abandoned)."""

    tenant: str
    queue: str
    member: str
    what: str  # joined | answered | abandoned | left
    at: float
    agent: str = ""
    outcome: str = ""
    wait: float = 0.0  # answered: until the agent's leg was bridged; left: the whole visit
    handle: float = 0.0  # left answered: talk plus wrap-up
    service_level_seconds: float = 0.0
    number: str = ""  # the caller's number (caller ID), where the publisher has it
    recording: str = ""  # left answered and recorded: the recording's id (GET .../recordings/{id})


@dataclass(frozen=True)
class LegChanged:
    """One of a queue call's legs: an agent's ``rung``, ``answered``, ``ended`` (with its
    cause), or a bridge of the caller ``bridged`` / ``unbridged``."""

    tenant: str
    queue: str
    member: str
    leg: str
    what: str
    at: float
    agent: str = ""
    cause: str = ""


@dataclass(frozen=True)
class CallHandedOver:
    """Agent ``by`` handed their caller to agent ``agent``: a blind ``transfer``, or a
    ``consult`` (the caller holds while they talk). The caller's card goes with it:
    ``customer`` is the tenant's customer with the caller's number (0: none yet)."""

    tenant: str
    queue: str
    member: str
    agent: str
    by: str
    how: str  # transfer | consult
    number: str
    name: str
    customer: int
    at: float


@dataclass(frozen=True)
class TicketEscalated:
    """The tickets' sweep (fsapps.acd.ticket_sweep) found a ticket overdue: its assigned
    agent and the tenant's supervisors are told (the floor and the desk raise an alert; a
    CRM webhook ``ticket.escalated``). ``agent``/``queue``: its assignee ("": none)."""

    tenant: str
    number: int
    subject: str
    priority: str
    agent: str
    queue: str
    due_at: float
    at: float


@dataclass(frozen=True)
class AgentDirectCall:
    """A call no queue made reached agent ``agent``'s phone and was ``answered``, or
    ``ended``: a transfer or a number straight to their phone, a call they dialled, a
    dial-out (fsapps.acd.direct_calls). ``number``: the other party's; ``direction`` seen
    from the agent (inbound | outbound); ``leg``: their phone's channel."""

    agent: str
    what: str  # answered | ended
    number: str
    direction: str
    leg: str
    at: float


AcdEvent = (
    AgentStateChanged
    | OfferMade
    | QueueFigures
    | MemberChanged
    | LegChanged
    | CallHandedOver
    | TicketEscalated
    | AgentDirectCall
)


@dataclass(frozen=True)
class Published:
    seq: int
    event: AcdEvent


Filter = Callable[[AcdEvent], bool]


# --- subscribing ------------------------------------------------------------------------


class Subscription:
    """Events that pass ``filter``, in order, from a bounded queue. Iterate it, or
    ``get``; ``None`` once it is closed or dropped (``dropped``: it fell behind)."""

    def __init__(self, notifier: Notifier, wanted: Filter | None, size: int) -> None:
        self._notifier = notifier
        self._wanted = wanted
        self._queue: gevent.queue.Queue[Published | None] = gevent.queue.Queue(size + 1)
        self._size = size
        self.dropped = False
        self.closed = False
        self.last = 0  # the sequence number of the last event handed out

    def wants(self, event: AcdEvent) -> bool:
        return self._wanted is None or self._wanted(event)

    def offer(self, item: Published) -> None:
        """From the publisher: never blocks."""
        if self.closed:
            return
        if self._queue.qsize() >= self._size:
            self.dropped = True
            self._end()
            return
        self._queue.put_nowait(item)

    def get(self, timeout: float | None = None) -> Published | None:
        """The next event (None: closed, dropped, or nothing within ``timeout``)."""
        try:
            item = self._queue.get(timeout=timeout)
        except gevent.queue.Empty:
            return None
        if item is None:
            self._queue.put_nowait(None)  # every later get says so too
            return None
        self.last = item.seq
        return item

    def __iter__(self) -> Iterator[Published]:
        while (item := self.get()) is not None:
            yield item

    def close(self) -> None:
        self._end()

    def _end(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._notifier._forget(self)
        self._queue.put_nowait(None)  # the extra slot: there is always room for it


class Notifier:
    def __init__(self, history: int = HISTORY) -> None:
        self._seq = 0
        self._history: deque[Published] = deque(maxlen=history)
        self._subscriptions: list[Subscription] = []
        self._listeners: list[tuple[Callable[[Published], None], Filter | None]] = []
        # Publishers are greenlets, but a thread (the CDR collector's, say) may publish too.
        self._lock = threading.RLock()

    @property
    def seq(self) -> int:
        """The last sequence number given."""
        return self._seq

    def publish(self, event: AcdEvent) -> int:
        """Hand ``event`` to every subscription and listener that wants it; its number."""
        with self._lock:
            self._seq += 1
            item = Published(self._seq, event)
            self._history.append(item)
            subscriptions = list(self._subscriptions)
            listeners = list(self._listeners)
        for sub in subscriptions:
            try:
                if sub.wants(event):
                    sub.offer(item)
            except Exception:
                log.exception("ACD event subscription failed on %r: dropped", event)
                sub.dropped = True
                sub.close()
        for deliver, wanted in listeners:
            try:
                if wanted is None or wanted(event):
                    deliver(item)
            except Exception:
                log.exception("ACD event listener failed on %r", event)
        return item.seq

    def subscribe(self, wanted: Filter | None = None, *, after: int | None = None,
                  size: int = QUEUE) -> Subscription:  # fmt: skip
        """Events from now on that pass ``wanted``; with ``after``, first those after that
        number still in the history (a client resuming its stream). ``size``: how far it
        may fall behind before it is dropped."""
        sub = Subscription(self, wanted, size)
        with self._lock:
            if after is not None:
                for item in self._history:
                    if item.seq > after and sub.wants(item.event):
                        sub.offer(item)
            if not sub.closed:
                self._subscriptions.append(sub)
        return sub

    def listen(
        self, deliver: Callable[[Published], None], wanted: Filter | None = None
    ) -> Callable[[], None]:
        """Call ``deliver`` with each event as it is published, on the publisher's greenlet:
        for followers that never block (the metrics). Returns what stops it."""
        entry = (deliver, wanted)
        with self._lock:
            self._listeners.append(entry)

        def stop() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return stop

    def recent(self, wanted: Filter) -> list[Published]:
        """The events still in the history that pass ``wanted``, newest first (the desk's
        screen pop after a reload: what the offer carried)."""
        with self._lock:
            kept = list(self._history)
        return [item for item in reversed(kept) if wanted(item.event)]

    def oldest(self) -> int:
        """The first number a resuming subscriber can still get (0: none kept yet)."""
        with self._lock:
            return self._history[0].seq if self._history else 0

    def close_all(self) -> None:
        """End every subscription (their followers start again, as after a drop)."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            sub.close()

    def _forget(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
