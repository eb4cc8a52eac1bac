"""The routing core against mod_callcenter's documented behaviour (tables) and
the invariants every decision must keep (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.acd.decide import (
    Announce,
    Discard,
    Exit,
    Offer,
    candidates,
    decide,
    eligible,
    listed_by_queue,
    offer_freed,
    score,
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
AVAILABLE = AgentStatus.AVAILABLE


def agent(name: str, **kw) -> Agent:
    return Agent(name, status=kw.pop("status", AVAILABLE), **kw)


def snap(strategy="longest-idle-agent", agents=(), tiers=None, members=None, **settings_kw) -> Snapshot:
    q = Queue("sales", "acme", QueueSettings(strategy=strategy, **settings_kw))
    ags = {a.id: a for a in agents}
    tiers = tiers if tiers is not None else tuple(Tier("sales", a.id, 1, i + 1) for i, a in enumerate(agents))
    members = members if members is not None else (Member("m1", "sales", NOW - 30),)
    return Snapshot({"sales": q}, ags, tuple(tiers), tuple(members))


def offered(s: Snapshot, now: float = NOW) -> list[tuple[str, tuple[str, ...]]]:
    return [(d.member, d.agents) for d in decide(s, now) if isinstance(d, Offer)]


# --- strategies (mod_callcenter.c:2614-2690) ---------------------------------------

THREE = (
    agent("a1", last_bridge_end=NOW - 100, talk_time=500, calls_answered=9, last_offered_call=NOW - 5),
    agent("a2", last_bridge_end=NOW - 300, talk_time=900, calls_answered=2, last_offered_call=NOW - 50),
    agent("a3", last_bridge_end=NOW - 200, talk_time=100, calls_answered=5, last_offered_call=NOW - 500),
)


def test_longest_idle_agent_rings_who_has_waited_longest_since_their_last_call() -> None:
    assert offered(snap("longest-idle-agent", THREE)) == [("m1", ("a2",))]


def test_least_talk_time_and_fewest_calls() -> None:
    assert offered(snap("agent-with-least-talk-time", THREE)) == [("m1", ("a3",))]
    assert offered(snap("agent-with-fewest-calls", THREE)) == [("m1", ("a2",))]


def test_ring_all_rings_every_eligible_agent_by_level_and_position() -> None:
    tiers = (Tier("sales", "a1", 2, 1), Tier("sales", "a2", 1, 2), Tier("sales", "a3", 1, 1))
    assert offered(snap("ring-all", THREE, tiers)) == [("m1", ("a3", "a2", "a1"))]


def test_sequentially_by_agent_order_follows_level_then_position() -> None:
    tiers = (Tier("sales", "a1", 1, 3), Tier("sales", "a2", 2, 1), Tier("sales", "a3", 1, 2))
    assert offered(snap("sequentially-by-agent-order", THREE, tiers)) == [("m1", ("a3",))]


def test_top_down_continues_below_the_last_tier_tried_for_this_member() -> None:
    member = Member("m1", "sales", NOW - 30, last_tier=(1, 1))  # (position, level) of the last try
    assert offered(snap("top-down", THREE, members=(member,))) == [("m1", ("a2",))]
    fresh = Member("m1", "sales", NOW - 30)
    assert offered(snap("top-down", THREE, members=(fresh,))) == [("m1", ("a1",))]


def test_round_robin_takes_the_next_position_after_the_last_offered_and_wraps() -> None:
    s = snap("round-robin", THREE)
    assert offered(replace(s, last_offered_tier={"sales": (1, 2)})) == [("m1", ("a3",))]
    assert offered(replace(s, last_offered_tier={"sales": (1, 3)})) == [("m1", ("a1",))]


def test_random_stays_within_the_lowest_level() -> None:
    tiers = (Tier("sales", "a1", 1, 1), Tier("sales", "a2", 1, 2), Tier("sales", "a3", 2, 1))
    picks = {offered_with_seed(snap("random", THREE, tiers), k) for k in range(40)}
    assert picks == {"a1", "a2"}


def offered_with_seed(s: Snapshot, seed: int) -> str:
    (offer,) = [d for d in decide(s, NOW, seed) if isinstance(d, Offer)]
    return offer.agents[0]


def test_ring_progressively_adds_the_next_agent_after_the_delay() -> None:
    ringing = Member(
        "m1", "sales", NOW - 30, state=MemberState.TRYING, ringing=("a1",), last_originated=NOW - 4
    )
    s = snap("ring-progressively", THREE, members=(ringing,), ring_progressively_delay=10)
    assert offered(s) == []
    assert offered(s, NOW + 6) == [("m1", ("a2",))]
    waiting = Member("m1", "sales", NOW - 30)
    assert offered(snap("ring-progressively", THREE, members=(waiting,))) == [("m1", ("a1",))]


def test_skills_based_picks_the_most_proficient_then_relaxes_as_the_member_waits() -> None:
    agents = (agent("junior", skills={"fibre": 3}), agent("senior", skills={"fibre": 8}), agent("none"))
    member = Member("m1", "sales", NOW - 5, skills={"fibre": 2})
    assert offered(snap("skills-based", agents, members=(member,))) == [("m1", ("senior",))]
    busy_senior = (agents[0], replace(agents[1], state=AgentState.IN_A_QUEUE_CALL), agents[2])
    expert = Member("m1", "sales", NOW - 5, skills={"fibre": 5})
    relax = ((60, 2),)
    assert offered(snap("skills-based", busy_senior, members=(expert,), skill_relax=relax)) == []
    later = replace(expert, joined_epoch=NOW - 61)
    assert offered(snap("skills-based", busy_senior, members=(later,), skill_relax=relax)) == [
        ("m1", ("junior",))
    ]


# --- eligibility (agents_callback, l.2322-2345) --------------------------------------


def test_agents_not_ready_are_never_offered() -> None:
    cases = {
        "on break": agent("x", status=AgentStatus.ON_BREAK),
        "logged out": agent("x", status=AgentStatus.LOGGED_OUT),
        "in a call": agent("x", state=AgentState.IN_A_QUEUE_CALL),
        "wrap-up": agent("x", wrap_up_time=30, last_bridge_end=NOW - 10),
        "reject/busy/no-answer delay": agent("x", ready_time=NOW + 5),
        "external call": agent("x", external_calls_count=1),
    }
    for why, a in cases.items():
        assert offered(snap(agents=(a,))) == [], why
    assert offered(snap(agents=(agent("x", wrap_up_time=30, last_bridge_end=NOW - 31),))) == [("m1", ("x",))]
    assert offered(snap(agents=(agent("x", status=AgentStatus.AVAILABLE_ON_DEMAND),))) == [("m1", ("x",))]
    no_answer_tier = (Tier("sales", "x", state="No Answer"),)
    assert offered(snap(agents=(agent("x"),), tiers=no_answer_tier)) == [("m1", ("x",))]
    standby = (Tier("sales", "x", state="Standby"),)
    assert offered(snap(agents=(agent("x"),), tiers=standby)) == []


def test_an_agent_on_an_external_call_is_offered_only_where_the_queue_does_not_skip_them() -> None:
    """skip-agents-with-external-calls (l.584, default true; l.2341-2344): the agent on another
    call is passed over for the next one; with the setting false, offered like any other."""
    busy = agent("busy", external_calls_count=2, last_bridge_end=NOW - 90)  # idle the longest
    free = agent("free", last_bridge_end=NOW - 30)
    assert offered(snap(agents=(busy, free))) == [("m1", ("free",))]
    assert offered(snap(agents=(busy, free), skip_agents_with_external_calls=False)) == [("m1", ("busy",))]


def test_tier_rules_hold_the_member_in_the_first_level_until_the_wait() -> None:
    agents = (agent("first", state=AgentState.IN_A_QUEUE_CALL), agent("second"))
    tiers = (Tier("sales", "first", 1, 1), Tier("sales", "second", 2, 1))
    rules = {"tier_rules_apply": True, "tier_rule_wait_second": 20}
    assert (
        offered(snap(agents=agents, tiers=tiers, members=(Member("m1", "sales", NOW - 10),), **rules)) == []
    )
    assert offered(snap(agents=agents, tiers=tiers, members=(Member("m1", "sales", NOW - 25),), **rules)) == [
        ("m1", ("second",))
    ]
    multiply = {**rules, "tier_rule_wait_multiply_level": True}
    assert (
        offered(snap(agents=agents, tiers=tiers, members=(Member("m1", "sales", NOW - 25),), **multiply))
        == []
    )


def test_sticky_owner_alone_during_the_window_then_first_among_all() -> None:
    agents = (agent("mgr", state=AgentState.IN_A_QUEUE_CALL), agent("other"))
    early = Member("m1", "sales", NOW - 10, owner_agent="mgr")
    assert offered(snap(agents=agents, members=(early,), sticky_seconds=30)) == []
    late = replace(early, joined_epoch=NOW - 40)
    assert offered(snap(agents=agents, members=(late,), sticky_seconds=30)) == [("m1", ("other",))]
    free = (agent("mgr", last_bridge_end=NOW - 1), agent("other"))
    assert offered(snap(agents=free, members=(late,), sticky_seconds=30)) == [("m1", ("mgr",))]


def test_private_member_waits_for_their_agent_only() -> None:
    agents = (agent("alice", state=AgentState.IN_A_QUEUE_CALL), agent("bob"))
    private = Member("m1", "sales", NOW - 300, private_agent="alice")
    assert offered(snap(agents=agents, members=(private,))) == []


# --- leaving, announcing -----------------------------------------------------------


def test_max_wait_time_and_no_agent_exits() -> None:
    s = snap(agents=(agent("x", state=AgentState.IN_A_QUEUE_CALL),), max_wait_time=60)
    assert decide(replace(s, members=(Member("m1", "sales", NOW - 61),)), NOW) == [
        Exit("m1", "sales", "max-wait-time")
    ]
    empty = snap(
        agents=(), tiers=(), max_wait_time_with_no_agent=30, max_wait_time_with_no_agent_time_reached=5
    )
    empty = replace(empty, no_agent_since={"sales": NOW - 40})
    before = Member("m1", "sales", NOW - 50)
    after_short, after_long = Member("m2", "sales", NOW - 20), Member("m3", "sales", NOW - 36)
    exits = {d.member for d in decide(replace(empty, members=(before, after_short, after_long)), NOW)}
    assert exits == {"m1", "m3"}


def test_a_moved_member_leaves_before_any_offer_and_holds_no_place() -> None:
    moved = Member("m1", "sales", NOW - 300, moving_to="billing")
    after = Member("m2", "sales", NOW - 10)
    decisions = decide(snap(agents=(agent("x"),), members=(moved, after)), NOW)
    assert decisions[0] == Exit("m1", "sales", "moved", to="billing")
    assert [(d.member, d.agents) for d in decisions[1:] if isinstance(d, Offer)] == [("m2", ("x",))]
    ringing = replace(moved, state=MemberState.TRYING)  # rung before the note: the ring goes on
    assert not any(isinstance(d, Exit) for d in decide(snap(agents=(agent("x"),), members=(ringing,)), NOW))


def test_abandoned_members_are_discarded_after_discard_abandoned_after() -> None:
    gone = Member("m1", "sales", NOW - 100, state=MemberState.ABANDONED, abandoned_epoch=NOW - 61)
    kept = Member("m2", "sales", NOW - 100, state=MemberState.ABANDONED, abandoned_epoch=NOW - 30)
    assert decide(snap(members=(gone, kept)), NOW) == [Discard("m1", "sales")]


def test_a_shared_agent_serves_tenants_by_weight() -> None:
    """Two tenants' queues share one agent, weights 3 and 1: the heavier tenant's caller goes
    first unless the other has waited over three times as long."""
    qs = {k: Queue(k, k.split("/")[0], QueueSettings()) for k in ("shop/q", "travel/q")}
    tiers = (Tier("shop/q", "a", 1, 1), Tier("travel/q", "a", 1, 1))

    def first(shop_wait: float, travel_wait: float) -> str:
        members = (
            Member("m-shop", "shop/q", NOW - shop_wait, weight=3.0),
            Member("m-travel", "travel/q", NOW - travel_wait, weight=1.0),
        )
        got = [
            d.member
            for d in decide(Snapshot(qs, {"a": agent("a")}, tiers, members), NOW)
            if isinstance(d, Offer)
        ]
        return got[0]

    assert first(10, 10) == "m-shop"
    assert first(10, 29) == "m-shop"
    assert first(10, 31) == "m-travel"


def test_announcements_give_position_and_estimated_wait() -> None:
    busy = tuple(agent(f"a{i}", state=AgentState.IN_A_QUEUE_CALL) for i in range(2))
    members = (Member("m1", "sales", NOW - 90), Member("m2", "sales", NOW - 50, last_announce=NOW - 10))
    s = replace(snap(agents=busy, members=members, announce_frequency=30), handle_time={"sales": 120.0})
    assert decide(s, NOW) == [Announce("m1", "sales", 1, 60)]


# --- invariants --------------------------------------------------------------------

STATUSES = list(AgentStatus)
STATES = list(AgentState)


@st.composite
def snapshots(draw, homogeneous: bool = False):
    n_agents = draw(st.integers(0, 8))
    agents = []
    for i in range(n_agents):
        agents.append(
            Agent(
                f"a{i}",
                status=draw(st.sampled_from(STATUSES)),
                state=draw(st.sampled_from(STATES)),
                wrap_up_time=draw(st.integers(0, 30)),
                last_bridge_end=NOW - draw(st.integers(0, 100)),
                ready_time=NOW + draw(st.integers(-20, 20)),
                external_calls_count=draw(st.integers(0, 1)),
                skills={}
                if homogeneous
                else draw(st.dictionaries(st.sampled_from("xyz"), st.integers(1, 10), max_size=2)),
            )
        )
    queues = {
        name: Queue(name, "t", QueueSettings(strategy=draw(st.sampled_from(
            ["ring-all", "longest-idle-agent", "round-robin", "top-down", "agent-with-least-talk-time",
             "agent-with-fewest-calls", "sequentially-by-agent-order", "random", "skills-based"]))))
        for name in ("q1", "q2")
    }  # fmt: skip
    tiers = [
        Tier(q, a.id, draw(st.integers(1, 2)), draw(st.integers(1, 5)))
        for a in agents
        for q in queues
        if draw(st.booleans())
    ]
    members = [
        Member(
            f"m{i}",
            draw(st.sampled_from(sorted(queues))),
            NOW - draw(st.integers(0, 600)),
            priority=draw(st.integers(0, 3)),
            skills={}
            if homogeneous
            else draw(st.dictionaries(st.sampled_from("xyz"), st.integers(1, 10), max_size=1)),
        )
        for i in range(draw(st.integers(0, 10)))
    ]
    return Snapshot(queues, {a.id: a for a in agents}, tuple(tiers), tuple(members))


@settings(max_examples=300, deadline=None)
@given(snapshots(), st.integers(0, 5))
def test_no_agent_is_offered_two_calls_nor_offered_while_not_ready(s: Snapshot, seed: int) -> None:
    offers = [d for d in decide(s, NOW, seed) if isinstance(d, Offer)]
    agents = [a for o in offers for a in o.agents]
    assert len(agents) == len(set(agents))
    for o in offers:
        queue = s.queues[o.queue]
        for a in o.agents:
            tier = next(t for t in s.tiers if t.queue == o.queue and t.agent == a)
            assert eligible(s.agents[a], tier, queue, NOW)
            assert s.agents[a].status in (AgentStatus.AVAILABLE, AgentStatus.AVAILABLE_ON_DEMAND)
    assert len({o.member for o in offers}) == len(offers)


@settings(max_examples=300, deadline=None)
@given(snapshots(homogeneous=True), st.integers(0, 5))
def test_priority_order_holds_each_offer_goes_to_the_best_scored_member_who_could_take_it(
    s: Snapshot, seed: int
) -> None:
    """No member is passed over for one with a lower score who was offered an agent
    the first could have taken."""
    offers = {d.member: d for d in decide(s, NOW, seed) if isinstance(d, Offer)}
    for member, offer in offers.items():
        m = next(x for x in s.members if x.uuid == member)
        q = s.queues[m.queue]
        for other in s.members:
            if other.uuid in offers or other.queue != m.queue:
                continue
            if score(other, q, NOW) > score(m, q, NOW):
                # the better member was considered first: none of these agents suited them
                free = candidates(other, q, s, NOW, set(), random.Random(seed))
                assert not set(offer.agents) & set(free) or q.settings.strategy in ("random", "ring-all"), (
                    other.uuid,
                    member,
                    offer.agents,
                    free,
                )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5), st.integers(10, 120), st.integers(0, 1200), st.integers(0, 1200),
)  # fmt: skip
def test_a_normal_caller_waits_no_longer_than_the_aging_bound_behind_priority_callers(
    priority: int, aging: int, normal_wait: int, priority_wait: int
) -> None:
    """With one agent free, a normal caller who has waited more than priority x aging
    longer than a priority caller is served first: a normal caller's extra wait for
    priority traffic is bounded by priority x priority_aging."""
    normal = Member("normal", "sales", NOW - normal_wait)
    vip = Member("vip", "sales", NOW - priority_wait, priority=priority)
    s = snap(agents=(agent("a"),), members=(vip, normal), priority_aging=aging)
    winner = offered(s)[0][0]
    if normal_wait > priority_wait + priority * aging:
        assert winner == "normal"
    elif normal_wait < priority_wait + priority * aging:
        assert winner == "vip"


# --- incremental routing: an agent freed on a settled floor ------------------------


def _settle(s: Snapshot, seed: int) -> Snapshot:
    """Make every offer a pass finds real (its agents ringing, its member Trying) until a
    pass finds none: the floor as the dispatcher leaves it."""
    for _ in range(20):
        offers = [d for d in decide(s, NOW, seed) if isinstance(d, Offer)]
        if not offers:
            return s
        busy = {a for o in offers for a in o.agents}
        tried = {o.member for o in offers}
        s = replace(
            s,
            agents={k: replace(a, state=AgentState.RECEIVING) if k in busy else a for k, a in s.agents.items()},
            members=tuple(replace(m, state=MemberState.TRYING) if m.uuid in tried else m for m in s.members),
        )
    raise AssertionError("the floor did not settle")


@settings(max_examples=400, deadline=None)
@given(snapshots(), st.integers(0, 5), st.integers(0, 7))
def test_the_freed_agents_incremental_offer_is_the_full_pass_offer(s: Snapshot, seed: int, pick: int) -> None:
    s = _settle(s, seed)
    busy = sorted(k for k, a in s.agents.items() if a.state != AgentState.WAITING)
    if not busy:
        return
    freed = busy[pick % len(busy)]
    # Back from a call and ready for the next at once (else it is rarely offered anything).
    back = replace(s.agents[freed], state=AgentState.WAITING, status=AgentStatus.AVAILABLE,
                   ready_time=NOW - 1, last_bridge_end=NOW - 1000, external_calls_count=0)  # fmt: skip
    s = replace(s, agents={**s.agents, freed: back})
    full = [d for d in decide(s, NOW, seed) if isinstance(d, Offer)]
    # Only the freed agent has anything new to be offered.
    assert all(freed in o.agents for o in full), full
    assert offer_freed(s, freed, NOW, seed) == (full[0] if full else None)


@settings(max_examples=300, deadline=None)
@given(snapshots(), st.integers(0, 5), st.sampled_from([None, "a0", "a1"]), st.sampled_from([None, "a1", "a2"]))
def test_the_first_candidate_alone_is_the_first_of_the_whole_list(
    s: Snapshot, seed: int, private: str | None, owner: str | None
) -> None:
    """decide() asks for the first candidate alone where the strategy offers one agent:
    it must be the whole list's first, a private or sticky member's included."""
    taken = {a.id for a in s.agents.values() if a.state != AgentState.WAITING}
    for m in s.members:
        m = replace(m, private_agent=private, owner_agent=owner)
        q = s.queues[m.queue]
        if q.settings.strategy == "random":
            continue  # each call shuffles anew
        listed = listed_by_queue(s).get(m.queue, [])
        whole = candidates(m, q, s, NOW, taken, random.Random(seed), listed)
        first = candidates(m, q, s, NOW, taken, random.Random(seed), listed, first_only=True)
        assert first == whole[:1]
