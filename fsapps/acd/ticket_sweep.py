"""The sweep for overdue tickets, run from the ACD's housekeeping (every controller's, on
its own connection): every ``every`` seconds of the wall clock, the running tickets due
by now are escalated once each (fsapps.tickets decides which; fsapps.store.tickets marks
them, skipping rows another controller's sweep holds), and each is published on the
controller's notifier (TicketEscalated): the relay takes it to the console's streams, the
webhook sender to the tenant's CRM. A failed sweep is logged and is
its own: the housekeeping around it goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from fsapps import tickets
from fsapps.acd.notifier import Notifier, TicketEscalated
from fsapps.store import tickets as store
from fsapps.store.db import Dedicated

log = logging.getLogger("fsapps.acd")

EVERY = 5.0  # seconds between sweeps


class TicketSweep:
    def __init__(self, own: Dedicated, wall: Callable[[], float], every: float = EVERY,
                 notifier: Notifier | None = None) -> None:  # fmt: skip
        self.own, self.wall, self.every, self.notifier = own, wall, every, notifier
        self.last = 0.0  # the wall clock's time of the last sweep
        self.swept = 0  # sweeps done (committed or failed)

    def __call__(self) -> list[dict[str, Any]]:
        wall = self.wall()
        if wall - self.last < self.every:
            return []
        self.last = wall
        try:
            with self.own.operator() as op:
                done = store.escalate_overdue(op.conn, datetime.fromtimestamp(wall, UTC), tickets.to_escalate)
        except psycopg.Error as exc:
            log.warning("ticket escalation failed (%s); next sweep in %.0f s", exc, self.every)
            self.swept += 1
            return []
        for t in done:
            log.info("ticket %s of %s is overdue: escalated", t["number"], t["tenant_id"])
            if self.notifier is not None:
                # After the commit: the alert and the webhook say what the database holds.
                self.notifier.publish(TicketEscalated(
                    t["tenant_id"], int(t["number"]), t["subject"], t["priority"], t["assignee_agent"] or "",
                    t["assignee_queue"] or "", t["due_at"].timestamp(), wall))  # fmt: skip
        self.swept += 1
        return done
