"""Waking every controller's dispatcher after a change, outside the change's transaction.

PostgreSQL serializes the commits of all transactions that NOTIFY: PreCommit_Notify
(src/backend/commands/async.c) takes one lock for the whole cluster ("database 0",
shown as the wait event ``Lock: object``) and holds it until the transaction has
committed, its WAL flushed to disk. With a NOTIFY in each of the ACD's transactions (a
caller joining, an agent's call ending, an offer not answered) every one of them waited
for the others' flushes in turn: sampled at 50 calls/s on the bench, PostgreSQL's busy
backends were waiting on that lock in about 60% of the samples and on the WAL in 25%,
and a caller's join took 200 ms at the median.

A wake-up is a hint: it makes a pass run now instead of at the next tick, and a pass
reads the state afresh. So a controller sends it after its transaction has committed,
from one connection of its own on which ``synchronous_commit`` is off (its commit,
holding the lock, waits for no flush; losing a wake-up in a database crash costs a tick
at most), and coalesces: however many changes come while one NOTIFY is on its way, they
make one more. A controller that dies between a commit and its wake-up leaves the others
to their next tick, as a lost NOTIFY would.

Changes made outside controllers (the CLI's and the API's status changes, the
housekeeper's) keep their NOTIFY in their own transaction: they are few.
"""

from __future__ import annotations

import logging

import gevent
import gevent.event
import psycopg

from fsapps.store.green import GreenConnection

log = logging.getLogger("fsapps.acd")

CONNECT_TIMEOUT = 5  # seconds; meanwhile the other controllers pass on their ticks


class Wakeup:
    """``wake()`` asks for one NOTIFY on ``channel`` soon; the greenlet ``start`` spawns sends it."""

    def __init__(self, dsn: str, channel: str) -> None:
        self.dsn = dsn
        self.channel = channel
        self._wanted = gevent.event.Event()
        # Set while no wake-up is wanted or on its way: what ``flush`` waits for.
        self._idle = gevent.event.Event()
        self._idle.set()
        self._greenlet: gevent.Greenlet | None = None
        self._conn: psycopg.Connection | None = None
        self.sent = 0  # NOTIFYs sent (the wake-ups they carried: any number)

    def wake(self) -> None:
        self._idle.clear()
        self._wanted.set()

    def flush(self, timeout: float) -> bool:
        """Wait until every wake-up asked for so far has been sent (its NOTIFY committed);
        False if that took longer than ``timeout`` seconds."""
        return self._idle.wait(timeout)

    def start(self) -> Wakeup:
        self._greenlet = gevent.spawn(self._run)
        return self

    def stop(self, flush: float = 1.0) -> None:
        """Stop, once the wake-ups asked for are sent (for at most ``flush`` seconds): a
        controller's last changes (callers it handed on, agents it freed) then reach the
        other controllers now, not at their next tick."""
        if self._greenlet is not None:
            if flush > 0 and not self._greenlet.dead:
                self.flush(flush)
            self._greenlet.kill()
        if self._conn is not None:
            self._conn.close()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._send()
                if not self._wanted.is_set():  # no wake() while this one was on its way
                    self._idle.set()
            except Exception as exc:  # whatever it is, the greenlet lives on: peers need it
                if isinstance(exc, psycopg.Error):
                    log.warning("ACD wake-up not sent (%s); again in 0.5 s", exc)
                else:
                    log.exception("ACD wake-up not sent; again in 0.5 s")
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                self._wanted.set()  # the changes it was for still want their pass
                gevent.sleep(0.5)

    def _send(self) -> None:
        if self._conn is None or self._conn.closed:
            conn = GreenConnection.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            self._conn = conn  # closed by _run if what follows fails
            conn.execute("SET synchronous_commit TO off")
        self._conn.execute("SELECT pg_notify(%s, '')", (self.channel,))
        self.sent += 1
