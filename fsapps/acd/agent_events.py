"""What an offer's outcome does to the agent: pure, in mod_callcenter's terms.

Copied from outbound_agent_thread_run (mod_callcenter.c): answered and
bridged (l.2034: calls_answered + 1, no_answer_count reset), bridge ended
(l.2087: last_bridge_end, talk_time), the offer failed (l.2141-2190: the
busy/reject/no-answer delays through ready_time, no_answer_count, and the
queue's agent-no-answer-status after max-no-answer), and the agent made
available again (l.2219-2232: Idle for Available (On Demand) after a call,
else Waiting).
"""

from __future__ import annotations

from dataclasses import replace

from fsapps.acd.model import Agent, AgentState, AgentStatus, QueueSettings

BUSY = ("USER_BUSY", "NORMAL_CIRCUIT_CONGESTION")
CANCELLED = ("LOSE_RACE", "ORIGINATOR_CANCEL")  # another agent won a ring-all, or the caller left


def offered(agent: Agent, now: float) -> Agent:
    return replace(agent, state=AgentState.RECEIVING, last_offered_call=now)


def answered(agent: Agent, now: float) -> Agent:
    return replace(
        agent,
        state=AgentState.IN_A_QUEUE_CALL,
        last_bridge_start=now,
        calls_answered=agent.calls_answered + 1,
        no_answer_count=0,
    )


def call_ended(agent: Agent, now: float) -> Agent:
    """After the bridge; wrap-up then runs from last_bridge_end (the dispatch checks it)."""
    on_demand = agent.status == AgentStatus.AVAILABLE_ON_DEMAND
    return replace(
        agent,
        state=AgentState.IDLE if on_demand else AgentState.WAITING,
        last_bridge_end=now,
        talk_time=agent.talk_time + max(now - agent.last_bridge_start, 0),
    )


def offer_failed(agent: Agent, cause: str, queue: QueueSettings, now: float) -> Agent:
    """The agent's leg ended without answering, with ``cause`` (a hangup cause name)."""
    delay = 0
    status = agent.status
    no_answers = agent.no_answer_count
    if cause in CANCELLED:
        pass
    elif cause in BUSY:
        delay = agent.busy_delay_time
    elif cause == "CALL_REJECTED":
        delay = agent.reject_delay_time
    elif cause == "USER_NOT_REGISTERED":
        delay = 5  # l.2156: no fast loop over an unregistered phone
    else:
        delay = agent.no_answer_delay_time
        no_answers += 1
        if agent.max_no_answer > 0 and no_answers >= agent.max_no_answer:
            status = queue.agent_no_answer_status
    return replace(
        agent,
        state=AgentState.WAITING,
        status=status,
        no_answer_count=no_answers,
        ready_time=now + delay if delay > 0 else agent.ready_time,
    )
