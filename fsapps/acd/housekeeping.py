"""What a controller does once a tick besides routing: say it is alive, free what dead
controllers held, and finish the queue calls that outlived their controller.

The dispatcher (fsapps.acd.dispatch) keeps the loop (wake, decide, deliver) and calls
``Housekeeper.beat`` on its tick, on its own connection.

A call bridged to an agent outlives its controller (fsapps.acd.visit): the caller's
channel stays as it is when the socket closes. What happens when that conversation ends
depends on how the caller was bridged:

* by the ``bridge`` application (every strategy but ring-progressively): the caller comes
  back to the queue node's extension and its ``socket`` finds a controller, which completes
  the visit (the visit's COMPLETING phase). If the caller hung up instead, nobody comes
  back: ``reconcile`` completes the visit from the CDRs;
* by ``uuid_bridge`` (ring-progressively's legs rung one by one): ``park_after_bridge``
  parks the caller once the agent leaves, waiting for the controller that set it. Nobody
  would come back for them, so ``reconcile`` completes the visit and sends the caller on by
  the queue node's route extension, which the visit's controller wrote on the channel
  (fsapps.acd.visit.ROUTE_VARIABLE) when the conversation began.

Either way one controller adopts the caller's row (a conditional UPDATE), so the visit's
records are written once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fsapps import escape
from fsapps.acd.visit import ROUTE_VARIABLE
from fsapps.store import acd as store_acd

if TYPE_CHECKING:
    from fsapps.acd.dispatch import Dispatcher

log = logging.getLogger("fsapps.acd")

DEAD_AFTER = 10.0  # seconds without a heartbeat before a controller's calls are freed
ORPHAN_CDR_WAIT = 30.0  # how long a call that ended without its controller waits for its CDRs
STALE_MARGIN = 30.0  # seconds past the longest ring-timeout before an offer counts as stale

_NAME = re.compile(r"[A-Za-z0-9_.+-]{1,200}")


def judges_peers(back_since: float | None, now: float, unjudged_since: float | None = None) -> bool:
    """Whether a controller may judge others dead ``now``, having had its database
    connection back since ``back_since`` (None: not yet). Not for GONE_AFTER after a return:
    a restart of PostgreSQL drops every controller's lifetime lock and silences every
    heartbeat alike, and a live peer takes its lock back and beats again within a tick or
    two of the database's return, which the first controller back must wait for before
    reading the peer's silence as a death (and abandoning its waiting callers). But not
    kept from judging for DEAD_AFTER in a row (``unjudged_since``: since when it has not),
    however often its connection is replaced."""
    if unjudged_since is not None and now - unjudged_since >= DEAD_AFTER:
        return True
    return back_since is not None and now - back_since >= store_acd.GONE_AFTER


class Judging:
    """judges_peers beat by beat, from what a controller sees of its own dedicated connection:
    how many connections it has made (Dedicated.connections: a new one, a return) and when a
    beat last went through. A new connection soon after a beat that went through is a
    replaced one (a connection that keeps being replaced delays judging DEAD_AFTER at most);
    after longer, it is a return from an outage, with a grace of its own however many there
    were before it."""

    def __init__(self) -> None:
        self.connection = 0  # the count last seen
        self.back_since: float | None = None  # when that connection was seen new
        self.unjudged_since: float | None = None  # the first beat of those since that judged nobody
        self.last_through: float | None = None

    def at(self, connections: int, alive: float) -> bool:
        """Whether the beat on the ``connections``-th connection at ``alive`` judges."""
        if connections != self.connection:
            self.connection, self.back_since = connections, alive
            if self.last_through is None or alive - self.last_through > store_acd.GONE_AFTER:
                self.unjudged_since = None
        judging = judges_peers(self.back_since, alive, self.unjudged_since)
        if judging and not judges_peers(self.back_since, alive):
            log.warning("this controller's database connection keeps being replaced: judging the"
                        " others' liveness all the same")  # fmt: skip
        if judging:
            self.unjudged_since = None
        elif self.unjudged_since is None:
            self.unjudged_since = alive
        return judging

    def went_through(self, alive: float) -> None:
        self.last_through = alive


def route_value(extension: str, context: str) -> str:
    return f"{extension} {context}"


def parse_route(raw: str) -> tuple[str, str] | None:
    """``route_value``'s (extension, context) as read back from the channel; None for
    anything else (unset: ``_undef_``, an error, a value not ours)."""
    parts = raw.strip().split(" ")
    if len(parts) != 2 or not all(_NAME.fullmatch(p) for p in parts):
        return None
    return parts[0], parts[1]


class Housekeeper:
    """The dispatcher's once-a-tick round. ``dispatcher``: whose name, clocks, connection,
    switch API and transitions it uses; it completes visits through the dispatcher, which
    writes their records and wakes the next pass."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher
        self._orphans_seen: dict[str, float] = {}  # member -> when first seen ended, awaiting its CDR
        self.judging = Judging()

    @property
    def api(self) -> Callable[[str], str] | None:
        return self.d.api

    def beat(self) -> None:
        """Say this controller is alive; free what dead ones held; finish what outlived them."""
        d = self.d
        now, alive = d.clock(), d.wall()
        with d.own.operator() as op:
            judging = self.judging.at(d.own.connections, alive)
            store_acd.heartbeat(op.conn, d.name, alive)
            members, agents = (
                store_acd.free_the_dead(op.conn, now, DEAD_AFTER, alive_now=alive) if judging else ([], [])
            )
            orphans = [
                row
                for row in store_acd.answered_orphans(op.conn, now, DEAD_AFTER, mine=d.name, alive_now=alive)
                # Its own: only those no visit here holds (a socket that closed mid-conversation).
                if (row["controller"] != d.name and judging)
                or (row["controller"] == d.name and d.holding(str(row["uuid"])) is None)
            ]
            longest = max((q.settings.ring_timeout for q in d.queues()[0].values()), default=60)
            stale = store_acd.stale_offers(op.conn, now, longest + STALE_MARGIN)
        self.judging.went_through(alive)
        if members or agents:
            log.warning("freed what dead controllers held: callers %s, agents %s", members, agents)
        self.reconcile(orphans, now)
        self.free_stale_offers(stale, now)

    def free_stale_offers(self, stale: list[dict[str, Any]], now: float) -> None:
        """An offer older than any ring whose legs are both gone (a caller who hung up as the
        offer was made, say): the agent is free again, with no no-answer counted, and the
        caller's place, if still held, is given up. Whichever controller made the offer,
        alive or not: only the switch knows whether the call is still there."""
        if self.api is None:
            return
        try:
            up = self.existing(
                [
                    u
                    for row in stale
                    for u in (str(row["offered_member"] or ""), str(row["agent_leg"] or ""))
                    if u
                ]
            )
        except Exception as exc:
            log.debug("uuid_exists for stale offers: %s", exc)
            return
        for row in stale:
            member, leg = str(row["offered_member"] or ""), str(row["agent_leg"] or "")
            if member in up or leg in up:
                continue
            if not self.d.transitions.stale_offer_gone(row["agent_id"], member, self.d.clock()):
                continue
            log.warning("agent %s left Receiving for %s, whose call is gone: freed", row["agent_id"], member)
        self.d.kick.set()

    # --- calls that outlived their controller ------------------------------------------

    def reconcile(self, orphans: list[dict[str, Any]], now: float) -> None:
        """Answered calls whose controller is gone. Still talking: left alone. Over: the
        visit is completed here, once (one controller adopts the row; the records' ids are
        the visit's own), and a uuid-bridged caller left parked is sent on."""
        if self.api is None:
            return  # no way to ask the switch: the caller's return completes the visit
        legs = {str(row["uuid"]): str(row["agent_leg"] or "") for row in orphans}
        try:
            up = self.existing([*legs, *(leg for leg in legs.values() if leg)])
        except Exception as exc:  # the switch is unreachable: ask again next time
            log.debug("uuid_exists: %s", exc)
            return
        for row in orphans:
            member, leg = str(row["uuid"]), legs[str(row["uuid"])]
            route = None
            if member in up:
                if not leg or leg in up:
                    continue  # still talking
                route = self._parked_route(member)
                if route is None:
                    continue  # bridged by ``bridge``: the caller comes back to a controller
            with self.d.store.operator() as op:
                ended = store_acd.legs_ended(op.conn, [member, leg])
            first = self._orphans_seen.setdefault(member, now)
            if ended is None and now - first < ORPHAN_CDR_WAIT:
                continue  # its CDRs are on their way (the collector writes them at hangup)
            self._orphans_seen.pop(member, None)
            with self.d.store.operator() as op:
                if not store_acd.adopt(op.conn, member, row["controller"], self.d.name):
                    continue
            self.d.complete_answered(member, ended if ended is not None else now)
            if route is not None:
                self._send_on(member, *route)
            log.warning("queue call %s outlived its controller %s: completed", member, row["controller"])

    def _parked_route(self, member: str) -> tuple[str, str] | None:
        assert self.api is not None
        try:
            return parse_route(self.api(escape.api_command("uuid_getvar", member, ROUTE_VARIABLE)) or "")
        except Exception as exc:
            log.debug("uuid_getvar %s: %s", member, exc)
            return None

    def _send_on(self, member: str, extension: str, context: str) -> None:
        """As the visit's own controller would have after the conversation: the flow goes on
        (``fsapps_branch`` ``_``) from the queue node's route extension."""
        assert self.api is not None
        commands = [
            escape.setvar_multi_command(
                member, {"park_after_bridge": "", ROUTE_VARIABLE: "", "fsapps_branch": "_"}
            ),
            escape.api_command("uuid_transfer", member, extension, "XML", context),
        ]
        for command in commands:
            try:
                reply = (self.api(command) or "").strip()
            except Exception as exc:
                reply = f"-ERR {exc}"
            if not reply.startswith("+OK"):
                log.warning("caller %s, parked after their agent left, not sent on: %s", member, reply)
                return

    def existing(self, uuids: list[str]) -> set[str]:
        """Which of these calls the switch still has (uuid_exists). A dead controller leaves
        every call it bridged to be asked about once a tick until it ends: one pipelined
        write, not a round trip each on the connection new calls' checks also wait on."""
        api = self.api
        if not uuids or api is None:
            return set()
        commands = [escape.api_command("uuid_exists", u) for u in uuids]
        many = self.d.api_many
        replies = many(commands) if many is not None else [api(c) for c in commands]
        return {u for u, r in zip(uuids, replies, strict=True) if (r or "").strip() == "true"}
