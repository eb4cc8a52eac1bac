"""The routing core with the state a running controller keeps between passes, as
mod_callcenter keeps it: the queue's last offered agent (round-robin), the member's last
tier (top-down), when the last agent was added to a member's ringing
(ring-progressively), when a queue last had an agent logged in
(max-wait-time-with-no-agent). Line numbers are mod_callcenter.c's (1.10.12).

The loops below play several calls through ``decide`` and apply each offer's outcome
the way the dispatcher and the queue application store it, so an order is the one a
controller produces over successive passes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fsapps.acd.decide import (
    Exit,
    Offer,
    Rewind,
    decide,
    last_offered_tiers,
    no_agent_since,
)
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

NOW = 1_000_000.0
Q = "acme/sales"


def agents(*names: str, **kw) -> dict[str, Agent]:
    return {n: Agent(n, status=kw.get("status", AgentStatus.AVAILABLE)) for n in names}


def tiers_of(*names: str, level: int = 1) -> tuple[Tier, ...]:
    return tuple(Tier(Q, n, level, i) for i, n in enumerate(names, start=1))


def snapshot(strategy: str, ags: dict[str, Agent], tiers: tuple[Tier, ...], members: tuple[Member, ...],
             **settings) -> Snapshot:  # fmt: skip
    queue = Queue(Q, "acme", QueueSettings(strategy=strategy, **settings))
    return Snapshot(
        {Q: queue}, ags, tiers, members,
        last_offered_tier=last_offered_tiers(tiers, ags),
        no_agent_since=no_agent_since([Q], tiers, ags),
    )  # fmt: skip


def offers(decisions) -> list[Offer]:
    return [d for d in decisions if isinstance(d, Offer)]


# --- round-robin: the queue's last offered agent (l.2651-2663) ------------------------


def test_round_robin_starts_after_the_agent_most_recently_offered_a_call() -> None:
    """The subquery takes the tier of the queue's agent with the greatest
    last_offered_call > 0 (l.2655-2656), whatever queue that offer was for."""
    ags = agents("a1", "a2", "a3", "a4")
    ags["a1"] = replace(ags["a1"], last_offered_call=NOW - 40)
    ags["a2"] = replace(ags["a2"], last_offered_call=NOW - 20)
    ags["a3"] = replace(ags["a3"], last_offered_call=NOW - 30)
    tiers = tiers_of("a1", "a2", "a3", "a4")
    assert last_offered_tiers(tiers, ags) == {Q: (1, 2)}
    assert last_offered_tiers(tiers, agents("a1", "a2")) == {}  # nobody offered yet: from the top
    # Answered calls one after another: the next position each time, wrapping to the first.
    rung = []
    for k in range(6):
        now = NOW + 10 * k
        member = Member(f"m{k}", Q, now - 1)
        (offer,) = offers(decide(snapshot("round-robin", ags, tiers, (member,)), now))
        rung.append(offer.agents[0])
        ags[offer.agents[0]] = replace(ags[offer.agents[0]], last_offered_call=now)
    assert rung == ["a3", "a4", "a1", "a2", "a3", "a4"]


def test_round_robin_level_of_the_last_offered_agent_bounds_the_first_part() -> None:
    """dyn_order 1 is the last agent's level only; then every listed agent by level and
    position (l.2657-2661): after the level-2 agent, level 1 comes first again."""
    ags = agents("a1", "a2", "b1")
    ags["b1"] = replace(ags["b1"], last_offered_call=NOW - 5)
    tiers = (Tier(Q, "a1", 1, 1), Tier(Q, "a2", 1, 2), Tier(Q, "b1", 2, 1))
    (offer,) = offers(decide(snapshot("round-robin", ags, tiers, (Member("m", Q, NOW - 1),)), NOW))
    assert offer.agents == ("a1",)


# --- top-down: the member's last tier (l.2615-2650, 2436-2443, 2736-2745) ---------------


def play_top_down(ags: dict[str, Agent], tiers: tuple[Tier, ...], answers: set[str], rings: int) -> list[str]:
    """One caller; each offer rings out unless the agent is in ``answers``. The dispatcher
    stores the offered agent's tier on the member; a Rewind sets it back to (0, 0)."""
    member = Member("m", Q, NOW)
    by_agent = {t.agent: t for t in tiers}
    rung: list[str] = []
    now = NOW
    while len(rung) < rings:
        now += 1
        decisions = decide(snapshot("top-down", ags, tiers, (member,)), now)
        if any(isinstance(d, Rewind) for d in decisions):
            member = replace(member, last_tier=(0, 0))
            continue
        (offer,) = offers(decisions)
        agent = offer.agents[0]
        rung.append(agent)
        if agent in answers:
            break
        t = by_agent[agent]
        member = replace(member, last_tier=(t.position, t.level))
    return rung


def test_top_down_goes_down_the_tiers_for_one_caller_then_starts_again_from_the_top() -> None:
    """Agents who do not answer, with no delay, are free again at once: top-down still
    moves on to the next position, then past the last one starts over."""
    ags = agents("a1", "a2", "a3", "a4")
    tiers = tiers_of("a1", "a2", "a3", "a4")
    assert play_top_down(ags, tiers, {"a4"}, 10) == ["a1", "a2", "a3", "a4"]
    assert play_top_down(ags, tiers, set(), 6) == ["a1", "a2", "a3", "a4", "a1", "a2"]
    # Levels: all of level 1 by position, then level 2 (the second half of the union).
    two_levels = (Tier(Q, "a1", 1, 1), Tier(Q, "a2", 2, 1), Tier(Q, "a3", 1, 2), Tier(Q, "a4", 2, 2))
    assert play_top_down(ags, two_levels, set(), 5) == ["a1", "a3", "a2", "a4", "a1"]


def test_top_down_rewinds_only_when_nobody_is_listed_below() -> None:
    ags = agents("a1", "a2", "a3")
    tiers = tiers_of("a1", "a2", "a3")
    at_end = Member("m", Q, NOW - 5, last_tier=(3, 1))
    assert decide(snapshot("top-down", ags, tiers, (at_end,)), NOW) == [Rewind("m", Q)]
    # Below the member only logged-out agents: none listed, so it starts over too.
    out = {**ags, "a2": replace(ags["a2"], status=AgentStatus.LOGGED_OUT),
           "a3": replace(ags["a3"], status=AgentStatus.LOGGED_OUT)}  # fmt: skip
    after_first = Member("m", Q, NOW - 5, last_tier=(1, 1))
    assert decide(snapshot("top-down", out, tiers, (after_first,)), NOW) == [Rewind("m", Q)]
    # Listed below but busy: mod_callcenter found rows (agent_found, l.2297), so the member
    # waits for them and a1, free above, is not offered.
    busy = {**ags, "a2": replace(ags["a2"], state=AgentState.IN_A_QUEUE_CALL),
            "a3": replace(ags["a3"], state=AgentState.IN_A_QUEUE_CALL)}  # fmt: skip
    assert decide(snapshot("top-down", busy, tiers, (after_first,)), NOW) == []


# --- ring-progressively (l.2427-2432, 2461-2464, 2704-2716) ------------------------------


def test_ring_progressively_adds_one_agent_per_delay_while_the_others_ring() -> None:
    ags = agents("a1", "a2", "a3")
    tiers = tiers_of("a1", "a2", "a3")
    member = Member("m", Q, NOW)
    rung: list[tuple[float, str]] = []
    for step in range(25):  # a pass every second, nobody answers within the 25 s
        now = NOW + step
        got = offers(
            decide(snapshot("ring-progressively", ags, tiers, (member,), ring_progressively_delay=4), now)
        )
        for offer in got:
            (agent,) = offer.agents
            rung.append((now - NOW, agent))
            ags[agent] = replace(ags[agent], state=AgentState.RECEIVING)
            member = replace(member, state=MemberState.TRYING, ringing=(*member.ringing, agent),
                             last_originated=now)  # fmt: skip
    assert rung == [(0, "a1"), (4, "a2"), (8, "a3")]


def test_ring_progressively_delay_zero_is_ten_seconds() -> None:
    """The setting's default, 0, means 10 s (l.2479, 2518-2519)."""
    ags = {"a1": Agent("a1", AgentStatus.AVAILABLE, AgentState.RECEIVING), **agents("a2")}
    ringing = Member("m", Q, NOW - 30, state=MemberState.TRYING, ringing=("a1",), last_originated=NOW - 9)
    s = snapshot("ring-progressively", ags, tiers_of("a1", "a2"), (ringing,))
    assert offers(decide(s, NOW)) == []
    assert [o.agents for o in offers(decide(s, NOW + 1))] == [("a2",)]


def test_ring_progressively_waits_the_delay_after_the_last_originate_whatever_the_members_state() -> None:
    """The check reads cc_last_originated_call alone (l.2711): a member whose ringing
    ended before the delay still waits it out."""
    ags = agents("a1", "a2")
    back = Member("m", Q, NOW - 30, state=MemberState.WAITING, last_originated=NOW - 3)
    s = snapshot("ring-progressively", ags, tiers_of("a1", "a2"), (back,), ring_progressively_delay=5)
    assert offers(decide(s, NOW)) == []
    assert [o.agents for o in offers(decide(s, NOW + 2))] == [("a1",)]


def test_a_ringing_member_whose_ring_cannot_add_legs_holds_no_agent_from_the_next_caller() -> None:
    ags = {"a1": Agent("a1", AgentStatus.AVAILABLE, AgentState.RECEIVING), **agents("a2")}
    first = Member("m1", Q, NOW - 30, state=MemberState.TRYING, ringing=("a1",), last_originated=NOW - 20)
    second = Member("m2", Q, NOW - 10)
    tiers = tiers_of("a1", "a2")
    can = snapshot("ring-progressively", ags, tiers, (first, second))
    assert [(o.member, o.agents) for o in offers(decide(can, NOW))] == [("m1", ("a2",))]
    cannot = replace(can, members=(replace(first, adds_legs=False), second))
    assert [(o.member, o.agents) for o in offers(decide(cannot, NOW))] == [("m2", ("a2",))]


# --- max-wait-time-with-no-agent (l.2888-2903) -------------------------------------------


def test_no_agent_since_is_the_last_logout_of_a_queue_with_nobody_listed() -> None:
    tiers = tiers_of("a1", "a2")
    gone = {
        "a1": Agent("a1", AgentStatus.LOGGED_OUT, last_status_change=NOW - 50),
        "a2": Agent("a2", AgentStatus.LOGGED_OUT, last_status_change=NOW - 20),
    }
    assert no_agent_since([Q], tiers, gone) == {Q: NOW - 20}
    # On Break is listed by the dispatch query (l.2664): the queue has an agent.
    resting = {**gone, "a2": replace(gone["a2"], status=AgentStatus.ON_BREAK)}
    assert no_agent_since([Q], tiers, resting) == {}
    never = {n: Agent(n) for n in ("a1", "a2")}
    assert no_agent_since([Q], tiers, never) == {Q: 0.0}  # last_agent_exist starts at 0 (l.770)
    assert no_agent_since([Q], (), {}) == {Q: 0.0}  # no tiers at all


@pytest.mark.parametrize(
    ("since", "waited", "reached", "leaves"),
    [
        # (seconds the queue has had no agent, the member's wait, time-reached, exit?)
        (20, 100, 5, False),  # not yet max-wait-time-with-no-agent (30) without agents
        (31, 33, 5, False),  # long enough without agents, but the member waited < 30 + 5
        (31, 35, 5, True),
        (40, 1, 0, True),  # time-reached 0: out at once, however recently they joined
        (None, 1000, 5, False),  # an agent is logged in
    ],
)
def test_max_wait_time_with_no_agent_and_time_reached(
    since: float | None, waited: float, reached: int, leaves: bool
) -> None:
    s = Snapshot(
        {Q: Queue(Q, "acme", QueueSettings(max_wait_time_with_no_agent=30,
                                           max_wait_time_with_no_agent_time_reached=reached))},
        {}, (), (Member("m", Q, NOW - waited),),
        no_agent_since={} if since is None else {Q: NOW - since},
    )  # fmt: skip
    assert (decide(s, NOW) == [Exit("m", Q, "max-wait-time-with-no-agent")]) is leaves
