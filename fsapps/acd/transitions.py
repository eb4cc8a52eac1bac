"""Agents' state transitions, applied: what an offer's outcome, an answer or the end of
a call does to the agents concerned.

Each transition is mod_callcenter's (fsapps.acd.agent_events, pure), written through the
ACD repository (fsapps.store.acd) in one transaction with the caller's row where it
changes too, then published (fsapps.acd.notifier). The dispatcher and the queue visits
change agents' states only through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsapps.acd import agent_events
from fsapps.acd.model import Agent, AgentState, MemberState, QueueSettings
from fsapps.acd.notifier import AgentStateChanged, Notifier
from fsapps.store import acd as store_acd
from fsapps.store.db import Store


class AgentTransitions:
    """``wake``: wakes every controller's dispatcher once a transition has committed
    (fsapps.acd.wakeup); None: the transition's transaction NOTIFYs them itself."""

    def __init__(self, store: Store, notifier: Notifier, wake: Callable[[], None] | None = None) -> None:
        self.store = store
        self.notifier = notifier
        self._wake = wake
        self.notifies = wake is None  # the NOTIFY inside the transactions

    def _woken(self, changed: bool = True) -> None:
        """After the commit: the wake-up the transaction did not send itself."""
        if changed and self._wake is not None:
            self._wake()

    def lost_race(self, member: str, agent_ids: list[str], settings: Any, now: float) -> None:
        """Another agent took the call that rang these: back to Waiting with no no-answer
        counted (mod_callcenter's LOSE_RACE); the caller's row is left as it is."""
        changed = []
        # The read, then the writes with the COMMIT; routing state (fsapps.store.db.UNFLUSHED).
        with self.store.operator(pipelined=True, flushed=False) as op:
            for agent_id, (agent, _) in store_acd.load_agents(op.conn, agent_ids).items():
                after = agent_events.offer_failed(agent, "LOSE_RACE", settings, now)
                store_acd.release(op.conn, agent_id, member, _fields(after, agent), wake=False, read=False)
                changed.append(after)
            if changed and self.notifies:
                store_acd.notify(op.conn)  # once for all of them
        self._woken(bool(changed))
        self._published(changed, now)

    def answered(
        self, member: str, agent_id: str, others: list[str], settings: Any, now: float
    ) -> Agent | None:
        """One agent answered: they are in a queue call, the caller Answered; the others rung
        with them lost the race. Told again (the visit's retry after a failure that may have
        come after the COMMIT), it changes nothing already done."""
        losers = []
        # Pipelined: the read, then every write with the COMMIT in one round trip.
        with self.store.operator(pipelined=True, flushed=False) as op:
            agents = store_acd.load_agents(op.conn, [agent_id, *others])
            got = agents.get(agent_id)
            # Only an agent on this caller's offer answers it (release changes no other).
            on_offer = got[0] if got is not None and got[0].offered_member == member else None
            told = on_offer is not None and on_offer.state == AgentState.IN_A_QUEUE_CALL
            after = on_offer if told or on_offer is None else agent_events.answered(on_offer, now)
            # An agent in a call and a caller answered free nobody: only the losers wake the
            # dispatchers, once.
            if after is not None and not told:
                store_acd.release(op.conn, agent_id, member, _fields(after), wake=False, read=False)
            for other in others:
                if other in agents and agents[other][0].offered_member == member:
                    lost = agent_events.offer_failed(agents[other][0], "LOSE_RACE", settings, now)
                    store_acd.release(op.conn, other, member, _fields(lost, agents[other][0]), wake=False,
                                      read=False)  # fmt: skip
                    losers.append(lost)
            store_acd.member_state(op.conn, member, MemberState.ANSWERED, wake=bool(losers) and self.notifies)
        self._woken(bool(losers))
        if after is not None:
            self._published([after], now, member)
        self._published(losers, now)
        return after

    def call_ended(
        self, member: str, agent_id: str, now: float, *, leaving: float | None = None
    ) -> Agent | None:
        """The agent's queue call is over: wrap-up from ``now``. ``leaving``: the caller's
        visit (its joined_epoch) leaves the queue in the same transaction."""
        after = None
        # The read, then the writes and COMMIT at once; routing state (fsapps.store.db.UNFLUSHED).
        with self.store.operator(pipelined=True, flushed=False) as op:
            got = store_acd.load_agents(op.conn, [agent_id]).get(agent_id)
            if got is not None:
                after = agent_events.call_ended(got[0], now)
                store_acd.release(op.conn, agent_id, member, _fields(after), wake=self.notifies, read=False)
            # The agent first, then the caller's row: the order every transaction on both takes.
            if leaving is not None:
                store_acd.remove_member(op.conn, member, leaving)
        self._woken(got is not None)
        if after is None:
            return None
        self._published([after], now)
        return after

    def offer_failed(
        self, member: str, agent_ids: list[str], cause: str, settings: Any, now: float,
        *, caller_waits: bool,
    ) -> None:  # fmt: skip
        """Nobody answered: each agent into its delay (or On Break); ``caller_waits``: the
        caller's row back to Waiting."""
        changed = []
        # Pipelined: a no-answer is every unanswered ring, and under load its read-then-write
        # took a round trip per agent; now the read, then the writes with the COMMIT.
        with self.store.operator(pipelined=True, flushed=False) as op:
            agents = store_acd.load_agents(op.conn, agent_ids)
            for agent_id in agent_ids:
                if agent_id in agents:
                    before = agents[agent_id][0]
                    after = agent_events.offer_failed(before, cause, settings, now)
                    store_acd.release(op.conn, agent_id, member, _fields(after, before), wake=False,
                                      read=False)  # fmt: skip
                    changed.append(after)
            if caller_waits:
                # And the NOTIFY, once.
                store_acd.member_state(op.conn, member, MemberState.WAITING, wake=self.notifies)
            elif changed and self.notifies:
                store_acd.notify(op.conn)
        self._woken(caller_waits or bool(changed))
        self._published(changed, now)

    def release_stale(self, member: str, cause: str, settings: Any, now: float) -> list[str]:
        """Agents another controller left offered to (or talking with) this caller: freed."""
        changed = []
        with self.store.operator() as op:
            ids = store_acd.offered_to(op.conn, member)
            for agent_id, (agent, _) in store_acd.load_agents(op.conn, ids).items():
                if agent.state == AgentState.IN_A_QUEUE_CALL:
                    after = agent_events.call_ended(agent, now)
                else:
                    after = agent_events.offer_failed(agent, cause, settings, now)
                store_acd.release(op.conn, agent_id, member, _fields(after, agent), wake=False)
                changed.append(after)
            if changed and self.notifies:
                store_acd.notify(op.conn)
        self._woken(bool(changed))
        self._published(changed, now)
        return ids

    def stale_offer_gone(self, agent_id: str, member: str, now: float) -> bool:
        """An offer whose legs are both gone: the agent free again with no no-answer counted,
        the caller's place, if still held, given up. False: no such agent."""
        with self.store.operator() as op:
            got = store_acd.load_agents(op.conn, [agent_id]).get(agent_id)
            if got is None:
                return False
            after = agent_events.offer_failed(got[0], "ORIGINATOR_CANCEL", QueueSettings(), now)
            fields = _fields(after, got[0])
            released = store_acd.release(op.conn, agent_id, member, fields, wake=self.notifies)
            if released and member:
                store_acd.member_state(
                    op.conn, member, MemberState.ABANDONED, abandoned_epoch=now, wake=False
                )
        self._woken(released)
        self._published([after], now)
        return True

    def stale_call_ended(self, member: str, agent_id: str, now: float, *, ended: float | None = None) -> bool:
        """An agent still In a queue call with a caller who is waiting in a queue again (the
        end of their call undone by a crash of PostgreSQL, fsapps.acd.rowsync): the call
        ends at ``ended`` (when the caller's visit there began) if that is within the call,
        else at ``now``; wrap-up runs from then. False: the agent is not in that call any more."""
        with self.store.operator() as op:
            got = store_acd.load_agents(op.conn, [agent_id]).get(agent_id)
            if got is None or got[0].state != AgentState.IN_A_QUEUE_CALL or got[0].offered_member != member:
                return False
            end = ended if ended is not None and got[0].last_bridge_start <= ended <= now else now
            after = agent_events.call_ended(got[0], end)
            released = store_acd.release(op.conn, agent_id, member, _fields(after), wake=self.notifies)
        self._woken(released)
        if released:
            self._published([after], now)
        return released

    def complete_answered(
        self, member: str, ended: float, agent: str = "", bridged: float = 0.0
    ) -> dict[str, Any] | None:
        """An answered visit whose controller is gone: the agent's call ends (wrap-up from
        ``ended``) and the caller leaves the queue. Returns the caller's row (None: no
        answered visit to complete), with the agent's ``wrap_up`` seconds.

        ``agent``, who answered at ``bridged``, as the channel noted it: a row naming no agent
        in a call with the caller is one whose answer was never written (the database failed
        as the agent answered). That agent, still on the caller's offer, answers and ends the
        call here, and the others rung with them lost the race; one who has moved on since
        (freed, maybe in another call) is left as they are. Either way the visit is theirs."""
        changed = []
        wrap_up = 0.0
        with self.store.operator() as op:
            row = store_acd.answered_member(op.conn, member)
            if row is None:
                return None
            agent_id = row["agent_id"]
            if agent_id is None and agent and store_acd.serves(op.conn, agent, row["tenant_id"]):
                row = {**row, "agent_id": agent, "last_bridge_start": bridged or None}
                rung = store_acd.load_agents(op.conn, store_acd.offered_to(op.conn, member))
                for other, (offered, _) in sorted(rung.items()):
                    if not _on(offered, AgentState.RECEIVING, member):
                        continue
                    if other == agent:
                        talked = agent_events.answered(offered, bridged or ended)
                        after = agent_events.call_ended(talked, ended)
                        wrap_up = float(after.wrap_up_time)
                    else:
                        after = agent_events.offer_failed(offered, "LOSE_RACE", QueueSettings(), ended)
                    store_acd.release(op.conn, other, member, _fields(after, offered), wake=self.notifies)
                    changed.append(after)
            elif agent_id is not None:
                got = store_acd.load_agents(op.conn, [agent_id]).get(agent_id)
                if got is not None:
                    after = agent_events.call_ended(got[0], ended)
                    store_acd.release(op.conn, agent_id, member, _fields(after), wake=self.notifies)
                    changed.append(after)
                    wrap_up = float(after.wrap_up_time)
            store_acd.remove_member(op.conn, member)
        self._woken(bool(changed))
        self._published(changed, ended)
        return {**dict(row), "wrap_up": wrap_up}

    def _published(self, agents: list[Agent], at: float, member: str = "") -> None:
        for agent in agents:
            self.notifier.publish(AgentStateChanged(agent.id, agent.state, agent.status, at, member=member))


def _on(agent: Agent, state: AgentState, member: str) -> bool:
    """The agent is in ``state`` for ``member``'s call."""
    return agent.state == state and agent.offered_member == member


def _fields(agent: Agent, before: Agent | None = None) -> dict[str, Any]:
    """The columns an offer's outcome sets. The status only when the outcome changed it
    (max-no-answer): a supervisor's or the agent's own change made meanwhile stands."""
    status = {"status": agent.status} if before is not None and agent.status != before.status else {}
    return {
        **status, "state": agent.state, "ready_time": agent.ready_time,
        "no_answer_count": agent.no_answer_count, "last_bridge_start": agent.last_bridge_start,
        "last_bridge_end": agent.last_bridge_end, "calls_answered": agent.calls_answered,
        "talk_time": agent.talk_time,
    }  # fmt: skip
