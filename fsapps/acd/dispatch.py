"""The ACD's dispatcher in a controller: runs the pure routing core whenever
something changes and hands each decision to the caller it is for.

Callers (members) wait in the controller holding their call's socket; agents
and every controller's members are in PostgreSQL. A pass reads the queues'
members and agents, runs ``decide``, and acts only for its own callers: an
offer is made real by conditional UPDATEs (fsapps.store.acd), so when two
controllers pick the same agent one wins and the other's caller waits for
the next pass. Passes run when a local caller joins or an offer ends, when
another controller NOTIFYs a change, and once a second for the clock
(announcements, timeouts, wrap-up and delays running out).

What mod_callcenter remembers between passes is in PostgreSQL too, so every
controller sees the same and a caller handed to another controller keeps it:
round-robin's last offered agent is the agents' last_offered_call, when a
queue lost its last agent their last_status_change, whom a caller's offer
rings their offered_member (all read with the agents), and on the caller's row
top-down's last tier, ring-progressively's last originate and the time the
switch answered the call (time-base-score system), read with the members. A
pass makes the same three queries whatever the strategies.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid as uuidlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

import gevent
import gevent.event
import gevent.queue
import psycopg

from fsapps.acd import accounting, timeline
from fsapps.acd.config import queue_key, split_key, tenant_queues
from fsapps.acd.decide import (
    Announce,
    Decision,
    Discard,
    Exit,
    Offer,
    Rewind,
    decide,
    last_offered_tiers,
    no_agent_since,
)
from fsapps.acd.housekeeping import Housekeeper
from fsapps.acd.model import (
    Agent,
    AgentState,
    AgentStatus,
    Member,
    MemberState,
    Queue,
    QueueSettings,
    Snapshot,
    Tier,
)
from fsapps.acd.notifier import AgentStateChanged, MemberChanged, Notifier, QueueFigures
from fsapps.acd.rowsync import Confirm, Fix, diverged
from fsapps.acd.ticket_sweep import TicketSweep
from fsapps.acd.transitions import AgentTransitions
from fsapps.acd.visit_messages import VisitSummary
from fsapps.acd.wakeup import Wakeup
from fsapps.store import acd as store_acd
from fsapps.store.db import Dedicated, Store
from fsapps.store.literals import TextArray, text_array

log = logging.getLogger("fsapps.acd")

TICK = 1.0  # seconds between passes when nothing happens
# A queue's figures (callers waiting, agents by status and state: Prometheus gauges and
# the wallboards' events) from a pass woken by a change: at most this often. Under load a
# pass runs every few milliseconds, and its figures were a few percent of the controller's
# CPU; every queue's figures also go once a tick, on a clock of their own (_run).
FIGURES_EVERY = 0.25
# A caller handed on to the next controller (their socket closed while they waited) has
# their row kept for them: syncing the rows (fsapps.acd.rowsync) leaves it alone this long,
# by which time the next controller has taken it.
HANDED_ON_KEPT = 60.0


@dataclass
class Waiter:
    """A caller waiting in this controller: their member row and their inbox of decisions."""

    member: Member
    tenant: str
    queue: str
    caller: str = ""
    caller_name: str = ""
    inbox: gevent.queue.Queue[Any] = field(default_factory=gevent.queue.Queue)
    last_announce: float = 0
    trying: bool = False
    answered: bool = False  # an agent answered: the caller talks (or talked) with them
    answer_told: bool = False  # and the database took it
    # The ring path can ring another agent while this caller's offer rings: the dispatcher
    # then hands it ring-progressively's next agent (an AgentOffer in the inbox) while
    # ``trying``. The queue application sets it for ring-progressively queues, whose ring
    # path originates each agent's leg on its own (fsapps.acd.visit); False: the next agent
    # waits until the ring ends (one bridge on the caller's channel cannot gain a leg).
    adds_legs: bool = False
    # When this caller's stages went by (fsapps.acd.timeline), None when nobody asks.
    marks: dict[str, float] | None = None
    # Called once the next pass that sees this caller has delivered its decisions;
    # ``passed``: a pass has seen them since they joined.
    after_pass: list[Callable[[], None]] = field(default_factory=list)
    passed: bool = False

    @property
    def key(self) -> str:
        return queue_key(self.tenant, self.queue)

    @property
    def may_be_offered(self) -> bool:
        """Not answered, and not ringing unless its ring path can add an agent to the ring."""
        return (not self.trying or self.adds_legs) and not self.answered


def _still(fix: Fix, w: Waiter | None, handed_on: Collection[str]) -> bool:
    """Whether ``fix`` still holds as the memory is now (``w``: the caller held, if any)."""
    if fix.kind in ("restore", "replace"):
        return w is not None
    if fix.kind == "remove":
        return w is None and fix.member not in handed_on
    if fix.kind == "end":  # the caller waits or rings again: the agent's call is over
        return w is not None and not w.answered
    return w is not None and not w.trying and not w.answered  # wait, free: their ring is over


def _held_state(w: Waiter) -> str:
    """The state a held caller's row should have."""
    if w.answered:
        return MemberState.ANSWERED
    return MemberState.TRYING if w.trying else MemberState.WAITING


@dataclass(frozen=True)
class AgentOffer:
    """An offer this controller won: ring these agents (id -> dial string)."""

    offer: Offer
    contacts: dict[str, str]
    legs: dict[str, str]  # agent -> the UUID its phone's leg gets (origination_uuid)


class Dispatcher:
    """``api``: the switch's API (the controller's inbound Event Socket), to ask whether a call
    that outlived its controller is still up, and ``api_many`` the same for many commands in
    one round trip; ``write``: where visit records go; ``notifier``: where the ACD's live
    events go (fsapps.acd.notifier; the controller's, which its metrics and streams follow);
    ``phone_calls``: how many live channels the phone a contact rings has on the switch
    (fsapps.acd.phones), for skip-agents-with-external-calls; None: unknown, none counted."""

    def __init__(self, store: Store, project: Callable[[], Any], clock: Callable[[], float],
                 name: str | None = None, *, api: Callable[[str], str] | None = None,
                 api_many: Callable[[list[str]], list[str]] | None = None,
                 write: Callable[..., Any] | None = None,
                 notifier: Notifier | None = None,
                 phone_calls: Callable[[str], int] | None = None,
                 wall: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.store = store
        self.phone_calls = phone_calls
        # The passes' and the heartbeat's own connection: under load the pool is the calls'.
        self.own = Dedicated(store.dsn)
        self.notifier = notifier if notifier is not None else Notifier()
        # Other controllers' dispatchers are woken after each change commits, not by a
        # NOTIFY inside it (fsapps.acd.wakeup: those commits queued for one lock).
        self.wakeup = Wakeup(store.dsn, store_acd.CHANNEL)
        self.transitions = AgentTransitions(store, self.notifier, wake=self.wakeup.wake)
        self.api = api
        self.api_many = api_many
        self.write = write
        self.project = project  # the checked flows, read at each pass (they can be reloaded)
        self.clock = clock
        # Liveness (heartbeats, who is dead) runs on the wall clock shared by every
        # controller's host, never on the calls' clock (an emulated one in tests, faster than
        # the wall: a brief stall of the whole process then read as a death).
        self.wall = wall
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.waiters: dict[str, Waiter] = {}
        self.kick = gevent.event.Event()
        self.handle_time: dict[str, float] = {}
        # (agent, tenant) -> weight for shared agents; they change with ops' edits, not per
        # call, so the heartbeat refreshes them rather than every pass.
        self.weights: dict[tuple[str, str], int] = {}
        # (agent, tenant) for the tiers' agents, refreshed with the heartbeat too.
        self.serving: set[tuple[str, str]] | None = None
        self._queues_for: tuple[int, dict[str, Queue], tuple[Tier, ...]] | None = None
        # Every tier's agent, and as the text[] literal each pass sends: made once per
        # project (fsapps.store.literals), not once per pass.
        self._everyone: tuple[tuple[Tier, ...], frozenset[str], TextArray] = ((), frozenset(), text_array(()))
        # The tiers' agents as last read: a pass reads only the rows changed since
        # (fsapps.store.acd.load_agent_changes); the heartbeat reads them all again, for
        # contacts and agents removed. ``_agents_for``: the ids the last full read asked for.
        self._agents: dict[str, tuple[Agent, str]] = {}
        self._agents_for: frozenset[str] = frozenset()
        self._agents_since: int | None = None
        self._greenlets: list[gevent.Greenlet] = []
        self.passes = 0
        self._figures_at: dict[str, float] = {}  # queue key -> when its figures went (monotonic)
        self.housekeeper = Housekeeper(self)
        # This controller's rows against its memory, each tick (fsapps.acd.rowsync), and
        # the callers handed on lately (forget) -> when, whose rows wait for another.
        self.rows_confirm = Confirm()
        self._handed_on: dict[str, float] = {}
        # Callers a pass told to leave (Exit) whose visit has not left yet.
        self._exiting: dict[str, Waiter] = {}
        self.ticket_sweep = TicketSweep(self.own, self.wall, notifier=self.notifier)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> Dispatcher:
        self._greenlets = [gevent.spawn(self._run), gevent.spawn(self._listen)]
        self.wakeup.start()
        return self

    def stop(self) -> None:
        gevent.killall(self._greenlets, timeout=5)
        self.wakeup.stop()
        self.own.close()

    def _run(self) -> None:
        last_beat = last_pass = last_figures = 0.0
        while True:
            woken = self.kick.wait(TICK)
            self.kick.clear()
            try:
                if time.monotonic() - last_beat >= TICK:
                    last_beat = time.monotonic()
                    self.housekeeping()
                # A change (a NOTIFY, a caller joining, an offer ending) calls for a pass only
                # when one of this controller's callers can take an offer; the others (ringing,
                # talking) are looked at once a tick, for their timeouts. Under load most
                # callers ring or talk, and most changes are other controllers' and other calls'.
                due = time.monotonic() - last_pass >= TICK
                # Every queue's figures once a tick on a clock of their own: under load passes
                # come every few ms, ``due`` never, and a pass publishes its callers' queues
                # only (at most every FIGURES_EVERY).
                figures_due = time.monotonic() - last_figures >= TICK
                if self.waiters and (due or (woken and self._someone_to_offer())):
                    last_pass = time.monotonic()
                    passed = {w.key for w in self.waiters.values()}
                    self.dispatch(figures_every=0.0 if figures_due else FIGURES_EVERY)
                    if figures_due:
                        last_figures = time.monotonic()
                        self.refresh_gauges(but=passed)  # the pass did its callers' queues
                elif figures_due:
                    last_pass = last_figures = time.monotonic()
                    self.refresh_gauges()  # nobody waits here: the metrics still follow the queues
            except (psycopg.Error, OSError) as exc:
                log.warning("ACD pass failed (%s); retrying", exc)
                gevent.sleep(0.5)
            except Exception:
                log.exception("ACD pass failed")
                gevent.sleep(0.5)

    def _someone_to_offer(self) -> bool:
        return any(w.may_be_offered for w in self.waiters.values())

    def _listen(self) -> None:
        """Other controllers' changes (a caller joined, an agent is free) wake this one."""
        while True:
            try:
                with psycopg.connect(self.store.dsn, autocommit=True) as conn:
                    if not store_acd.hold_liveness(conn, self.name):
                        log.error("another controller is named %s: its death will be seen late", self.name)
                    conn.execute(f"LISTEN {store_acd.CHANNEL}")
                    for _ in conn.notifies():
                        self.kick.set()
            except psycopg.Error as exc:
                log.warning("ACD notifications lost (%s); reconnecting", exc)
                gevent.sleep(1.0)

    def housekeeping(self) -> None:
        """The tick's round: what routing reads only now and then (shared agents' weights,
        who serves which tenant, every agent again), then the housekeeper's."""
        self._agents_since = None  # the next pass reads every agent again
        with self.own.operator() as op:
            self.weights = store_acd.tenant_weights(op.conn)
            self.serving = store_acd.serving(op.conn, self._everyone_of(self.queues()[1])[1])
        self.housekeeper.beat()
        # Read after the beat (which waits on the switch): the rows and the memory compared
        # are as near the same moment as a look can make them.
        with self.own.operator() as op:
            rows = store_acd.own_rows(op.conn, self.name)
        self.sync_rows(rows)
        self.ticket_sweep()  # overdue tickets escalated (fsapps.acd.ticket_sweep)

    def holding(self, member: str) -> Waiter | None:
        """The caller this controller holds, waiting or told to leave (Exit) but not gone yet."""
        return self.waiters.get(member) or self._exiting.get(member)

    def sync_rows(self, rows: store_acd.OwnRows) -> list[Fix]:
        """This controller's rows put back as its memory has its callers, for divergences
        seen in every tick for a while (fsapps.acd.rowsync): what a crash of PostgreSQL
        undid of its unflushed commits. Returns what was fixed."""
        now = self.wall()
        self._handed_on = {u: at for u, at in self._handed_on.items() if now - at < HANDED_ON_KEPT}
        holding = {**self._exiting, **self.waiters}
        held = {u: _held_state(w) for u, w in holding.items()}
        offered = rows.offered
        # An agent whose leg still rings for a caller held as waiting: the ring outran the
        # memory (ring-progressively's next leg as the last one ended), not a crash. Asked of
        # the switch only when there is such an agent.
        doubtful = [leg for _, member, leg in offered if leg and held.get(member) == MemberState.WAITING]
        try:
            ringing_legs = self.housekeeper.existing(doubtful)
        except Exception as exc:  # the switch unreachable: nothing freed this time
            log.debug("uuid_exists for rows to sync: %s", exc)
            ringing_legs = set(doubtful)
        ringing = {member for _, member, leg in offered if leg in ringing_legs}
        seen = diverged(
            held, rows.members, [(a, m) for a, m, _ in offered], self._handed_on, ringing,
            held_in={u: w.key for u, w in holding.items()},
            rows_in={u: queue_key(*place) for u, place in rows.queues.items()},
            talking=rows.talking,
        )  # fmt: skip
        fixes = self.rows_confirm.confirmed(seen, now)
        done = []
        for fix in sorted(fixes, key=lambda f: (f.kind, f.member, f.agent)):
            # As the memory is now: a call's greenlet may have moved on since the look (offers
            # are this greenlet's own: none is made meanwhile).
            w = self.holding(fix.member)
            if not _still(fix, w, self._handed_on):
                continue
            changed: bool | AgentStateChanged
            try:
                if fix.kind == "end":  # an agent's transition, published there
                    # The agent's call ended when the caller's visit in the queue they wait in
                    # began (a transfer): their talk time stops there, their wrap-up runs from it.
                    began = w.member.joined_epoch if w is not None else None
                    changed = self.transitions.stale_call_ended(
                        fix.member, fix.agent, self.clock(), ended=began
                    )
                else:
                    row_seen = (*rows.queues.get(fix.member, ("", "")), rows.members.get(fix.member, ""))
                    with self.own.operator() as op:
                        changed = self._put_back(op.conn, fix, w, _held_state(w) if w else "", row_seen)
            except Exception as exc:  # the others, and the tick, go on
                log.warning("ACD row %s %s not put back: %s", fix.kind, fix.member, exc)
                continue
            if isinstance(changed, AgentStateChanged):  # the floor and the event streams see them free
                self.notifier.publish(changed)
            if changed:
                done.append(fix)
        if done:
            log.warning("ACD rows put back as this controller holds its callers: %s",
                        ", ".join(f"{f.kind} {f.member}{' ' + f.agent if f.agent else ''}" for f in done))
            self.wakeup.wake()
            self.kick.set()
        return done

    def _put_back(
        self, conn: psycopg.Connection, fix: Fix, w: Waiter | None, state: str, seen: tuple[str, str, str]
    ) -> bool | AgentStateChanged:
        """Whether the row was put back; for an agent freed, the news of it. ``seen``: the
        caller's row as the look saw it (tenant, queue, state)."""
        if fix.kind in ("restore", "replace") and w is not None:
            caller = store_acd.HeldCaller(w.member, w.tenant, w.queue, w.caller, w.caller_name, state)
            if fix.kind == "replace":
                return store_acd.replace_member(conn, self.name, caller, seen)
            return store_acd.restore_member(conn, self.name, caller)
        if fix.kind == "remove":
            return store_acd.remove_own_member(conn, self.name, fix.member)
        if fix.kind == "wait":
            return store_acd.member_waits_again(conn, self.name, fix.member)
        status = store_acd.free_offered(conn, self.name, fix.agent, fix.member)
        if status is None:
            return False
        return AgentStateChanged(fix.agent, AgentState.WAITING, status, self.clock())

    def complete_answered(
        self, member: str, ended: float, agent: str = "", bridged: float = 0.0, joined: float = 0.0
    ) -> str | None:
        """The end of an answered visit whose controller is gone: the agent's call ends (wrap-up
        from ``ended``), the caller leaves the queue, the visit's records are written.
        ``agent``, who answered at ``bridged``, the caller having joined at ``joined``: as
        noted on the channel, for a row that may not say (see Transitions.complete_answered).
        Returns the agent, or None when there was no answered visit to complete."""
        row = self.transitions.complete_answered(member, ended, agent, bridged)
        if row is None:
            return None
        agent_id = row["agent_id"]
        if agent_id is not None:
            # Recorded and counted as the visit's own controller would have.
            summary = VisitSummary(
                tenant=row["tenant_id"], queue=row["queue"], call_uuid=member, caller=row["cid_number"] or "",
                outcome="answered", joined=joined or float(row["joined_epoch"]), ended=ended, agent=agent_id,
                bridged=float(row["last_bridge_start"] or row["joined_epoch"]), wrap_up=row["wrap_up"],
            )  # fmt: skip
            queue = self.queue(summary.tenant, summary.queue)
            level = (queue.settings if queue else QueueSettings()).service_level_seconds
            accounting.account(summary, level, self.write or _unwritten, self.notifier)
        self.kick.set()
        return agent_id

    # --- the queues, as the flows define them ----------------------------------------

    def queues(self) -> tuple[dict[str, Queue], tuple[Tier, ...]]:
        project = self.project()
        cached = self._queues_for
        if cached is None or cached[0] != id(project):
            queues: dict[str, Queue] = {}
            tiers: list[Tier] = []
            for tenant in project.tenants:
                data = {name: dict(q.data or {}) for name, q in tenant.queues.items()}
                q, t = tenant_queues(tenant.id, data)
                queues.update(q)
                tiers.extend(t)
            cached = self._queues_for = (id(project), queues, tuple(tiers))
        return cached[1], cached[2]

    def _everyone_of(self, all_tiers: tuple[Tier, ...]) -> tuple[frozenset[str], TextArray]:
        """Every tier's agent, and their text[] literal: made once per set of tiers."""
        made = self._everyone
        if made[0] is not all_tiers:
            everyone = frozenset(t.agent for t in all_tiers)
            made = self._everyone = (all_tiers, everyone, text_array(sorted(everyone)))
        return made[1], made[2]

    def queue(self, tenant: str, name: str) -> Queue | None:
        return self.queues()[0].get(queue_key(tenant, name))

    # --- what the callers' greenlets call ----------------------------------------------

    def join(self, w: Waiter, resume_within: float = 0, completing: bool = False) -> tuple[float, str]:
        # One statement unless an abandoned place may be resumed (a DELETE with it).
        # Routing state: committed without waiting for the WAL flush (fsapps.store.db.UNFLUSHED).
        with (
            self.store.operator(flushed=False) if resume_within > 0 else self.store.statement(flushed=False)
        ) as op:
            placed = store_acd.send_join(
                op.conn, w.member, w.tenant, w.queue, self.name, w.caller, w.caller_name,
                self.clock(), resume_within, wake=False, completing=completing,
            )  # fmt: skip
        joined, before, owner = placed()  # read once committed: one round trip (fsapps.store.db)
        self.wakeup.wake()
        # The account owner the row got (the flow's, or the CRM's for the number): a row
        # written back from memory keeps it (fsapps.acd.rowsync).
        w.member = replace(w.member, joined_epoch=joined, owner_agent=owner)
        self.waiters[w.member.uuid] = w
        self.notifier.publish(MemberChanged(w.tenant, w.queue, w.member.uuid, "joined", self.clock()))
        self.kick.set()
        return joined, before

    def take_transfer(self, w: Waiter) -> dict[str, Any] | None:
        """Where an agent's transfer sends this caller, once (fsapps.acd.operations)."""
        with self.store.statement() as op:
            return store_acd.take_transfer(op.conn, w.member.uuid, w.member.joined_epoch)

    def placed_in(self, tenant: str, member: str) -> str | None:
        """The queue where the caller has a place now (a resumed caller's), if any."""
        with self.store.statement() as op:
            return store_acd.placed_in(op.conn, tenant, member)

    def peek_transfer(self, w: Waiter) -> dict[str, Any] | None:
        """The note on this caller's row, left there (an agent's consult while it runs)."""
        with self.store.statement() as op:
            return store_acd.peek_transfer(op.conn, w.member.uuid)

    def consult_over(self, w: Waiter, leg: str) -> None:
        with self.store.statement() as op:
            store_acd.consult_step(op.conn, w.member.uuid, leg, None)

    def picked_up(self, w: Waiter, agent_ids: list[str], settings: Any, now: float) -> None:
        """Another agent took the call that rang these: back to Waiting with no no-answer
        counted (mod_callcenter's LOSE_RACE), the caller still Trying, for the picking agent."""
        self.transitions.lost_race(w.member.uuid, agent_ids, settings, now)

    def _drop(self, w: Waiter) -> None:
        # The same caller may already be on a new visit (a transfer to a queue): keep that one.
        if self.waiters.get(w.member.uuid) is w:
            del self.waiters[w.member.uuid]
        if self._exiting.get(w.member.uuid) is w:
            del self._exiting[w.member.uuid]

    def forget(self, w: Waiter) -> None:
        """The caller left this controller but not the queue: their row waits for the next one."""
        self._drop(w)
        self._handed_on[w.member.uuid] = self.wall()

    def leave(self, w: Waiter, *, abandoned: bool) -> None:
        """The caller is out of the queue; an abandoned place is kept for resuming until discarded."""
        self._drop(w)
        with self.store.statement(flushed=False) as op:  # either statement alone
            if abandoned:
                store_acd.member_state(
                    op.conn, w.member.uuid, MemberState.ABANDONED, abandoned_epoch=self.clock(), wake=False
                )
            else:
                store_acd.remove_member(op.conn, w.member.uuid, w.member.joined_epoch)
        if abandoned:
            self.wakeup.wake()
        self.kick.set()

    def answered(
        self, w: Waiter, agent_id: str, others: list[str], settings: Any, now: float
    ) -> Agent | None:
        """One agent answered: they are in a queue call; the others' legs lost the race.
        Told again after a failure (fsapps.acd.visit, RETRY_ANSWER), it is news only once."""
        # Answered in memory first: if the database fails here, the caller is still held as
        # answered (no offer is added to them, and fsapps.acd.rowsync writes their row so).
        w.answered = True
        after = self.transitions.answered(w.member.uuid, agent_id, others, settings, now)
        if w.answer_told:
            return after
        w.answer_told = True
        self.notifier.publish(MemberChanged(
            w.tenant, w.queue, w.member.uuid, "answered", now, agent=agent_id,
            wait=now - w.member.joined_epoch, number=w.caller,
        ))  # fmt: skip
        return after

    def call_ended(self, w: Waiter, agent_id: str, now: float, *, leave: bool = False) -> Agent | None:
        """The agent's queue call is over; ``leave``: the caller leaves the queue with it."""
        after = self.transitions.call_ended(
            w.member.uuid, agent_id, now, leaving=w.member.joined_epoch if leave else None
        )
        if leave:
            self._drop(w)
        self.kick.set()
        return after

    def offer_failed(
        self, w: Waiter, agent_ids: list[str], cause: str, settings: Any, now: float,
        *, still_ringing: bool = False,
    ) -> None:
        """Nobody answered: each agent into its delay (or On Break), the caller back to Waiting;
        ``still_ringing``: other agents' legs still ring for the caller, who stays Trying."""
        waits = not still_ringing and w.member.uuid in self.waiters
        self.transitions.offer_failed(w.member.uuid, agent_ids, cause, settings, now, caller_waits=waits)
        if not still_ringing:
            w.trying = False
        self.kick.set()

    def release_stale(self, member: str, cause: str, settings: Any, now: float) -> list[str]:
        """Agents a dead controller left offered to this member: free them."""
        return self.transitions.release_stale(member, cause, settings, now)

    def note_handle_time(self, key: str, seconds: float) -> None:
        """Recent handle time per queue (an exponential average) for expected waits."""
        old = self.handle_time.get(key)
        self.handle_time[key] = seconds if old is None else 0.8 * old + 0.2 * seconds

    # --- one pass ----------------------------------------------------------------------

    def refresh_gauges(self, but: Collection[str] = ()) -> None:
        """Callers waiting and agents by status for every queue (but those a pass just did),
        from the database: every controller's callers, whichever it holds itself."""
        queues, tiers = self.queues()
        keys = set(queues).difference(but)
        if keys:
            now = self.clock()
            self._gauges(self._snapshot(keys, queues, tiers, now)[0], now)

    def _snapshot(
        self, keys: set[str], queues: dict[str, Queue], all_tiers: tuple[Tier, ...], now: float
    ) -> tuple[Snapshot, dict[str, tuple[Agent, str]]]:
        tiers = tuple(t for t in all_tiers if t.queue in keys)
        # Pipelined, with no transaction around them (each statement reads a snapshot of its
        # own under READ COMMITTED in any case): the reads go out together, one round trip
        # for all of them, and no COMMIT to wait for after.
        with self.own.statement(pipelined=True) as op:
            agents_read = self._send_agents(op.conn, {t.agent for t in tiers}, self._everyone_of(all_tiers))
            members_read = store_acd.send_members(op.conn, [split_key(k) for k in keys])
            known = self.serving
            if known is None or any((t.agent, split_key(t.queue)[0]) not in known for t in tiers):
                # An agent the heartbeat has not seen serve yet: ask now (a tier naming someone
                # who does not serve the tenant asks each pass; that is a mistake check reports).
                self.serving = store_acd.serving(op.conn, self._everyone_of(all_tiers)[1])
            agents = agents_read()
            rows = members_read()
        serving = self.serving or set()
        # A tenant's YAML may name any agent id: only agents who serve the tenant are rung
        # (fsapps check reports the others where it has the roster).
        tiers = tuple(t for t in tiers if (t.agent, split_key(t.queue)[0]) in serving)
        # A member's weight: its tenant's with the queue's shared agents (the highest).
        queue_weight: dict[str, float] = {}
        for t in tiers:
            w8 = self.weights.get((t.agent, split_key(t.queue)[0]))
            if w8 is not None:
                queue_weight[t.queue] = max(queue_weight.get(t.queue, 0.0), float(w8))
        # Whom each caller's offer rings now (ring-progressively adds to them): from the
        # agents' rows already read, their queues' tiers being all an offer rings.
        ringing: dict[str, list[Agent]] = {}
        for agent, _ in agents.values():
            if agent.state == AgentState.RECEIVING and agent.offered_member:
                ringing.setdefault(agent.offered_member, []).append(agent)
        members = []
        for m, tenant, queue in rows:
            key = queue_key(tenant, queue)
            w = self.waiters.get(m.uuid)
            last = w.last_announce if w else now
            # Another controller's caller: its ring path is the queue's, as it would be here.
            q = queues.get(key)
            adds = w.adds_legs if w else (q is not None and q.settings.strategy == "ring-progressively")
            rung = tuple(
                a.id for a in sorted(ringing.get(m.uuid, ()), key=lambda a: (a.last_offered_call, a.id))
            )
            members.append(replace(
                m, queue=key, last_announce=last, weight=queue_weight.get(key, 1.0), adds_legs=adds,
                ringing=rung,
            ))  # fmt: skip
        by_id = {a: got[0] for a, got in agents.items()}
        if self.phone_calls is not None:
            # An agent free for the queues whose phone is on another call (mod_callcenter's
            # external_calls_count, l.2341): decide() passes over them where the queue says so.
            for a, agent in by_id.items():
                if agent.state == AgentState.WAITING and (n := self.phone_calls(agent.contact)):
                    by_id[a] = replace(agent, external_calls_count=n)
        present = {k: queues[k] for k in keys if k in queues}
        snap = Snapshot(
            queues=present,
            agents=by_id,
            tiers=tiers,
            members=tuple(members),
            # Both from the agents' rows already read: no query of their own.
            last_offered_tier=last_offered_tiers(tiers, by_id),
            no_agent_since=no_agent_since(present, tiers, by_id),
            handle_time=dict(self.handle_time),
        )
        return snap, agents

    def _send_agents(
        self, conn: psycopg.Connection, wanted: set[str], every: tuple[frozenset[str], TextArray]
    ) -> Callable[[], dict[str, tuple[Agent, str]]]:
        """The ``wanted`` agents as they are now: what changed since the last read, on top
        of that read (``every`` tier's agent, read again when one is new). The statement
        goes now; the function returned reads it (store_acd.send_agent_changes)."""
        everyone, literal = every
        since = self._agents_since if everyone <= self._agents_for else None
        later = store_acd.send_agent_changes(conn, literal, since)

        def read() -> dict[str, tuple[Agent, str]]:
            changed, self._agents_since = later()
            if since is None:
                self._agents, self._agents_for = changed, everyone
            else:
                self._agents.update(changed)
            known = self._agents
            return {a: known[a] for a in wanted if a in known}

        return read

    def dispatch(self, figures_every: float = 0.0) -> list[Decision]:
        """One pass; ``figures_every``: its queues' figures are published unless they went
        less than that many seconds ago."""
        self.passes += 1
        queues, all_tiers = self.queues()
        mine = {w.key for w in self.waiters.values()}
        if not mine:
            return []
        now = self.clock()
        began = time.time()  # for fsapps.acd.timeline
        seen = list(self.waiters.values())  # joined before the snapshot: this pass sees them
        snap, agents = self._snapshot(mine, queues, all_tiers, now)
        self._gauges(snap, now, figures_every)
        decisions = decide(snap, now, seed=self.passes)
        tiers = {(t.queue, t.agent): t for t in snap.tiers}
        # The offers first, all in one statement: a caller's ring waits for no other
        # decision's write, nor for another offer's round trips.
        offers = [(w, d) for d in decisions if isinstance(d, Offer) and (w := self.waiters.get(d.member))]
        self._offer_all(offers, agents, tiers)
        for w, _ in offers:
            if w.trying:
                timeline.stamp(w.marks, "pass", began)
        for d in decisions:
            w = self.waiters.get(d.member)
            if isinstance(d, Discard):
                with self.own.operator() as op:
                    store_acd.discard_abandoned(op.conn, d.member)
            elif w is None or isinstance(d, Offer):
                continue
            elif isinstance(d, Rewind):
                with self.own.operator() as op:
                    store_acd.rewind_member(op.conn, d.member)
                self.kick.set()  # the next pass starts from the top, at once
            elif isinstance(d, Announce):
                w.last_announce = now
                w.inbox.put(d)
            elif isinstance(d, Exit):
                self.waiters.pop(d.member, None)
                # Out of the passes, but their visit goes on until it leaves (a ring running
                # out first): their row is still theirs (fsapps.acd.rowsync).
                self._exiting[d.member] = w
                w.inbox.put(d)
        for w in seen:
            w.passed = True
            while w.after_pass:
                w.after_pass.pop(0)()
        return decisions

    def _offer_all(
        self,
        offers: list[tuple[Waiter, Offer]],
        agents: dict[str, tuple[Agent, str]],
        tiers: dict[tuple[str, str], Tier],
    ) -> None:
        """Make this pass's offers real, in one statement (fsapps.store.acd, a pass's
        offers): each caller gets the agents of theirs still Waiting and not being changed
        elsewhere; a caller who left or was answered meanwhile gets none and reserves nobody."""
        # While the caller's offer rings, only ring-progressively's next agent is added,
        # and only by a ring path that can add it.
        offers = [(w, d) for w, d in offers if w.may_be_offered]
        if not offers:
            return
        now = self.clock()
        plans = [
            store_acd.OfferPlan(
                w.member.uuid, {a: str(uuidlib.uuid4()) for a in d.agents},
                {a: (t.level, t.position) for a in d.agents if (t := tiers.get((d.queue, a))) is not None},
                adding=w.trying,
            )
            for w, d in offers
        ]  # fmt: skip
        # Routing state, unflushed (fsapps.store.db.UNFLUSHED); read once the pipeline has
        # synced: the statement, its COMMIT and its result in one round trip.
        with self.own.statement(flushed=False) as op:
            offered = store_acd.send_offers(op.conn, plans, self.name, now)
        reserved = offered()
        for w, d in offers:
            legs = reserved.get(w.member.uuid)
            if not legs:
                continue
            w.trying = True
            timeline.stamp(w.marks, "offered")
            for agent_id in legs:
                was = agents[agent_id][0]
                self.notifier.publish(AgentStateChanged(
                    agent_id, AgentState.RECEIVING, was.status, now, member=w.member.uuid,
                ))  # fmt: skip
            w.inbox.put(AgentOffer(replace(d, agents=tuple(legs)), {a: agents[a][1] for a in legs}, legs))

    def _gauges(self, snap: Snapshot, now: float, every: float = 0.0) -> None:
        """Each queue's figures, published (fsapps.acd.live_metrics makes gauges of them),
        but those published less than ``every`` seconds ago."""
        at = time.monotonic()
        for key in snap.queues:
            if every and at - self._figures_at.get(key, -every) < every:
                continue
            self._figures_at[key] = at
            tenant, queue = split_key(key)
            waiting = [
                m for m in snap.members if m.queue == key and m.state in (MemberState.WAITING, "Trying")
            ]
            longest = max((now - m.joined_epoch for m in waiting), default=0)
            # Every status x state, so a count that dropped to zero reads zero.
            counts = {(status.value, state.value): 0 for status in AgentStatus for state in AgentState}
            for t in snap.tiers:
                a = snap.agents.get(t.agent)
                if t.queue == key and a is not None:
                    counts[(a.status, a.state)] = counts.get((a.status, a.state), 0) + 1
            agents = tuple((str(status), str(state), n) for (status, state), n in counts.items())
            self.notifier.publish(QueueFigures(tenant, queue, len(waiting), longest, agents, now))


def _unwritten(*records: Any) -> None:
    log.warning("no record writer: %d record(s) of a completed visit not kept", len(records))
