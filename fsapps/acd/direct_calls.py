"""Agents on calls that no queue made, for the supervisor's floor.

The floor knows an agent's queue calls from the ACD's state (Receiving, In a queue
call). A call that reaches an agent's phone another way, a blind or attended transfer
from a colleague, a number that rings the phone, a call made from the phone, a
dial-out or click-to-call (fsapps.acd.operations.dial_out), leaves the agent Waiting
there. mod_callcenter does not see those calls either (it only counts them for
skip-agents-with-external-calls: fsapps.acd.phones). So the controller watches the
switch: a channel of an agent's phone (the addresses of fsapps.acd.phones) that is
answered (CHANNEL_ANSWER, which carries the channel's variables:
switch_channel.c:2767-2781) and is not a queue's offer (those carry ``fsapps_member``:
fsapps.acd.visit's ring variables) is the agent's direct call, until its
CHANNEL_HANGUP_COMPLETE. Each is noted in ``agent_direct_calls`` (the API's processes
read it there) and published as ``AgentDirectCall`` (the floor redraws at once).

``direct_call`` is the pure part: the event's fields and the agents' phones in, the
call (or None) out. ``DirectCalls`` is the adapter: one greenlet does the writes in
the order the switch sent the events, so the Event Socket reader never waits on
PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.queue
import psycopg

from fsapps.acd.housekeeping import DEAD_AFTER
from fsapps.acd.notifier import AgentDirectCall, Notifier
from fsapps.acd.phones import channel_addresses, contact_addresses
from fsapps.esl.client import Connection, InboundClient
from fsapps.store import direct_calls as store

log = logging.getLogger("fsapps.acd")

REREAD = 10.0  # seconds an agents' phones list is used before it is read again
SWEEP = 30.0  # seconds between looks for calls the switch no longer has
INBOX = 10_000  # events waiting for the writer before new ones are dropped

# What direct_call reads of a CHANNEL_ANSWER. The event carries every channel variable
# (a caller's: 150-200), each URL-encoded; decoding them all for every answered channel
# was a fifth of a loaded controller's CPU, for these eight.
READS = (
    "variable_fsapps_member", "Unique-ID", "Channel-Name", "Channel-Presence-ID", "Call-Direction",
    "Caller-Caller-ID-Number", "variable_fsapps_dial_out", "Caller-Destination-Number",
)  # fmt: skip


def answer_fields(fields: Mapping[str, str]) -> dict[str, str] | None:
    """The fields of a CHANNEL_ANSWER that ``direct_call`` reads; None for a queue's offer,
    which the ACD's state already has (the reader then hands nothing on)."""
    if fields.get("variable_fsapps_member"):
        return None
    return {name: value for name in READS if (value := fields.get(name)) is not None}


@dataclass(frozen=True)
class DirectCall:
    leg: str
    agent: str
    number: str  # the other party's
    direction: str  # seen from the agent: inbound (to their phone) | outbound (they call)


def phones_by_address(contacts: Mapping[str, str]) -> dict[str, str]:
    """{address: agent} from {agent: contact} (an address two agents share names neither)."""
    out: dict[str, str] = {}
    shared: set[str] = set()
    for agent, contact in contacts.items():
        for address in contact_addresses(contact or ""):
            if address in out and out[address] != agent:
                shared.add(address)
            out[address] = agent
    for address in shared:
        del out[address]
    return out


def direct_call(fields: Mapping[str, str], phones: Mapping[str, str]) -> DirectCall | None:
    """The agent's direct call a CHANNEL_ANSWER is, or None (not an agent's phone, or a
    queue's offer). A leg the switch rang at the phone (Call-Direction outbound) shows the
    caller in its caller ID (the transfer's and the dial-out's origination_caller_id_number);
    a call from the phone (inbound) dialled its destination number."""
    if fields.get("variable_fsapps_member"):
        return None  # a queue rang this leg: the ACD's state has it
    leg = fields.get("Unique-ID", "")
    if not leg:
        return None
    addresses = channel_addresses(fields.get("Channel-Name", ""), fields.get("Channel-Presence-ID", ""))
    agents = {phones[a] for a in addresses if a in phones}
    if len(agents) != 1:
        return None
    (agent,) = agents
    rung = fields.get("Call-Direction", "") == "outbound"
    if rung:
        number = fields.get("Caller-Caller-ID-Number", "")
        direction = "outbound" if fields.get("variable_fsapps_dial_out") == "true" else "inbound"
    else:
        number = fields.get("Caller-Destination-Number", "")
        direction = "outbound"
    return DirectCall(leg, agent, number[:64], direction)


class DirectCalls:
    """``contacts``: reads {agent: contact} (the store's); ``write(fn)`` runs ``fn(conn)`` in a
    transaction as the owner and returns what it returns; ``origin``: this controller's name
    (its rows)."""

    def __init__(self, client: InboundClient, notifier: Notifier, contacts: Callable[[], dict[str, str]],
                 write: Callable[[Callable[[psycopg.Connection[Any]], Any]], Any], origin: str,
                 clock: Callable[[], float] = time.time, sweep_every: float = SWEEP) -> None:  # fmt: skip
        self.client = client
        self.notifier = notifier
        self._contacts = contacts
        self._write = write
        self.sweep_every = sweep_every
        self.origin = origin
        self._clock = clock
        self._phones: dict[str, str] = {}
        self._read_at = -REREAD
        self.calls: dict[str, DirectCall] = {}  # leg -> the call, while it lasts
        self._inbox: gevent.queue.Queue[tuple[str, Any]] = gevent.queue.Queue(INBOX)
        self._worker: gevent.Greenlet | None = None
        self._sweeper: gevent.Greenlet | None = None
        for name in ("CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"):
            if name not in client.events:
                client.events.append(name)
        client.on("CHANNEL_ANSWER", self._on_answer)
        client.on("CHANNEL_HANGUP_COMPLETE", lambda e: self._put("hangup", e.fields.get("Unique-ID", "")))
        client.on_connect.append(lambda conn: self._put("connected", conn))

    def start(self) -> DirectCalls:
        self._worker = gevent.spawn(self._work)
        self._sweeper = gevent.spawn(self._sweep)
        return self

    def stop(self) -> None:
        for g in (self._worker, self._sweeper):
            if g is not None:
                g.kill()

    def _sweep(self) -> None:
        while True:
            gevent.sleep(self.sweep_every)  # a timer: the sweep's period, not a wait for a state
            conn = self.client.conn
            if conn is not None and conn.connected:
                self._put("connected", conn)

    def _on_answer(self, event: Any) -> None:
        fields = answer_fields(event.fields)
        if fields is not None:
            self._put("answer", fields)

    def _put(self, what: str, data: Any) -> None:
        try:
            self._inbox.put_nowait((what, data))
        except gevent.queue.Full:
            log.warning("agents' direct calls fell behind: %s dropped", what)

    def _work(self) -> None:
        while True:
            what, data = self._inbox.get()
            try:
                if what == "answer":
                    self.answered(data)
                elif what == "hangup":
                    self.ended(data)
                else:
                    self.reconcile(data)
            except Exception:
                log.exception("agents' direct calls: %s not handled", what)

    def _agents_phones(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._read_at >= REREAD:
            try:
                self._phones = phones_by_address(self._contacts())
            except Exception as exc:  # the database is down: the phones we knew stand
                log.warning("agents' phones not read: %s", exc)
            self._read_at = now
        return self._phones

    def answered(self, fields: Mapping[str, str]) -> None:
        call = direct_call(fields, self._agents_phones())
        if call is None or call.leg in self.calls:
            return
        at = self._clock()
        self.calls[call.leg] = call
        origin = self.origin
        self._write(lambda c: store.note(c, call.leg, call.agent, call.number, call.direction, at, origin))
        self.notifier.publish(
            AgentDirectCall(call.agent, "answered", call.number, call.direction, call.leg, at)
        )

    def ended(self, leg: str) -> None:
        call = self.calls.pop(leg, None)
        if call is None:
            return
        self._write(lambda c: store.forget(c, leg))
        self.notifier.publish(
            AgentDirectCall(call.agent, "ended", call.number, call.direction, call.leg, self._clock())
        )

    def reconcile(self, conn: Connection) -> None:
        """On each (re)connect, and every ``sweep_every`` seconds: calls whose channel the
        switch no longer has (their hangup came while the connection was down, or to a
        controller that died) are forgotten, and the floor told."""
        text = conn.api("show channels as json", 10.0)
        if not text.lstrip().startswith("{"):
            return
        live = {str(r.get("uuid")) for r in json.loads(text).get("rows") or [] if isinstance(r, Mapping)}
        for leg in [leg for leg in self.calls if leg not in live]:
            self.ended(leg)
        gone = self._write(lambda c: store.forget_gone(c, self.origin, sorted(live), time.time(), DEAD_AFTER))
        for agent in sorted(set(gone or ())):
            self.notifier.publish(AgentDirectCall(agent, "ended", "", "", "", self._clock()))
