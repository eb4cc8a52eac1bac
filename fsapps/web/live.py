"""What the HTTP API's event streams follow: every controller's ACD events in one place.

``LiveEvents`` takes the events of this process's controller (its notifier) and those
the relay (fsapps.acd.relay) brings from other controllers and from changes made in
the database, and publishes them, from a greenlet of its own, on a notifier of its
own: its sequence numbers and history are what the streams' ids and resumption use.
Its own greenlet because agents' events name no tenant: which tenants an agent serves
(``agent_tenants``, as the API's agents lists read it) is kept here, read again when
an unknown agent shows up and once a minute, and a query must never hold up the
controller's publisher. Unchanged queue figures (the dispatcher publishes them once
a second per queue, and on every pass) are passed on once.

An id is ``<epoch>-<sequence>``: the epoch (milliseconds when these events started)
changes with the process, and whenever events may have been missed (the relay's
connection was lost, the inbox overflowed), so that an id from before is unknown and
its stream's client is told to start again (``reset``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.queue

from fsapps.acd.notifier import (
    AcdEvent,
    AgentDirectCall,
    AgentStateChanged,
    Notifier,
    OfferMade,
    QueueFigures,
)

log = logging.getLogger("fsapps.api")

INBOX = 10_000  # events not yet published before they are dropped (and the epoch changes)
REREAD = 60.0  # seconds between readings of the agents' tenants
UNKNOWN_REREAD = 1.0  # at most this often for an agent not seen before

AgentTenants = dict[str, frozenset[str]]


class LiveEvents:
    """``agent_tenants``: reads which tenants each agent serves (the store's)."""

    def __init__(self, agent_tenants: Callable[[], AgentTenants], *, history: int = 10_000,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._read_tenants = agent_tenants
        self._history = history
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.epoch = 0
        self.notifier = Notifier(history)
        self._new_epoch()
        self._inbox: gevent.queue.Queue[AcdEvent] = gevent.queue.Queue(INBOX)
        self._tenants: AgentTenants = {}
        self._read_at = -REREAD
        self._figures: dict[tuple[str, str], tuple[object, ...]] = {}
        self._feeder: gevent.Greenlet | None = None

    def start(self) -> LiveEvents:
        self._feeder = gevent.spawn(self._feed)
        return self

    def stop(self) -> None:
        if self._feeder is not None:
            self._feeder.kill()
        self.notifier.close_all()

    # --- in ------------------------------------------------------------------------------

    def put(self, event: AcdEvent) -> None:
        """From any greenlet (the controller's publisher among them): never blocks."""
        try:
            self._inbox.put_nowait(event)
        except gevent.queue.Full:
            log.warning("event streams fell behind: they start again")
            self.restart()

    def restart(self) -> None:
        """Events were missed: a new epoch, and every stream ends (its client resumes with
        an id of the old epoch and is told to start again)."""
        old = self.notifier
        self._new_epoch()
        old.close_all()

    def _new_epoch(self) -> None:
        with self._lock:
            self.epoch = max(int(self._clock() * 1000), self.epoch + 1)
            self.notifier = Notifier(self._history)

    def _feed(self) -> None:
        while True:
            event = self._inbox.get()
            try:
                self.publish(event)
            except Exception:
                log.exception("event streams: %r not published", event)

    def publish(self, event: AcdEvent) -> None:
        """On the feeder's greenlet (or a test's): the agent's tenants known first."""
        if isinstance(event, AgentStateChanged | AgentDirectCall):
            self._know(event.agent)
        elif isinstance(event, QueueFigures):
            # Whole seconds of the longest wait: the figure a wallboard shows.
            figures = (event.waiting, int(event.longest_wait), event.agents)
            if self._figures.get((event.tenant, event.queue)) == figures:
                return
            self._figures[(event.tenant, event.queue)] = figures
        self.notifier.publish(event)

    def offer_variables(self, tenant: str, member: str) -> dict[str, str]:
        """What the latest offer of this caller carried (the lookup's screen-pop fields
        among them); {} once it is out of the history (or this server started after it)."""
        notifier, _, _ = self.where()
        for item in notifier.recent(
            lambda e: isinstance(e, OfferMade) and e.member == member and e.tenant == tenant
        ):
            assert isinstance(item.event, OfferMade)
            return dict(item.event.variables)
        return {}

    # --- the agents' tenants ------------------------------------------------------------------

    def tenants_of(self, agent: str) -> frozenset[str]:
        """In memory (a stream's filter runs on the publisher)."""
        return self._tenants.get(agent, frozenset())

    def _know(self, agent: str) -> None:
        now = self._monotonic()
        stale = now - self._read_at >= REREAD
        if stale or (agent not in self._tenants and now - self._read_at >= UNKNOWN_REREAD):
            try:
                self._tenants = self._read_tenants()
            except Exception as exc:  # the database is down: what we knew stands
                log.warning("event streams: agents' tenants not read: %s", exc)
            self._read_at = now

    # --- ids ---------------------------------------------------------------------------

    def where(self) -> tuple[Notifier, int, int]:
        """(the notifier, its epoch, its last number), as one: what a stream starts from."""
        with self._lock:
            return self.notifier, self.epoch, self.notifier.seq

    def resume_point(self, last_id: str, notifier: Notifier, epoch: int, seq: int) -> int | None:
        """The number to resume after for the client's ``last_id``; None: unknown (another
        epoch, a number never given) or too old (out of the history)."""
        head, sep, tail = last_id.strip().partition("-")
        if not sep or not head.isdigit() or not tail.isdigit() or int(head) != epoch:
            return None
        after = int(tail)
        if after > seq:
            return None
        oldest = notifier.oldest()
        if after < (oldest - 1 if oldest else seq):
            return None
        return after


class StreamSlots:
    """How many event streams are open: at most ``limit`` in all and ``per_user`` for one
    user, so that streams (which hold a connection each for as long as they last) leave the
    API's connections to its other requests and no one user takes them all."""

    def __init__(self, limit: int, per_user: int = 8) -> None:
        self.limit = limit
        self.per_user = per_user
        self._open: dict[int, int] = {}

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def take(self, user_id: int) -> str | None:
        """None: a slot is the user's; else why not."""
        if self.open >= self.limit:
            return f"{self.limit} event streams are open already"
        if self._open.get(user_id, 0) >= self.per_user:
            return f"this user has {self.per_user} event streams open already"
        self._open[user_id] = self._open.get(user_id, 0) + 1
        return None

    def give_back(self, user_id: int) -> None:
        n = self._open.get(user_id, 0) - 1
        if n > 0:
            self._open[user_id] = n
        else:
            self._open.pop(user_id, None)


def live_events(store: Any, controller: Any) -> LiveEvents:
    """The event streams' source in ``fsapps serve``: this controller's notifier, and what its
    relay hears from the other processes; started."""
    from fsapps.store import api as repo

    def agent_tenants() -> AgentTenants:
        with store.operator() as op:
            return repo.agent_tenants(op)

    live = LiveEvents(agent_tenants).start()
    controller.notifier.listen(lambda item: live.put(item.event))
    if controller.relay is not None:
        controller.relay.follow(live.put, resumed=live.restart)
    return live
