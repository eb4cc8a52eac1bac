"""An offer's outcome and the agent, as mod_callcenter.c's agent thread leaves it."""

from __future__ import annotations

import pytest

from fsapps.acd.agent_events import answered, call_ended, offer_failed, offered
from fsapps.acd.decide import eligible
from fsapps.acd.model import Agent, AgentState, AgentStatus, Queue, QueueSettings, Tier

NOW = 1_000_000.0
Q = QueueSettings()


def test_answer_then_hangup_counts_the_call_and_starts_wrap_up() -> None:
    a = Agent("a", status=AgentStatus.AVAILABLE, wrap_up_time=10, no_answer_count=2)
    a = answered(offered(a, NOW), NOW + 5)
    assert (a.state, a.calls_answered, a.no_answer_count) == (AgentState.IN_A_QUEUE_CALL, 1, 0)
    a = call_ended(a, NOW + 65)
    assert (a.state, a.talk_time, a.last_bridge_end) == (AgentState.WAITING, 60, NOW + 65)
    queue, tier = Queue("q", "t", Q), Tier("q", "a")
    assert not eligible(a, tier, queue, NOW + 70)  # still wrapping up
    assert eligible(a, tier, queue, NOW + 76)


def test_on_demand_agents_go_idle_after_a_call() -> None:
    a = answered(Agent("a", status=AgentStatus.AVAILABLE_ON_DEMAND), NOW)
    assert call_ended(a, NOW + 30).state == AgentState.IDLE


@pytest.mark.parametrize(
    ("cause", "ready_in", "no_answers"),
    [
        ("USER_BUSY", 7, 0),
        ("NORMAL_CIRCUIT_CONGESTION", 7, 0),
        ("CALL_REJECTED", 11, 0),
        ("NO_ANSWER", 13, 1),
        ("ORIGINATOR_CANCEL", 0, 0),
        ("LOSE_RACE", 0, 0),
        ("USER_NOT_REGISTERED", 5, 0),
    ],
)
def test_failed_offers_delay_the_agent_by_cause(cause: str, ready_in: int, no_answers: int) -> None:
    a = Agent(
        "a", status=AgentStatus.AVAILABLE, busy_delay_time=7, reject_delay_time=11, no_answer_delay_time=13
    )
    after = offer_failed(offered(a, NOW), cause, Q, NOW)
    assert after.state == AgentState.WAITING
    assert (after.ready_time - NOW if after.ready_time else 0) == ready_in
    assert after.no_answer_count == no_answers


def test_max_no_answer_puts_the_agent_on_the_queues_no_answer_status() -> None:
    a = Agent("a", status=AgentStatus.AVAILABLE, max_no_answer=2)
    a = offer_failed(a, "NO_ANSWER", Q, NOW)
    assert a.status == AgentStatus.AVAILABLE
    a = offer_failed(a, "NO_ANSWER", Q, NOW + 30)
    assert a.status == AgentStatus.ON_BREAK
    logged_out = QueueSettings(agent_no_answer_status=AgentStatus.LOGGED_OUT)
    assert offer_failed(
        Agent("b", status="Available", max_no_answer=1), "NO_ANSWER", logged_out, NOW
    ).status == (AgentStatus.LOGGED_OUT)
